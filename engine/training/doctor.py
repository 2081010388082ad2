"""The training doctor: plain-language notes read from the metric history.

``diagnose(history, task)`` looks at the per-epoch rows (``train_loss``, ``val_loss``,
``train_accuracy``...) and names what it sees, each time with the setting or layer type
to change:

- divergence: the loss grows or becomes NaN: lower ``optimizer.lr``, normalise, clip;
- overfitting: validation loss rises while training loss falls: Dropout, weight decay,
  augmentation, early stopping, a smaller network;
- underfitting: both losses stay high and flat: a larger network, a higher learning
  rate, more epochs;
- plateau: the validation metric has stopped improving: a learning-rate schedule.

Torch is not needed; the app and the console show the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Note:
    """One finding: ``kind`` (divergence, overfitting, underfitting, plateau), the
    sentence to show, and the settings or layer types it suggests changing."""

    kind: str
    message: str
    settings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _series(history: list[dict], key: str) -> list[float]:
    return [row[key] for row in history if row.get(key) is not None]


def _divergence(train: list[float]) -> Note | None:
    bad = any(not math.isfinite(v) for v in train)
    rising = len(train) >= 3 and train[-1] > 1.5 * min(train) and train[-1] > train[-2] > train[-3]
    if not (bad or rising):
        return None
    what = "became NaN or infinite" if bad else "is growing instead of falling"
    return Note(
        "divergence",
        f"Divergence: the training loss {what}. Lower optimizer.lr (try a tenth), make sure "
        "the data is normalised (dataset normalize), add grad_clip, or add BatchNorm1d/"
        "BatchNorm2d layers.",
        ["optimizer.lr", "dataset.normalize", "grad_clip", "BatchNorm1d", "BatchNorm2d"],
    )


def _overfitting(train: list[float], val: list[float]) -> Note | None:
    if len(val) < 4 or len(train) != len(val):
        return None
    best = min(range(len(val)), key=val.__getitem__)
    rising = best <= len(val) - 3 and val[-1] > val[best] * 1.05
    if not (rising and train[-1] < train[best]):
        return None
    return Note(
        "overfitting",
        f"Overfitting: validation loss was lowest at epoch {best + 1} and has risen since, "
        "while training loss kept falling. Add Dropout layers, raise optimizer.weight_decay "
        "(L2), switch on dataset augment, use early_stopping, or make the network smaller "
        "(fewer out_features / channels).",
        ["Dropout", "optimizer.weight_decay", "dataset.augment", "early_stopping", "out_features"],
    )


def _underfitting(history: list[dict], train: list[float], task: str) -> Note | None:
    if len(train) < 3:
        return None
    recent = train[-3:]
    flat = (max(recent) - min(recent)) <= 0.02 * max(abs(recent[0]), 1e-8)
    accuracy = _series(history, "train_accuracy")
    r2 = _series(history, "train_r2")
    if task == "classification" and accuracy:
        high = accuracy[-1] < 0.7
    elif task == "regression" and r2:
        high = r2[-1] < 0.5
    else:
        high = train[-1] > 0.5 * train[0]
    if not (flat and high):
        return None
    return Note(
        "underfitting",
        "Underfitting: training and validation loss stay high and flat. Make the network "
        "larger (more Linear out_features or Conv2d out_channels, another layer), raise "
        "optimizer.lr, or train for more epochs.",
        ["out_features", "out_channels", "optimizer.lr", "epochs"],
    )


def _plateau(val: list[float]) -> Note | None:
    if len(val) < 6:
        return None
    window = val[-4:]
    before = min(val[:-4])
    if min(window) < before * 0.995:
        return None
    return Note(
        "plateau",
        "Plateau: the validation loss has not improved for 4 epochs. Add a scheduler "
        "(ReduceLROnPlateau or CosineAnnealingLR) or lower optimizer.lr; more epochs alone "
        "will not help.",
        ["scheduler", "optimizer.lr"],
    )


def diagnose(history: list[dict], task: str = "classification") -> list[Note]:
    """Notes about a training run from its per-epoch rows (``EpochEnd.row()``).

    Args:
        history: one dict per epoch with ``train_loss`` and, when there is validation
            data, ``val_loss``, plus ``train_accuracy``/``train_r2`` when known.
        task: the dataset's task.
    """
    train = _series(history, "train_loss")
    val = _series(history, "val_loss")
    if not train:
        return []
    divergence = _divergence(train)
    if divergence:
        return [divergence]
    for note in (_overfitting(train, val), _underfitting(history, train, task)):
        if note:
            return [note]
    plateau = _plateau(val)
    if plateau and _schedule_has_decayed(history):
        plateau = Note(
            "plateau",
            "Converged: the validation loss settled while the schedule lowered the learning "
            "rate, so more epochs will not help. To go further, change the network (more "
            "units or filters, another layer) or the data (dataset.augment).",
            ["network", "dataset.augment"],
        )
    return [plateau] if plateau else []


def _schedule_has_decayed(history: list[dict]) -> bool:
    """True when a schedule has already brought the learning rate below a tenth of its start."""
    rates = _series(history, "lr")
    return len(rates) > 1 and rates[-1] <= 0.1 * rates[0]
