"""TensorBoard event files of a run, for users who read their runs in TensorBoard.

``TensorBoardWriter`` is a training listener that writes, per epoch (the step is the
epoch): every measure of ``EpochEnd.row()`` as a scalar under ``metrics/``
(``metrics/train_loss``, ``metrics/val_accuracy``, ``metrics/lr``...), each weighted
node's ``weight_norm/<node>``, ``grad_norm/<node>`` and ``update_ratio/<node>``, and
histograms ``weights/<node>`` and ``gradients/<node>`` (``layer_stats.Histogram``).
``tensorboard --logdir RUN_FOLDER/tensorboard`` shows them; a project's runs folder
shows all its runs side by side.

The ``tensorboard`` package is optional (``pip install deepwire[tensorboard]``): without
it, or when the folder cannot be written, the run says so once through the trainer's
warnings and trains on.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from engine.training.callbacks import Callback
from engine.training.core.events import EpochEnd, TrainEnd, TrainFailed, TrainStart

FOLDER = "tensorboard"  # in the run folder
MISSING = (
    "TensorBoard event files are not written: the tensorboard package is not installed "
    "(pip install tensorboard)"
)
LAYER_SCALARS = ("weight_norm", "grad_norm", "update_ratio")


def _summary_writer():
    """torch's ``SummaryWriter`` class, or None when tensorboard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # torch raises it when the tensorboard package is missing
        return None
    return SummaryWriter


class TensorBoardWriter(Callback):
    """Writes a run's event files into ``folder`` (see the module docstring).

    Args:
        folder: where the event files go (``<run folder>/tensorboard``).
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.writer = None
        self._open = None  # makes the writer at the first epoch's end (no empty files)

    def on_train_start(self, trainer, event: TrainStart) -> None:
        self.close()
        writer_class = _summary_writer()
        if writer_class is None:
            trainer.warn(MISSING)
            return
        # a resumed run replaces what an earlier try wrote from its first epoch on
        purge = event.start_epoch if event.start_epoch > 1 else None
        self._open = lambda: writer_class(log_dir=str(self.folder), purge_step=purge)

    def on_epoch_end(self, trainer, event: EpochEnd) -> None:
        if self._open is None:
            return
        try:
            if self.writer is None:
                self.writer = self._open()
            self._write(event)
            self.writer.flush()  # readable while the run goes on
        except OSError as error:
            self._cannot_write(trainer, error)
            self.close()

    def _cannot_write(self, trainer, error: OSError) -> None:
        reason = error.strerror or str(error)
        trainer.warn(f"cannot write TensorBoard files to {self.folder} ({reason}); "
                     "training goes on")  # fmt: skip

    def _write(self, event: EpochEnd) -> None:
        step, add = event.epoch, self.writer.add_scalar
        for key, value in event.row().items():
            if key != "epoch":
                add(f"metrics/{key}", value, step)
        for row in event.layers:
            for key in LAYER_SCALARS:
                add(f"{key}/{row['node']}", row[key], step)
        for node, kinds in event.histograms.items():
            for kind, histogram in kinds.items():
                self._histogram(f"{kind}/{node}", histogram, step)

    def _histogram(self, tag: str, histogram, step: int) -> None:
        # TensorBoard reads each bucket as ending at its limit; an empty bucket first
        # gives the lowest edge (as torch's own add_histogram does)
        self.writer.add_histogram_raw(
            tag, min=histogram.edges[0], max=histogram.edges[-1], num=histogram.total,
            sum=histogram.sum, sum_squares=histogram.sum_squares,
            bucket_limits=list(histogram.edges), bucket_counts=[0, *histogram.counts],
            global_step=step,
        )  # fmt: skip

    def on_train_end(self, trainer, event: TrainEnd) -> None:
        self.close()

    def on_exception(self, trainer, event: TrainFailed) -> None:
        self.close()

    def close(self) -> None:
        """Flush and close the event file (it stays readable)."""
        writer, self.writer, self._open = self.writer, None, None
        if writer is not None:
            with contextlib.suppress(OSError):  # the epochs written so far stay readable
                writer.close()
