"""Listeners of training: the ``Callback`` base and the ones the command line uses.

Lightning-style: the Trainer only calls hooks; progress, logging and files are
listeners. Every hook receives the trainer and one event from
``engine.training.events`` and does nothing by default, so a listener overrides only
what it needs. Hooks run in the training thread: a GUI listener hands the events over
to its own thread (a queued signal) and returns at once.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path
from typing import TextIO

from engine.errors import ProjectError
from engine.progress_console import ConsoleProgress
from engine.project import write_atomic
from engine.training.core.events import BatchEnd, EpochEnd, TrainEnd, TrainFailed, TrainStart


class Callback:
    """A listener of training events; every hook is a no-op."""

    def on_train_start(self, trainer, event: TrainStart) -> None:
        """Before the first batch."""

    def on_epoch_start(self, trainer, epoch: int) -> None:
        """Before the first batch of ``epoch`` (1-based)."""

    def on_batch_end(self, trainer, event: BatchEnd) -> None:
        """After an optimisation step (every ``log_every`` batches)."""

    def on_epoch_end(self, trainer, event: EpochEnd) -> None:
        """After an epoch and its validation."""

    def on_view(self, trainer, view) -> None:
        """After an epoch, what the model makes now (a GAN's ``GanView``), when asked for."""

    def on_pause(self, trainer, paused: bool) -> None:
        """When the loop really pauses (True) or goes on again (False)."""

    def on_train_end(self, trainer, event: TrainEnd) -> None:
        """After the last epoch, an early stop or a user's stop."""

    def on_exception(self, trainer, event: TrainFailed) -> None:
        """When training fails; ``event.message`` is the sentence to show."""

    def on_warning(self, trainer, message: str) -> None:
        """A problem that does not end training (a checkpoint that cannot be written)."""

    def on_data_progress(self, session, event) -> None:
        """While the data is read (``engine.progress.Progress``); before the
        trainer exists, so the hook gets the ``TrainingSession``."""

    def on_data_loaded(self, session, text: str) -> None:
        """The data is read: ``text`` says how (``streaming 50,000 images from disk...``)."""


def metric_text(values: dict, prefix: str) -> str:
    """``train loss 0.1234 accuracy 96.1%`` from a metrics dict."""
    parts = []
    for key, value in values.items():
        if key == "accuracy":
            parts.append(f"{key} {value * 100:.1f}%")
        else:
            parts.append(f"{key} {value:.4g}")
    return f"{prefix} " + " ".join(parts) if parts else ""


class ConsoleReporter(Callback):
    """A progress bar on stderr, a line per epoch on stdout, the doctor's notes at the end;
    before training, how the data is read (the reading's progress on stderr).

    Args:
        out: where epoch lines and notes go (stdout).
        err: where the progress bar goes (stderr); the bar is drawn only on a terminal.
        bar: force the bar on or off.
    """

    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, bar: bool | None = None
    ):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.bar = self.err.isatty() if bar is None else bar
        self._last_draw = 0.0
        self._epochs = 0
        self._epoch_started = time.monotonic()
        self._data_progress = ConsoleProgress(self.err, self.bar)

    def on_train_start(self, trainer, event: TrainStart) -> None:
        self._epochs = event.epochs
        print(
            f"training on {event.device} ({event.precision}): {event.train_samples} samples, "
            f"{event.val_samples} to validate, {event.trainable_params:,} trainable "
            f"parameters, {event.loss}",
            file=self.out,
            flush=True,
        )

    def on_epoch_start(self, trainer, epoch: int) -> None:
        self._epoch_started = time.monotonic()

    def on_data_progress(self, session, event) -> None:
        """A bar on a terminal; otherwise a line at the start, each quarter and the end."""
        self._data_progress(event)

    def on_data_loaded(self, session, text: str) -> None:
        self._data_progress.close()
        print(f"data: {text}", file=self.out, flush=True)

    def on_batch_end(self, trainer, event: BatchEnd) -> None:
        now = time.monotonic()
        if not self.bar or (now - self._last_draw < 0.1 and event.batch < event.batches):
            return
        self._last_draw = now
        self.err.write(f"\r{progress_line(event, self._epochs, now - self._epoch_started)} ")
        self.err.flush()

    def on_epoch_end(self, trainer, event: EpochEnd) -> None:
        if self.bar:
            self.err.write("\r\033[K")
            self.err.flush()
        text = [f"epoch {event.epoch}/{event.epochs}", metric_text(event.train, "train")]
        text += [
            metric_text(event.val, "| val"),
            f"| lr {event.lr:.3g}",
            f"| {_duration(event.seconds)}",
        ]
        best = " *" if event.is_best else ""
        print(" ".join(t for t in text if t) + best, file=self.out, flush=True)

    def on_pause(self, trainer, paused: bool) -> None:
        print("paused" if paused else "resumed", file=self.out, flush=True)

    def on_warning(self, trainer, message: str) -> None:
        if self.bar:
            self.err.write("\r\033[K")
        print(f"warning: {message}", file=self.err, flush=True)

    def on_train_end(self, trainer, event: TrainEnd) -> None:
        reason = {"finished": "finished", "stopped": "stopped by the user",
                  "early_stopping": "stopped early: the validation metric stopped improving"}  # fmt: skip
        print(
            f"{reason.get(event.reason, event.reason)} after {event.epochs_done} epoch(s); "
            f"best epoch {event.best_epoch}",
            file=self.out,
        )
        for note in event.notes:
            print(f"note: {note}", file=self.out)
        self.out.flush()


