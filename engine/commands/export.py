"""``deepwire export`` and ``deepwire import``: a network out to files, a PyTorch model in.

``deepwire export FILE --format FORMAT [--weights W] -o PATH`` writes the weights
(safetensors, pt), ONNX, a torch.export program or a plain PyTorch folder;
``deepwire import model.py:Net --input-shape 1,28,28 -o net.dwire`` turns a PyTorch
model into a project. Weights and models that do not fit end in one sentence and exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine import project as project_file
from engine.cli import EXIT_BAD_INPUT, EXIT_OK


def register(commands) -> None:
    """Add ``export`` and ``import`` to the ``deepwire`` parser."""
    from engine.export import FORMATS

    export = commands.add_parser(
        "export", help="write weights, ONNX, a torch.export program or a PyTorch folder"
    )
    export.add_argument("file", help="a .dwire project")
    export.add_argument(
        "--format", "-f", required=True, metavar="FORMAT", help=f"one of {', '.join(FORMATS)}"
    )
    export.add_argument("-o", "--output", help="file (folder for python) to write")
    export.add_argument("--weights", help="trained weights: .safetensors or a .pt state_dict")
    export.add_argument("--network", help="which network of the project (default: model)")
    export.add_argument("--seed", type=int, default=0, help="seed of fresh weights (default 0)")
    export.add_argument("--class-name", default="Model", help="class name in model.py (python)")
    export.set_defaults(func=run_export)

    imp = commands.add_parser("import", help="turn a PyTorch model into a .dwire project")
    imp.add_argument("model", help="file.py:ClassName or package.module:ClassName")
    imp.add_argument("-o", "--output", required=True, help="the .dwire project to write")
    imp.add_argument(
        "--input-shape",
        action="append",
        metavar="[NAME=]SIZES",
        help="shape of one sample of an input, without the batch, e.g. 1,28,28 or x=1,28,28; "
        "repeat for several inputs",
    )
    imp.add_argument("--load-weights", help="the model's own state_dict to import with it")
    imp.add_argument("--weights-out", help="also write the weights as .safetensors, for export")
    imp.add_argument("--name", default="model", help="the network's name (default: model)")
    imp.set_defaults(func=run_import)


def run_export(args) -> int:
    """Export one network of a project; exit 2 on unusable weights."""
    from engine.export import SUFFIXES, ExportError, check_format, export
    from engine.weights import WeightsError

    try:
        fmt = check_format(args.format)
    except ExportError as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    proj, network = _project_network(args)
    output = args.output or str(Path(args.file).with_suffix(SUFFIXES.get(fmt, "")))
    if args.output is None and fmt == "python":
        output = str(Path(args.file).with_suffix("")) + "_python"
    try:
        result = export(
            network, fmt, output, args.weights, seed=args.seed, class_name=args.class_name,
            project=proj if network is proj.network else None, base_dir=Path(args.file).parent,
        )  # fmt: skip
    except (WeightsError, ExportError) as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if result.fresh_weights:
        print(
            f"note: no --weights given, so {output} holds fresh initial weights (seed "
            f"{result.seed}); train the network first to export what it learned",
            file=sys.stderr,
        )
    for path in result.files:
        print(f"wrote {path}")
    return EXIT_OK


def run_import(args) -> int:
    """Import a PyTorch model and save it as a project; exit 2 if it cannot be imported."""
    from engine.importer import ImportModelError, import_model
    from engine.weights import WeightsError, save_weights

    try:
        shapes = _input_shapes(args.input_shape)
        result = import_model(
            args.model, input_shapes=shapes, name=args.name, model_weights=args.load_weights
        )
    except (ImportModelError, WeightsError) as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    proj = project_file.Project(networks={args.name: result.network})
    project_file.save(proj, args.output)
    print(f"imported {result.class_name}: {len(result.network)} nodes -> {args.output}")
    if args.weights_out:
        save_weights(result.weights, args.weights_out)
        print(f"wrote {args.weights_out}")
    return EXIT_OK


def _input_shapes(values: list[str] | None):
    """``["1,28,28"]`` -> ``[(1, 28, 28)]``; ``["x=4", "y=2,3"]`` -> a dict by name."""
    from engine.importer import ImportModelError

    if not values:
        return None
    named, ordered = {}, []
    for value in values:
        name, _, sizes = value.rpartition("=")
        try:
            shape = tuple(int(s) for s in sizes.replace("x", ",").split(",") if s.strip())
        except ValueError:
            shape = ()
        if not shape or any(s < 1 for s in shape):
            raise ImportModelError(
                f"--input-shape {value!r}: give positive sizes separated by commas, e.g. 1,28,28"
            )
        if name:
            named[name.strip()] = shape
        else:
            ordered.append(shape)
    if named and ordered:
        raise ImportModelError("--input-shape: name every input (x=1,28,28) or none of them")
    return named or ordered


def _project_network(args):
    proj = project_file.load(args.file)
    if args.network is None:
        return proj, proj.network
    if args.network not in proj.networks:
        known = ", ".join(proj.networks)
        raise project_file.ProjectError(
            f"{args.file}: there is no network {args.network!r} (it has: {known})"
        )
    return proj, proj.networks[args.network]
