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
- plateau: the validation metric has stopped improving: a Schedule;
- vanishing or exploding gradients, from the last epoch's per-layer gradient norms
  (``layers``): named with the layer where they start, and the primers' fixes (ReLU
  instead of Sigmoid, BatchNorm, residual connections; a lower Learning rate, clipping).

A GAN's rows (``train_d_loss``, ``train_g_loss``, ``train_d_real``, ``train_d_fake``,
``train_g_grad``, ``fake_spread``, ``real_spread``) are read for its own failures, each
named with the adversarial settings (``adversarial.d_steps``...):

- the discriminator wins: D(real) near 1 and D(fake) near 0 for the last epochs, with its
  loss near 0 or the generator's gradient fallen by orders of magnitude: lower the
  discriminator's learning rate or D steps, label smoothing, a smaller discriminator;
- mode collapse: the generated samples spread far less than the data and no longer
  grow: lower the generator's learning rate, more noise dimensions, a smaller batch,
  label smoothing;
- oscillation: the generator's loss swings up and down widely without settling: lower
  both learning rates, Adam with beta1 0.5.

``Note.settings`` keeps the setting keys (``optimizer.lr``) and layer types for code
that acts on them. Torch is not needed; the app and the console show the same notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

from engine.training.config import label
from engine.training.core.adversarial import is_gan_row

FAST_DROP = 0.10  # the loss fell by at least this share over the last STILL_WINDOW epochs
STILL_WINDOW = 3

GAN_WINDOW = 3  # a GAN failure must hold for this many of the last epochs
GAN_MIN_EPOCHS = 5  # a young generator has not spread out yet: no collapse before this
CONFIDENT = 0.9  # D(real) at least this and D(fake) at most 1 - this: the discriminator wins
D_LOSS_NEAR_ZERO = 0.1  # a healthy GAN's discriminator loss stays near 2 ln 2 = 1.39
GRAD_FALL = 100.0  # the generator's gradient fell by two orders of magnitude from its peak
COLLAPSE = 0.25  # generated samples spread less than this share of the data's spread
SPREADING = 1.25  # their spread grew by more than this factor over the window: not collapsed
SWING_WINDOW = 8  # oscillation is read over the last epochs, at most this many
SWING_MIN_EPOCHS = 6
SWING_TURNS = 0.5  # share of the possible turns (up, then down) that the loss makes
# (max - min) / mean of the generator's loss over the window; a healthy GAN's loss cycles
# slowly up to about 0.65 of its mean (rings, default settings, batch 32 and 64)
SWING_AMPLITUDE = 1.0
SETTLING = 0.5  # the last half's swing below this share of the first half's: settling
# Gradients: the first weighted layer's gradient norm below this share of the last one's
# is vanishing (a 10-layer Sigmoid MLP on digits: 1.4e-8; with ReLU: 9e-4), above its
# inverse exploding; the fading starts where a layer gets less than FADED of the last's.
VANISHING = 1e-4
FADED = 1e-2
MIN_GRADIENT_LAYERS = 3


@dataclass(frozen=True)
class Note:
    """One finding: ``kind`` (divergence, overfitting, underfitting, still_learning,
    plateau; for a GAN discriminator_wins, mode_collapse, oscillation), the sentence to
    show, and the settings or layer types it suggests changing."""

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


def _gan_series(history: list[dict], key: str) -> list[float]:
    """A GAN metric under its own name or, as ``EpochEnd.row()`` writes ``val``, with ``val_``."""
    return _series(history, key) or _series(history, f"val_{key}")


