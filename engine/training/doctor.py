"""The training doctor: plain-language notes read from the metric history.

``diagnose(history, task)`` looks at the per-epoch rows (``train_loss``, ``val_loss``,
``train_accuracy``...) and names what it sees, each time with the setting or layer type
to change, in the words of the app's forms (``engine.training.config.LABELS``):

- divergence: the loss becomes NaN, or grows for epochs on end and gives back much of
  what it had learned (one bad epoch that recovers is not named): lower the Learning
  rate, normalise, clip;
- overfitting: validation loss rises while training loss falls: Dropout, Weight decay,
  augmentation, Early stopping, a smaller network;
- underfitting: both losses stay high and flat: a larger network, a higher Learning
  rate, more Epochs;
- still learning: at the end of a run the loss is still falling fast: more Epochs or a
  higher Learning rate;
- plateau: the validation metric has stopped improving: a Schedule.

``Note.settings`` keeps the setting keys (``optimizer.lr``) and layer types for code
that acts on them. Torch is not needed; the app and the console show the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.training.config import label

FAST_DROP = 0.10  # the loss fell by at least this share over the last STILL_WINDOW epochs
STILL_WINDOW = 3


@dataclass(frozen=True)
class Note:
    """One finding: ``kind`` (divergence, overfitting, underfitting, still_learning,
    plateau), the sentence to show, and the settings or layer types it suggests
    changing."""

    kind: str
    message: str
    settings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def _series(history: list[dict], key: str) -> list[float]:
    return [row[key] for row in history if row.get(key) is not None]


def _divergence(train: list[float]) -> Note | None:
    if math.isfinite(train[-1]):
        if len(train) < 3 or not train[-1] > train[-2] > train[-3]:
            return None  # a loss that rose and came back down is noise, not divergence
        best = min(train)
        if train[-1] <= max(1.5 * best, best + 0.5 * (train[0] - best)):
            return None  # small rises near the best loss
        what = "has grown for epochs instead of falling"
    else:
        what = "became NaN or infinite"
    return Note(
        "divergence",
        f"Divergence: the training loss {what}. Lower the {label('optimizer.lr')} (try a "
        f"tenth), switch on the dataset's {label('dataset.normalize')}, set "
        f"{label('grad_clip')}, or add BatchNorm1d/BatchNorm2d layers.",
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
        f"while training loss kept falling. Add Dropout layers, raise the "
        f"{label('optimizer.weight_decay')}, switch on the dataset's "
        f"{label('dataset.augment')}, use {label('early_stopping')}, or make the network "
        "smaller (fewer out_features / channels).",
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
        "larger (more Linear out_features or Conv2d out_channels, another layer), raise the "
        f"{label('optimizer.lr')}, or raise {label('epochs')}.",
        ["out_features", "out_channels", "optimizer.lr", "epochs"],
    )


def _still_learning(history: list[dict], losses: list[float], which: str) -> Note | None:
    """The loss still falls fast at the end: the run stopped before the model was done."""
    if len(losses) <= STILL_WINDOW:
        return None
    start, end = losses[-STILL_WINDOW - 1], losses[-1]
    drop = (start - end) / abs(start) if start else 0.0
    if drop < FAST_DROP or not end < losses[-2]:
        return None
    accuracy = _series(history, "val_accuracy") or _series(history, "train_accuracy")
    reached = f" at {accuracy[-1]:.0%} accuracy" if accuracy else ""
    return Note(
        "still_learning",
        f"Still learning: the {which} loss fell by {drop:.0%} over the last {STILL_WINDOW} epochs and "
        f"was still falling when training ended{reached}. Raise {label('epochs')} to train "
        f"longer, or raise the {label('optimizer.lr')} to learn faster.",
        ["epochs", "optimizer.lr"],
    )


def _plateau(history: list[dict], val: list[float]) -> Note | None:
    if len(val) < 6:
        return None
    window = val[-4:]
    before = min(val[:-4])
    if min(window) < before * 0.995:
        return None
    if _schedule_has_decayed(history):
        return Note(
            "plateau",
            "Converged: the validation loss settled while the schedule lowered the learning "
            "rate, so more epochs will not help. To go further, change the network (more "
            f"units or filters, another layer) or the data (the dataset's "
            f"{label('dataset.augment')}).",
            ["network", "dataset.augment"],
        )
    return Note(
        "plateau",
        f"Plateau: the validation loss has not improved for 4 epochs. Set a "
        f"{label('scheduler')} (ReduceLROnPlateau or CosineAnnealingLR) or lower the "
        f"{label('optimizer.lr')}; more epochs alone will not help.",
        ["scheduler", "optimizer.lr"],
    )


def diagnose(history: list[dict], task: str = "classification", final: bool = True) -> list[Note]:
    """Notes about a training run from its per-epoch rows (``EpochEnd.row()``).

    Args:
        history: one dict per epoch with ``train_loss`` and, when there is validation
            data, ``val_loss``, plus ``train_accuracy``/``train_r2`` when known.
        task: the dataset's task.
        final: the run has ended (False while it trains: a falling loss is then no news).
    """
    train = _series(history, "train_loss")
    val = _series(history, "val_loss")
    if not train:
        return []
    watched = (val, "validation") if val else (train, "training")
    found = (
        _divergence(train)
        or _overfitting(train, val)
        or _underfitting(history, train, task)
        or (_still_learning(history, *watched) if final else None)
        or _plateau(history, val)
    )
    return [found] if found else []


def _schedule_has_decayed(history: list[dict]) -> bool:
    """True when a schedule has already brought the learning rate below a tenth of its start."""
    rates = _series(history, "lr")
    return len(rates) > 1 and rates[-1] <= 0.1 * rates[0]
