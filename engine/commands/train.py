"""``deepwire train FILE``: train a project's network headless (also under torchrun).

Prints a progress bar on stderr (on a terminal) and a line per epoch; writes into
``--out`` (default: ``<project>_run`` beside the project file) ``metrics.csv``,
``weights.safetensors`` (the best weights, keyed like the compiled module's
state_dict) and ``checkpoints/best|last``. Exit status: 0 done, 1 training failed,
2 the project's dataset or training section (or the network against the data) is
wrong, or ``--out`` cannot be written. When training fails after an epoch completed,
the best weights so far are still written to ``weights.safetensors``; a checkpoint
that cannot be written mid-run is a warning. The first Ctrl-C stops after the current
batch and keeps the best weights; a second one quits at once (exit 130). Under ``torchrun --nproc_per_node=N -m engine train FILE`` every process trains
on its share of the data and only rank 0 prints and writes.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path

from engine import project as project_file
from engine.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from engine.errors import CompileError, DataError, TrainingError
from engine.file_access import cannot_write_in, is_read_only


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
    train.add_argument(
        "--streaming",
        choices=("auto", "on", "off"),
        help="read a file dataset from disk batch by batch (on), all into memory (off), or "
        "stream it when it is too big for memory (auto, the default; overrides the project)",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    train.set_defaults(func=run_train)


def _setup(args, distributed):
    """The project's training session; DataError/TrainingError mean bad input."""
    from engine.runs import cli_run_dir
    from engine.training import ConsoleReporter, TrainingSession

    path = Path(args.file)
    proj = project_file.load(path)
    if proj.dataset is None:
        raise DataError(f'{path.name}: the project has no "dataset" section to train on')
    if args.streaming:
        proj.dataset = with_streaming(proj.dataset, args.streaming)
    overrides = {key: getattr(args, key) for key in ("epochs", "batch_size", "device")
                 if getattr(args, key) is not None}  # fmt: skip
    out = Path(args.out) if args.out else cli_run_dir(path)
    main = distributed is None or distributed.is_main
    callbacks = [ConsoleReporter(bar=False if args.no_progress else None)] if main else []
    session = TrainingSession(proj, path.parent, out, overrides=overrides, callbacks=callbacks,
                              distributed=distributed, init_weights=args.init_weights)  # fmt: skip
    if session.start_report is not None and main:
        print(session.start_report.summary(), file=sys.stderr)
    return session, out


def with_streaming(section: dict, streaming: str) -> dict:
    """The dataset section with ``streaming`` set (``--streaming``); a built-in dataset
    is always in memory, so only ``auto`` and ``off`` leave it as it is."""
    from engine.data.registry import FILE_DATASETS

    name = section.get("name") if isinstance(section, dict) else None
    if name not in FILE_DATASETS:
        if streaming == "on":
            raise DataError(
                f"--streaming on: {name} is built in and read into memory; streaming is for "
                f"the file datasets ({', '.join(FILE_DATASETS)})"
            )
        return section
    params = section.get("params") if isinstance(section.get("params"), dict) else {}
    return {**section, "params": {**params, "streaming": streaming}}


# what a run writes into --out; a read-only one of them is refused before training
OUTPUTS = ("weights.safetensors", "metrics.csv", "run.json", "checkpoints/last.safetensors",
           "checkpoints/last.state.pt", "checkpoints/best.safetensors", "checkpoints/best.state.pt")  # fmt: skip


def check_writable(folder: Path) -> None:
    """Create ``folder`` and write a probe file in it; DataError when that fails or when
    a file the run would replace there is read-only."""
    reason = cannot_write_in(folder)
    if reason:
        raise DataError(
            f"cannot write the results to {folder} ({reason}); choose another folder with --out"
        )
    read_only = [name for name in OUTPUTS if is_read_only(folder / name)]
    if read_only:
        raise DataError(
            f"cannot write the results to {folder}: {read_only[0]} there is read-only, and "
            "a run would replace it; make it writable or choose another folder with --out"
        )


def _write_weights(session, out: Path, failed: bool) -> bool:
    """Write the kept weights; says where (or why not) on stderr. True when written."""
    path = out / "weights.safetensors"
    try:
        session.write_weights(path)
    except OSError as error:
        print(f"deepwire: cannot write {path} ({error.strerror or error})", file=sys.stderr)
        return False
    if failed:
        print(
            f"the weights of epoch {session.kept_epoch} (the best before the failure) are in "
            f"{path}",
            file=sys.stderr,
        )
    else:
        print(f"wrote {out / 'metrics.csv'}, {out / 'layers.csv'} and {path}", file=sys.stderr)
    return True


@contextlib.contextmanager
def _stop_on_interrupt(session):
    """The first Ctrl-C asks the session to stop; a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum, _frame):
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\nstopping after this batch (Ctrl-C again to quit now)", file=sys.stderr)
        session.stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_train(args) -> int:
    """Train and write the results; see the module docstring for the exit status."""
    from engine.training.core.distributed import from_environment, shutdown
    from engine.weights import WeightsError

    distributed = from_environment(args.device or "auto")
    main = distributed is None or distributed.is_main
    failed = True
    try:
        try:
            session, out = _setup(args, distributed)
            if main:
                check_writable(out)
        except (DataError, TrainingError, CompileError, WeightsError) as error:
            print(f"deepwire: {error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        try:
            with _stop_on_interrupt(session) if distributed is None else contextlib.nullcontext():
                end = session.fit(resume_from=args.resume)
        except TrainingError as error:
            if main:
                print(f"deepwire: {error}", file=sys.stderr)
                if session.kept_epoch:
                    _write_weights(session, out, failed=True)
            return EXIT_FAILED
        if main and not session.kept_epoch:
            print("no epoch completed, so no weights were written", file=sys.stderr)
        elif main and not _write_weights(session, out, failed=False):
            return EXIT_FAILED
        failed = False
        return EXIT_INTERRUPTED if end.reason == "stopped" else EXIT_OK
    finally:
        shutdown(distributed, failed)
