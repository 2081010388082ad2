"""``deepwire train FILE``: train a project's network headless (also under torchrun).

Prints a progress bar on stderr (on a terminal) and a line per epoch; writes into
``--out`` (default: ``<project>_run`` beside the project file) ``metrics.csv``,
``weights.safetensors`` (the best weights, keyed like the compiled module's
state_dict) and ``checkpoints/best|last``. Exit status: 0 done, 1 training failed,
2 the project's dataset or training section (or the network against the data) is
wrong. Under ``torchrun --nproc_per_node=N -m engine train FILE`` every process trains
on its share of the data and only rank 0 prints and writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine import project as project_file
from engine.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from engine.errors import CompileError, DataError, TrainingError


def register(commands) -> None:
    """Add ``train`` to the ``deepwire`` parser."""
    train = commands.add_parser("train", help="train the project's network on its dataset")
    train.add_argument("file", help="a .dwire project with dataset and training sections")
    train.add_argument("--epochs", type=int, help="number of epochs (overrides the project)")
    train.add_argument("--batch-size", type=int, help="batch size (overrides the project)")
    train.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: project/auto)")
    train.add_argument("--out", help="folder for metrics.csv, weights and checkpoints")
    train.add_argument("--resume", help="continue from a checkpoint (a run folder or its file)")
    train.add_argument(
        "--init-weights",
        metavar="W.safetensors",
        help="start from these weights for the nodes whose ids and shapes match "
        "(transfer learning); the others keep fresh weights",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    train.set_defaults(func=run_train)


def _settings(proj, args) -> dict:
    settings = dict(proj.training or {})
    for key in ("epochs", "batch_size", "device"):
        value = getattr(args, key)
        if value is not None:
            settings[key] = value
    return settings


def _setup(args, distributed):
    """Project, dataset, config and trainer; DataError/TrainingError mean bad input."""
    from engine.data import load_dataset
    from engine.training import ConsoleReporter, MetricsCSV, Trainer, TrainingConfig

    path = Path(args.file)
    proj = project_file.load(path)
    if proj.dataset is None:
        raise DataError(f'{path.name}: the project has no "dataset" section to train on')
    config = TrainingConfig.from_dict(_settings(proj, args))
    dataset = load_dataset(proj.dataset, path.parent)
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}_run")
    callbacks = []
    if distributed is None or distributed.is_main:
        bar = False if args.no_progress else None
        callbacks = [ConsoleReporter(bar=bar), MetricsCSV(out / "metrics.csv")]
    trainer = Trainer(
        proj.network, dataset, config, callbacks, out_dir=out, distributed=distributed
    )
    if args.init_weights:
        from engine.weights import load_matching_weights

        report = load_matching_weights(trainer.model, args.init_weights)
        if distributed is None or distributed.is_main:
            print(report.summary(), file=sys.stderr)
    return trainer, out


def run_train(args) -> int:
    """Train and write the results; see the module docstring for the exit status."""
    from engine.distributed import from_environment, shutdown
    from engine.weights import WeightsError

    distributed = from_environment(args.device or "auto")
    failed = True
    try:
        try:
            trainer, out = _setup(args, distributed)
        except (DataError, TrainingError, CompileError, WeightsError) as error:
            print(f"deepwire: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        try:
            trainer.fit(resume_from=args.resume)
        except TrainingError as error:
            if distributed is None or distributed.is_main:
                print(f"deepwire: {error}", file=sys.stderr)
            return EXIT_FAILED
        if distributed is None or distributed.is_main:
            trainer.save_weights(out / "weights.safetensors")
            print(f"wrote {out / 'metrics.csv'} and {out / 'weights.safetensors'}", file=sys.stderr)
        failed = False
        return EXIT_OK
    finally:
        shutdown(distributed, failed)