class MetricsCSV(Callback):
    """Writes ``metrics.csv``: one row per epoch, rewritten after each epoch.

    Columns: every measure the rows hold, ``epoch`` first and ``lr`` last: ``train_loss``,
    ``train_accuracy``, ``val_loss``, ``val_accuracy`` for classification, ``train_mae``,
    ``train_r2``, ``val_mae``, ``val_r2`` for regression, a GAN's ``train_d_loss``,
    ``train_g_loss``, ... (``engine.training.core.adversarial``). A resumed run starts from the
    checkpoint's history: the epochs before the checkpoint are kept, and rows of later
    epochs written before a crash are dropped, so the file holds every epoch once.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []

    def on_train_start(self, trainer, event: TrainStart) -> None:
        self.rows = [dict(row) for row in trainer.history]
        if self.rows:
            self._write(trainer)

    def on_epoch_end(self, trainer, event: EpochEnd) -> None:
        self.rows.append(event.row())
        self._write(trainer)

    def _write(self, trainer) -> None:
        seen = dict.fromkeys(key for row in self.rows for key in row)
        columns = ["epoch", *(k for k in seen if k not in ("epoch", "lr")), "lr"]
        write_rows(self.path, columns, self.rows, trainer)


class LayersCSV(Callback):
    """``layers.csv``: per epoch and node with weights, ``weight_norm``, ``grad_norm``
    and ``update_ratio`` (``engine.training.core.layer_stats``). A resumed run keeps the
    rows of the epochs before it started and drops later ones, as ``MetricsCSV`` does."""

    COLUMNS = ("epoch", "node", "weight_norm", "grad_norm", "update_ratio")

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.rows: list[dict] = []

    def on_train_start(self, trainer, event: TrainStart) -> None:
        self.rows = [row for row in _read_rows(self.path) if _epoch(row) < event.start_epoch]

    def on_epoch_end(self, trainer, event: EpochEnd) -> None:
        if event.layers:
            self.rows.extend(event.layers)
            write_rows(self.path, self.COLUMNS, self.rows, trainer)


def _read_rows(path: Path) -> list[dict]:
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            return list(csv.DictReader(stream))
    except (OSError, UnicodeError, csv.Error):
        return []


def _epoch(row: dict) -> int:
    try:
        return int(row.get("epoch") or 0)
    except ValueError:
        return 0


def csv_bytes(columns, rows: list[dict]) -> bytes:
    """``rows`` as UTF-8 CSV with a header of ``columns`` (floats to 6 digits, None empty)."""
    stream = io.StringIO(newline="")
    writer = csv.DictWriter(stream, list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return stream.getvalue().encode("utf-8")


def write_rows(path: Path, columns, rows: list[dict], trainer) -> None:
    """Write ``rows`` as CSV atomically; a failure is a warning, and training goes on."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, csv_bytes(columns, rows))
    except OSError as error:
        trainer.warn(f"cannot write {path} ({error.strerror or error}); training goes on")
    except ProjectError as error:  # read-only, or the write failed: it says which
        trainer.warn(f"{error}; training goes on")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def progress_line(event: BatchEnd, epochs: int, elapsed: float, width: int = 24) -> str:
    """``epoch 2/10 [######......] 12/48 loss 0.4210 5,120 samples/s ETA 3.1 s``: the
    epoch's bar, with the time its remaining batches take at the pace so far."""
    filled = int(width * event.batch / event.batches)
    remaining = elapsed / max(event.batch, 1) * (event.batches - event.batch)
    return (
        f"epoch {event.epoch}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
        f"{event.batch}/{event.batches} loss {event.loss:.4f} "
        f"{event.samples_per_s:,.0f} samples/s ETA {_duration(remaining)}"
    )


def _duration(seconds: float) -> str:
    """``0.042`` -> ``42 ms``, ``3.5`` -> ``3.5 s``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"
