"""``deepwire inspect``: a picture of every node's output for one sample.

``deepwire inspect FILE --weights W --sample N -o DIR [--part validation|train]
[--network NAME]`` runs sample N of the project's data (the validation part unless
``--part train``) through the network and writes into DIR one PNG per node, named after
the node (``conv1.png``; a block with several outputs: ``stem.out1.png``), and
``nodes.csv`` (node, port, shape, mean, std, min, max, zero_fraction). Without
``--weights`` the network has fresh random weights (what the shapes mean before
training); a network whose Input does not take the data (a GAN's generator, a project
without data) gets a made-up sample drawn from seed N. Everything is checked before the
first file is written, and each file is written whole or not at all.

For a classifier given ``--weights``, DIR also gets ``mistakes.csv`` (every validation
sample it gets wrong, the most confident first) and ``per_class.csv`` (each class's
count, correct answers and accuracy): ``engine.insight.mistakes``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cli import EXIT_BAD_INPUT, EXIT_OK
from engine.errors import DataError

NODE_COLUMNS = ("node", "port", "shape", "mean", "std", "min", "max", "zero_fraction")
PICTURE_SIDE = 256  # pixels a small picture is enlarged to, about


def register(commands) -> None:
    """Add ``inspect`` to the ``deepwire`` parser."""
    inspect = commands.add_parser(
        "inspect", help="one picture per node of its output for one sample, and nodes.csv"
    )
    inspect.add_argument("file", help="a .dwire project")
    inspect.add_argument("--weights", help="trained weights: .safetensors or a .pt state_dict")
    inspect.add_argument("--sample", type=int, default=0, help="which sample, from 0 (default 0)")
    inspect.add_argument(
        "--part", choices=("validation", "train"), default="validation",
        help="the part of the data the sample is taken from (default validation)",
    )  # fmt: skip
    inspect.add_argument(
        "--network", help="which network of the project (default: model, or a GAN's generator)"
    )
    inspect.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write")
    inspect.set_defaults(func=run_inspect)


def run_inspect(args) -> int:
    """Write the pictures and nodes.csv; exit 2 on a sample, weights or folder that
    cannot be used."""
    from engine.weights import WeightsError

    try:
        proj, network, probe = _probe(args)
        sample, said = _sample(args, proj, network)
        outputs = probe.run(sample)
        report = _mistakes(args, proj, network)
        out = _folder(Path(args.output))
    except (WeightsError, DataError) as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.weights is None:
        print("note: no --weights given, so the pictures show fresh random weights (seed 0)",
              file=sys.stderr)  # fmt: skip
    print(said, file=sys.stderr)
    names = write_pictures(outputs, out)
    write_nodes_csv(outputs, out / "nodes.csv")
    print(f"wrote {len(names)} pictures and nodes.csv to {out}")
    if report is not None:
        from engine.insight.mistakes import write_mistakes_csv, write_per_class_csv

        write_mistakes_csv(report, out / "mistakes.csv")
        write_per_class_csv(report, out / "per_class.csv")
        wrong = report.total - report.correct
        print(f"wrote mistakes.csv ({wrong} of {report.total} {report.part} samples wrong) "
              f"and per_class.csv to {out}")  # fmt: skip
    return EXIT_OK


def _mistakes(args, proj, network):
    """The mistakes of the project's classifier on its validation part with
    ``--weights``; None (with a note saying why, when it is not a classifier) else."""
    from engine.errors import DeepwireError
    from engine.insight.mistakes import project_mistakes
    from engine.training.recipes import main_network

    if args.weights is None or proj.dataset is None or network is not main_network(
            proj.networks):  # fmt: skip
        return None
    try:
        return project_mistakes(proj, args.weights, Path(args.file).resolve().parent)
    except DeepwireError as error:
        print(f"note: no mistakes.csv: {error}", file=sys.stderr)
        return None


def _probe(args):
    """The project, the network and a Probe on the weights ``--weights`` names (fresh
    ones without)."""
    from engine.commands.export import project_network
    from engine.insight.probe import Probe
    from engine.weights import network_weights, read_weights

    proj, network = project_network(args)
    probe = Probe(network)
    if args.weights is None:
        return proj, network, probe
    state = network_weights(read_weights(args.weights), network.name)
    probe.load_state(state, Path(args.weights).name)
    return proj, network, probe


def _sample(args, proj, network) -> tuple[dict, str]:
    """The inputs for sample ``--sample`` and a line saying where it came from."""
    from engine.data import load_dataset
    from engine.insight.samples import dataset_sample, example_sample, takes_data

    base_dir = Path(args.file).resolve().parent
    dataset = load_dataset(proj.dataset, base_dir) if proj.dataset is not None else None
    if dataset is not None and takes_data(network, dataset):
        sample = dataset_sample(proj, args.sample, args.part, network=network, dataset=dataset)
        return sample, f"sample {args.sample} of the {args.part} part of {dataset.name}"
    if args.sample < 0:
        raise DataError(f"--sample must be 0 or more, not {args.sample}")
    why = "the project has no data" if dataset is None else f"it does not take {dataset.name}"
    return example_sample(network, args.sample), (
        f"note: {network.name!r} gets a made-up sample (seed {args.sample}): {why}"
    )


def _folder(folder: Path) -> Path:
    """Create ``folder``; DataError in one sentence when that is not possible."""
    from engine.file_access import cannot_write_in

    reason = cannot_write_in(folder)
    if reason:
        raise DataError(
            f"cannot write the pictures to {folder} ({reason}); choose another folder with -o"
        )
    return folder


def picture_names(outputs) -> dict[tuple[str, str], str]:
    """A file name per ``(node, port)``: the node id, with the port when the node has
    several (``stem.out1.png``)."""
    ports: dict[str, int] = {}
    for node_id, _ in outputs:
        ports[node_id] = ports.get(node_id, 0) + 1
    return {
        (node_id, port): f"{node_id}.{port}.png" if ports[node_id] > 1 else f"{node_id}.png"
        for node_id, port in outputs
    }


def write_pictures(outputs, folder: Path) -> list[str]:
    """One PNG per node output into ``folder``; returns the file names."""
    from engine.insight.render import enlarge, picture, write_png

    names = picture_names(outputs)
    for key, output in outputs.items():
        array = enlarge(picture(output.tensor, kind=output.kind), PICTURE_SIDE)
        write_png(array, folder / names[key])
    return list(names.values())


def write_nodes_csv(outputs, path: Path) -> None:
    """``nodes.csv``: each node output's shape and statistics."""
    from engine.project import write_atomic
    from engine.training.callbacks import csv_bytes

    rows = [
        {"node": output.node_id, "port": output.port, **output.stats.as_row()}
        for output in outputs.values()
    ]
    write_atomic(path, csv_bytes(NODE_COLUMNS, rows))


__all__ = ["picture_names", "register", "run_inspect"]
