"""``deepwire validate``, ``summary`` and ``code``: look at a network without training it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from engine import project as project_file
from engine.analysis import analyze, format_bytes
from engine.cli import EXIT_FAILED, EXIT_OK
from engine.codegen import generate_code
from engine.layers.rules import fmt


def register(commands) -> None:
    """Add the three commands to the ``deepwire`` parser."""
    validate = commands.add_parser("validate", help="check a project and list its problems")
    validate.add_argument("file", help="a .dwire project")
    validate.set_defaults(func=run_validate)

    summary = commands.add_parser("summary", help="a table of layers, shapes and sizes")
    summary.add_argument("file", help="a .dwire project")
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.add_argument("--network", help="which network of the project (default: model)")
    summary.add_argument(
        "--batch-size",
        type=int,
        default=64,
        help="batch size for the training memory estimate (default 64)",
    )
    summary.set_defaults(func=run_summary)

    code = commands.add_parser("code", help="the network as a standalone PyTorch file")
    code.add_argument("file", help="a .dwire project")
    code.add_argument("--network", help="which network of the project (default: model)")
    code.add_argument("--class-name", default="Model", help="name of the generated class")
    code.add_argument("-o", "--output", help="write to this file instead of the screen")
    code.set_defaults(func=run_code)


def _network(args):
    proj = project_file.load(args.file)
    name = getattr(args, "network", None)
    if name is None:
        return proj.network
    if name not in proj.networks:
        from engine.errors import ProjectError

        known = ", ".join(proj.networks)
        raise ProjectError(f"{args.file}: there is no network {name!r} (it has: {known})")
    return proj.networks[name]


def run_validate(args) -> int:
    """Print every diagnostic of every network, each checked against the project's
    dataset as its role asks, and of the training section; exit 1 when there are errors."""
    from engine.data_fit import analyze_project

    proj = project_file.load(args.file)
    errors = 0
    for problem in training_problems(proj):
        print(f"training: error: {problem.removeprefix('training: ')}")
        errors += 1
    for name, network in proj.networks.items():
        analysis = analyze_project(proj, Path(args.file).resolve().parent, network)
        prefix = f"{name}: " if len(proj.networks) > 1 else ""
        for diagnostic in analysis.diagnostics:
            print(f"{prefix}{diagnostic}")
        errors += len(analysis.errors)
        if not analysis.diagnostics:
            print(f"{prefix}ok: {len(network)} nodes, {analysis.total_params:,} parameters")
    return EXIT_FAILED if errors else EXIT_OK


def training_problems(proj) -> list[str]:
    """What ``deepwire train`` would refuse in the training section before any data is
    read: a wrong setting, or a GAN role naming a network the project does not have."""
    from engine.errors import TrainingError
    from engine.training.config import TrainingConfig

    try:
        config = TrainingConfig.from_dict(proj.training)
    except TrainingError as error:
        return [str(error)]
    if config.recipe != "adversarial":
        return []
    from engine.training.setup import role_problems

    return role_problems(proj.networks, config.adversarial)


def summary_rows(network, analysis) -> list[dict]:
    """One dict per node: id, type, settings, output shape, params, MACs, trainable."""
    rows = []
    for node in network.nodes:
        shape = analysis.shapes.get(node.id)
        rows.append(
            {
                "id": node.id,
                "type": node.type,
                "settings": node.spec.describe(node.params),
                "output_shape": list(shape) if shape is not None else None,
                "params": analysis.params.get(node.id),
                "macs": analysis.macs.get(node.id),
                "trainable": node.trainable,
            }
        )
    return rows


def run_summary(args) -> int:
    """Print the table of layers (or JSON) with totals; exit 1 when there are errors."""
    network = _network(args)
    analysis = analyze(network)
    rows = summary_rows(network, analysis)
    memory = analysis.memory_estimate(args.batch_size)
    if args.json:
        print(
            json.dumps(
                {
                    "network": network.name,
                    "nodes": rows,
                    "total_params": analysis.total_params,
                    "trainable_params": analysis.trainable_params,
                    "total_macs": analysis.total_macs,
                    "training_memory_bytes": memory.total,
                    "batch_size": args.batch_size,
                    "diagnostics": [
                        {"severity": d.severity, "node": d.node, "message": d.message}
                        for d in analysis.diagnostics
                    ],
                },
                indent=2,
            )
        )
        return EXIT_FAILED if analysis.errors else EXIT_OK
    table = [("node", "type", "settings", "output shape", "params", "MACs")]
    for row in rows:
        shape = fmt(tuple(row["output_shape"])) if row["output_shape"] else "?"
        table.append(
            (
                row["id"] + ("" if row["trainable"] else " (frozen)"),
                row["type"],
                row["settings"],
                shape,
                _count(row["params"]),
                _count(row["macs"]),
            )
        )
    table.append(("total", "", "", "", f"{analysis.total_params:,}", f"{analysis.total_macs:,}"))
    _print_table(table)
    print(f"trainable parameters: {analysis.trainable_params:,}")
    print(f"training memory at batch size {args.batch_size}: about {format_bytes(memory.total)}")
    for diagnostic in analysis.diagnostics:
        print(diagnostic)
    return EXIT_FAILED if analysis.errors else EXIT_OK


def run_code(args) -> int:
    """Print (or write) the network as a standalone torch.nn.Module."""
    network = _network(args)
    if not args.class_name.isidentifier():
        from engine.errors import DeepwireError

        raise DeepwireError(f"--class-name {args.class_name!r} is not a valid Python class name")
    source = generate_code(network, args.class_name)
    if args.output:
        from pathlib import Path

        project_file.write_atomic(Path(args.output), source.encode("utf-8"))
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(source)
    return EXIT_OK


def _count(value) -> str:
    return "?" if value is None else f"{value:,}"


def _print_table(rows: list[tuple]) -> None:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    numeric = {4, 5}
    for index, row in enumerate(rows):
        cells = [
            str(cell).rjust(width) if i in numeric else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ]
        print("  ".join(cells).rstrip())
        if index == 0 or index == len(rows) - 2:
            print("  ".join("-" * w for w in widths))