def _discriminator_wins(history: list[dict]) -> Note | None:
    real = _series(history, "train_d_real")[-GAN_WINDOW:]
    fake = _series(history, "train_d_fake")[-GAN_WINDOW:]
    if len(real) < GAN_WINDOW or len(fake) < GAN_WINDOW:
        return None
    if min(real) < CONFIDENT or max(fake) > 1 - CONFIDENT:
        return None
    d_loss = _series(history, "train_d_loss")[-GAN_WINDOW:]
    grad = [g for g in _series(history, "train_g_grad") if math.isfinite(g)]
    near_zero = len(d_loss) == GAN_WINDOW and max(d_loss) <= D_LOSS_NEAR_ZERO
    vanished = len(grad) > 1 and grad[-1] * GRAD_FALL <= max(grad)
    if not (near_zero or vanished):
        return None  # sure of itself, yet the generator still gets a gradient
    seen = f"D(real) is {real[-1]:.3g} and D(fake) {fake[-1]:.3g}"
    if near_zero:
        seen += f", its loss {d_loss[-1]:.3g}"
    if vanished:
        seen += f"; the generator's gradient fell from {max(grad):.3g} to {grad[-1]:.3g}"
    d_lr, d_steps = "adversarial.discriminator_optimizer.lr", "adversarial.d_steps"
    smoothing = "adversarial.label_smoothing"
    return Note(
        "discriminator_wins",
        f"The discriminator wins: it tells real from generated samples every time ({seen}), "
        "so the generator gets nothing to learn from. Lower the "
        f"{label(d_lr)} or the {label(d_steps)}, set {label(smoothing)} (0.1 makes real "
        "labels 0.9), or make the discriminator smaller (fewer out_features / channels).",
        [d_lr, d_steps, smoothing, "out_features", "out_channels"],
    )


def _mode_collapse(history: list[dict]) -> Note | None:
    if len(history) < GAN_MIN_EPOCHS:
        return None
    fake = _gan_series(history, "fake_spread")[-GAN_WINDOW:]
    real = _gan_series(history, "real_spread")[-GAN_WINDOW:]
    if len(fake) < GAN_WINDOW or len(real) < GAN_WINDOW:
        return None
    if any(not f < COLLAPSE * r for f, r in zip(fake, real)):
        return None
    if fake[-1] > SPREADING * fake[0]:
        return None  # still spreading out: a slow start, not a collapse
    g_lr, smoothing = "adversarial.generator_optimizer.lr", "adversarial.label_smoothing"
    return Note(
        "mode_collapse",
        f"Mode collapse: the generated samples spread {fake[-1]:.3g} against the data's "
        f"{real[-1]:.3g} for the last {GAN_WINDOW} epochs: the generator makes a few kinds of "
        f"sample only. Lower the {label(g_lr)}, give the generator more noise dimensions "
        f"(a larger shape on its Input), use a smaller {label('batch_size')} or minibatch "
        f"features in the discriminator, or set {label(smoothing)}.",
        [g_lr, "Input", "batch_size", smoothing],
    )


def _swing(values: list[float]) -> tuple[float, float]:
    """How ``values`` oscillate: the share of possible turns they make (a rise followed
    by a fall or the reverse) and their range relative to their mean size."""
    steps = [b - a for a, b in pairwise(values)]
    turns = sum(1 for a, b in pairwise(steps) if a * b < 0)
    possible = max(len(steps) - 1, 1)
    size = sum(abs(v) for v in values) / len(values)
    amplitude = (max(values) - min(values)) / size if size > 0 else 0.0
    return turns / possible, amplitude


def _oscillation(history: list[dict]) -> Note | None:
    g_loss = [v for v in _series(history, "train_g_loss") if math.isfinite(v)]
    if len(g_loss) < SWING_MIN_EPOCHS:
        return None
    window = g_loss[-SWING_WINDOW:]
    turns, amplitude = _swing(window)
    half = len(window) // 2
    first, last = window[:half], window[half:]
    settling = max(last) - min(last) < SETTLING * (max(first) - min(first))
    if turns < SWING_TURNS or amplitude < SWING_AMPLITUDE or settling:
        return None
    keys = [f"adversarial.{net}_optimizer.{name}" for name in ("lr", "betas")
            for net in ("generator", "discriminator")]  # fmt: skip
    return Note(
        "oscillation",
        f"Oscillation: the generator's loss swung between {min(window):.3g} and "
        f"{max(window):.3g} over the last {len(window)} epochs without settling: each "
        f"network keeps overshooting the other. Lower both learning rates ("
        f"{_both(keys[0], keys[1])}; try a tenth), and use Adam with beta1 0.5 "
        f"({_both(keys[2], keys[3])}: 0.5, 0.999).",
        keys,
    )


