"""The small, plain events the training loop hands to its listeners.

They hold numbers, strings and small NumPy arrays only (no tensors), so a listener in
another thread (the app's training panel) can keep them without holding GPU memory or
locks.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TrainStart:
    """Training is about to run its first batch."""

    epochs: int
    start_epoch: int
    batches_per_epoch: int
    train_samples: int
    val_samples: int
    device: str
    precision: str
    trainable_params: int
    task: str
    loss: str


@dataclass(frozen=True)
class BatchEnd:
    """One optimisation step is done (sent every ``log_every`` batches)."""

    epoch: int
    batch: int
    batches: int
    step: int
    loss: float
    lr: float
    samples_per_s: float


@dataclass(frozen=True)
class EpochEnd:
    """An epoch and its validation are done.

    Attributes:
        train: ``loss`` and ``accuracy`` (classification) or ``mae``/``r2`` (regression).
        val: the same measured on the validation part (empty without validation data).
        is_best: this epoch has the best monitored value so far (best checkpoint).
        extra: measures that are neither training nor validation metrics (a GAN's
            ``fake_spread`` and ``real_spread``), unprefixed in ``row()``.
        layers: one row per weighted node: ``node``, ``weight_norm``, ``grad_norm``,
            ``update_ratio`` (``layer_stats.LayerStats.end_epoch``).
        histograms: per node, ``Histogram``s of its weights and last read gradient.
    """

    epoch: int
    epochs: int
    train: dict
    val: dict
    lr: float
    seconds: float
    samples_per_s: float
    is_best: bool
    extra: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)  # engine.training.core.layer_stats rows
    # per node of ``layers``: {"weights": Histogram, "gradients": Histogram} (layer_stats)
    histograms: dict = field(default_factory=dict)

    def row(self) -> dict:
        """A flat dict: ``epoch``, ``train_loss``, ``val_loss``, ``val_accuracy``, ``lr``..."""
        flat = {"epoch": self.epoch}
        flat.update({f"train_{k}": v for k, v in self.train.items()})
        flat.update({f"val_{k}": v for k, v in self.val.items()})
        flat.update(self.extra)
        flat["lr"] = self.lr
        return flat


@dataclass(frozen=True)
class TrainEnd:
    """Training ended without an error.

    Attributes:
        reason: ``finished``, ``stopped`` (by the user) or ``early_stopping``.
        epochs_done: the last completed epoch (1-based; 0 when none finished).
        best_epoch: the epoch whose weights are the best ones (0 when none).
        best: that epoch's metrics, flat like ``EpochEnd.row()``.
        notes: the training doctor's notes (``engine.training.doctor.Note``).
    """

    reason: str
    epochs_done: int
    best_epoch: int
    best: dict
    notes: list = field(default_factory=list)


@dataclass(frozen=True)
class TrainFailed:
    """Training stopped on an error.

    Attributes:
        message: one sentence for the user.
        epoch: the last completed epoch (0 when none finished).
        error: the exception.
        kept_epoch: the epoch whose weights the model was given back (its best so far);
            0 when no epoch completed and the model holds the weights it started with.
    """

    message: str
    epoch: int
    error: BaseException | None = None
    kept_epoch: int = 0


@dataclass(frozen=True)
class GanView:
    """What a GAN makes at the end of an epoch, for the live view.

    Attributes:
        epoch: the epoch it shows.
        real: (n, 2) real points, for 2-D data (else None); n is at most 512.
        fake: (n, 2) points generated from fixed noise, for 2-D data.
        field: (40, 40) sigmoid of the discriminator's logit on a grid, for 2-D data;
            ``field[i, j]`` is at ``x = xs[j]``, ``y = ys[i]`` of the extent.
        extent: (xmin, xmax, ymin, ymax) of that grid.
        images: (16, H, W) or (16, C, H, W) samples from fixed noise, for image data.
    """

    epoch: int
    real: object = None
    fake: object = None
    field: object = None
    extent: tuple | None = None
    images: object = None
