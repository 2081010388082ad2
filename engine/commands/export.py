"""``deepwire export``: a network out to files.

``deepwire export FILE --format FORMAT [--network NAME] [--weights W] -o PATH`` writes
one network of the project (default its main one: ``model``, a GAN's generator, or the
first) as weights (safetensors, pt), ONNX, a torch.export program or a plain PyTorch
folder. ``W`` may be a GAN run's weights (keys ``<network name>.<param>``): the network
takes its part. Weights that do not fit end in one sentence and exit 2; a read-only
target is never replaced. Its stages (capturing the graph, translating it to ONNX...) are
shown on stderr while they run (``engine.progress_console``).
(``deepwire import`` is in ``engine.commands.importing``.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine import project as project_file
from engine.cli import EXIT_BAD_INPUT, EXIT_OK
from engine.progress_console import ConsoleProgress


def register(commands) -> None:
    """Add ``export`` to the ``deepwire`` parser."""
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
    export.add_argument(
        "--network", help="which network of the project (default: model, or a GAN's generator)"
    )
    export.add_argument("--seed", type=int, default=0, help="seed of fresh weights (default 0)")
    export.add_argument("--class-name", default="Model", help="class name in model.py (python)")
    export.set_defaults(func=run_export)


def run_export(args) -> int:
    """Export one network of a project; exit 2 on unusable weights."""
    from engine.export import SUFFIXES, ExportError, check_format, export
    from engine.export.train_script import CORE_FOLDER
    from engine.weights import WeightsError

    try:
        fmt = check_format(args.format)
    except ExportError as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    proj, network = project_network(args)
    output = args.output or str(Path(args.file).with_suffix(SUFFIXES.get(fmt, "")))
    if args.output is None and fmt == "python":
        output = str(Path(args.file).with_suffix("")) + "_python"
    progress = ConsoleProgress()
    try:
        result = export(
            network, fmt, output, args.weights, seed=args.seed, class_name=args.class_name,
            project=proj, base_dir=Path(args.file).parent, progress=progress,
        )  # fmt: skip
    except (WeightsError, ExportError) as error:
        result, failure = None, error
    finally:
        progress.close()  # its line is gone before anything else is printed
    if result is None:
        print(f"deepwire: {failure}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if result.fresh_weights:
        print(
            f"note: no --weights given, so {output} holds fresh initial weights (seed "
            f"{result.seed}); train the network first to export what it learned",
            file=sys.stderr,
        )
    core = [path for path in result.files if path.parent.name == CORE_FOLDER]
    for path in result.files:
        if path not in core:
            print(f"wrote {path}")
    if core:
        print(f"wrote {core[0].parent}{os.sep} (Deepwire's training code, {len(core)} files)")
    return EXIT_OK


def project_network(args):
    """The project of ``args.file`` and the network ``args.network`` names (default its
    main one, ``main_network``); ProjectError when the project has no such network."""
    proj = project_file.load(args.file)
    if args.network is None:
        return proj, main_network(proj)
    if args.network not in proj.networks:
        known = ", ".join(proj.networks)
        raise project_file.ProjectError(
            f"{args.file}: there is no network {args.network!r} (it has: {known})"
        )
    return proj, proj.networks[args.network]


def main_network(proj):
    """The network exported by default: a GAN's generator, else the project's main one."""
    roles = project_file.adversarial_networks(proj.training)
    if roles and roles["generator"] in proj.networks:
        return proj.networks[roles["generator"]]
    return proj.network