def _both(generator_key: str, discriminator_key: str) -> str:
    """The two networks' labels for one setting, said once when they read the same."""
    first, second = label(generator_key), label(discriminator_key)
    return f"{first} of both networks" if first == second else f"{first} and {second}"


def diagnose_gan(history: list[dict]) -> list[Note]:
    """Notes about an adversarial run: the discriminator winning, mode collapse,
    oscillation (each that is seen, in that order)."""
    found = (_discriminator_wins(history), _mode_collapse(history), _oscillation(history))
    return [note for note in found if note]


def diagnose(
    history: list[dict],
    task: str = "classification",
    final: bool = True,
    layers: list[dict] | None = None,
) -> list[Note]:
    """Notes about a training run from its per-epoch rows (``EpochEnd.row()``).

    Args:
        history: one dict per epoch with ``train_loss`` and, when there is validation
            data, ``val_loss``, plus ``train_accuracy``/``train_r2`` when known; or a
            GAN's rows (``train_d_loss``...), read by ``diagnose_gan``.
        task: the dataset's task.
        final: the run has ended (False while it trains: a falling loss is then no news).
        layers: the last epoch's per-layer statistics (``layers.csv`` rows, input side
            first), read for vanishing and exploding gradients.
    """
    if history and is_gan_row(history[-1]):
        return diagnose_gan(history)
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
    gradients = _gradient_flow(layers or [])
    return [note for note in (gradients, found) if note]


def _gradient_flow(layers: list[dict]) -> Note | None:
    """Vanishing or exploding gradients: the first weighted layer gets a tiny or a huge
    share of the gradient the last one gets; named with the layer where it starts."""
    rows = [r for r in layers if math.isfinite(r.get("grad_norm", math.nan))]
    if len(rows) < MIN_GRADIENT_LAYERS or rows[-1]["grad_norm"] <= 0:
        return None
    first, last = rows[0], rows[-1]
    ratio = first["grad_norm"] / last["grad_norm"]
    if ratio < VANISHING:
        start = next(r for r in reversed(rows) if r["grad_norm"] < FADED * last["grad_norm"])
        return Note(
            "vanishing_gradients",
            f"Vanishing gradients: the first layer ({first['node']}) gets {ratio:.1e} of the "
            f"gradient the last one ({last['node']}) gets; they fade from {start['node']} "
            "back, so the early layers barely learn. Use ReLU instead of Sigmoid or Tanh, add "
            "BatchNorm1d/BatchNorm2d layers, or residual connections (an Add around a few "
            "layers).",
            ["ReLU", "BatchNorm1d", "BatchNorm2d", "Add"],
        )
    if ratio > 1 / VANISHING:
        start = next(r for r in reversed(rows) if r["grad_norm"] > last["grad_norm"] / FADED)
        return Note(
            "exploding_gradients",
            f"Exploding gradients: the first layer ({first['node']}) gets {ratio:.1e} times "
            f"the gradient the last one ({last['node']}) gets; they grow from {start['node']} "
            f"back. Lower the {label('optimizer.lr')}, set {label('grad_clip')}, or add "
            "BatchNorm1d/BatchNorm2d layers.",
            ["optimizer.lr", "grad_clip", "BatchNorm1d", "BatchNorm2d"],
        )
    return None


def _schedule_has_decayed(history: list[dict]) -> bool:
    """True when a schedule has already brought the learning rate below a tenth of its start."""
    rates = _series(history, "lr")
    return len(rates) > 1 and rates[-1] <= 0.1 * rates[0]
