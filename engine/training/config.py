"""The project's ``training`` section, checked: ``TrainingConfig``.

This module does not import torch, so the app can read and validate settings at start-up.
Every field has a default; a wrong one raises TrainingError naming the field::

    {"epochs": 20, "batch_size": 64, "loss": "CrossEntropyLoss",
     "optimizer": {"type": "Adam", "lr": 0.001, "weight_decay": 0.0},
     "l1": 0.0, "grad_clip": null,
     "scheduler": {"type": "CosineAnnealingLR"},
     "early_stopping": {"monitor": "val_loss", "patience": 5},
     "seed": 0, "device": "auto", "precision": "fp32", "compile": false}

``loss`` may be ``"auto"`` (the dataset's suggestion) or ``{"type": "HuberLoss",
"delta": 1.0}``. Scheduler types keep torch's names (``StepLR``, ``CosineAnnealingLR``,
``OneCycleLR``, ``ReduceLROnPlateau``) and accept the short ``step``, ``cosine``,
``one_cycle``, ``plateau``.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from engine.bounds import FLOAT_MAX, INT_MAX, shown
from engine.errors import TrainingError
from engine.training.core.adversarial import NOISE
from engine.training.core.loop import MONITORS

LOSSES = {
    "CrossEntropyLoss": {"label_smoothing": 0.0},
    "MSELoss": {},
    "L1Loss": {},
    "BCEWithLogitsLoss": {},
    "HuberLoss": {"delta": 1.0},
    "NLLLoss": {},
}
OPTIMIZERS = {
    "SGD": {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0, "dampening": 0.0},
    "Adam": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    "AdamW": {"lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False},
    "RMSprop": {"lr": 0.001, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0,
                "centered": False},
}  # fmt: skip
SCHEDULERS = {
    "StepLR": {"step_size": 10, "gamma": 0.1},
    "CosineAnnealingLR": {"eta_min": 0.0},
    "OneCycleLR": {"max_lr": None, "pct_start": 0.3},
    "ReduceLROnPlateau": {"factor": 0.1, "patience": 3, "monitor": "val_loss"},
}
SCHEDULER_ALIASES = {"step": "StepLR", "cosine": "CosineAnnealingLR", "one_cycle": "OneCycleLR",
                     "onecycle": "OneCycleLR", "plateau": "ReduceLROnPlateau"}  # fmt: skip
PRECISIONS = ("fp32", "bf16", "fp16", "auto")
RECIPES = ("auto", "supervised", "reconstruction", "adversarial")
GAN_OPTIMIZER = {"type": "Adam", "lr": 0.0002, "betas": [0.5, 0.999]}
# the ``adversarial`` section of a GAN project, with its defaults
ADVERSARIAL = {"generator": "generator", "discriminator": "discriminator", "noise": "normal",
               "d_steps": 1, "label_smoothing": 0.0, "generator_optimizer": GAN_OPTIMIZER,
               "discriminator_optimizer": GAN_OPTIMIZER}  # fmt: skip
# What the app's forms call each setting; the doctor and the data check use the same words.
LABELS = {"epochs": "Epochs", "batch_size": "Batch size", "loss": "Loss",
          "optimizer": "Optimizer", "optimizer.lr": "Learning rate",
          "optimizer.weight_decay": "Weight decay", "scheduler": "Schedule",
          "early_stopping": "Early stopping", "device": "Device", "precision": "Precision",
          "grad_clip": "Gradient clipping", "l1": "L1 penalty", "seed": "Seed",
          "dataset.normalize": "Normalize", "dataset.augment": "Augment",
          "dataset.validation_split": "Validation split", "recipe": "Recipe",
          "adversarial.generator": "Generator", "adversarial.discriminator": "Discriminator",
          "adversarial.noise": "Noise", "adversarial.d_steps": "D steps per G step",
          "adversarial.label_smoothing": "Label smoothing",
          "adversarial.generator_optimizer": "Generator optimizer",
          "adversarial.generator_optimizer.lr": "Generator learning rate",
          "adversarial.discriminator_optimizer": "Discriminator optimizer",
          "adversarial.discriminator_optimizer.lr": "Discriminator learning rate"}  # fmt: skip


def label(key: str) -> str:
    """The label the user sees for a setting key (``optimizer.lr`` -> ``Learning rate``);
    keys without one read as their words (``dataset.n_samples`` -> ``N samples``)."""
    if key in LABELS:
        return LABELS[key]
    words = key.rsplit(".", 1)[-1].replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass
class TrainingConfig:
    """Checked training settings (see the module docstring for the JSON form)."""

    epochs: int = 10
    batch_size: int = 64
    loss: dict = field(default_factory=lambda: {"type": "auto"})
    optimizer: dict = field(default_factory=lambda: {"type": "Adam", **OPTIMIZERS["Adam"]})
    l1: float = 0.0
    grad_clip: float | None = None
    scheduler: dict | None = None
    early_stopping: dict | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    compile: bool = False
    log_every: int = 1
    recipe: str = "auto"
    adversarial: dict | None = None

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainingConfig:
        """Check a ``training`` section and fill in defaults; raises TrainingError."""
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise TrainingError("training: must be an object of settings")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainingError(
                f"training: unknown setting {unknown[0]!r} (it takes: {', '.join(sorted(known))})"
            )
        defaults = cls()
        config = cls(
            epochs=_int(data, "epochs", defaults.epochs, 1),
            batch_size=_int(data, "batch_size", defaults.batch_size, 1),
            loss=_loss(data.get("loss", "auto")),
            optimizer=_optimizer(data.get("optimizer", {"type": "Adam"})),
            l1=_float(data, "l1", 0.0),
            grad_clip=_float(data, "grad_clip", None, positive=True),
            scheduler=_scheduler(data.get("scheduler")),
            early_stopping=_early_stopping(data.get("early_stopping")),
            seed=_int(data, "seed", 0, 0),
            device=_device(data.get("device", "auto")),
            precision=_choice(data, "precision", "fp32", PRECISIONS),
            compile=_bool(data, "compile", False),
            log_every=_int(data, "log_every", 1, 1),
            recipe=_choice(data, "recipe", "auto", RECIPES),
        )
        if config.recipe == "adversarial":
            config.adversarial = _adversarial(data.get("adversarial"))
            if config.early_stopping or config.scheduler:
                what = "early_stopping" if config.early_stopping else "scheduler"
                _fail(what, "is not used by the adversarial recipe (a GAN's losses do not say "
                      "when it is done); set it to null")  # fmt: skip
        elif data.get("adversarial") is not None:
            _fail("adversarial", 'is read only with "recipe": "adversarial"')
        return config

    def to_dict(self) -> dict:
        """The settings as plain JSON data (what goes into the project file)."""
        return copy.deepcopy(asdict(self))

    @property
    def loss_name(self) -> str:
        """The loss type, ``auto`` until resolved against a dataset."""
        return self.loss["type"]


def _fail(field_name: str, text: str):
    raise TrainingError(f"training: {field_name} {text}")


def _int(data: dict, key: str, default, minimum: int) -> int:
    return _whole(key, data.get(key, default), minimum)


def _whole(where: str, value: Any, minimum: int) -> int:
    """``value`` if it is a whole number from ``minimum`` to INT_MAX; else TrainingError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(where, f"must be a whole number of {minimum} or more, not {value!r}")
    if value > INT_MAX:
        _fail(where, f"must be a whole number of at most {INT_MAX:,}, not {shown(value)}")
    return value


def _number(where: str, value: Any) -> float:
    """``value`` if it is a finite number from 0 to FLOAT_MAX; else TrainingError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        _fail(where, f"must be a number of 0 or more, not {value!r}")
    if not math.isfinite(value):
        _fail(where, f"must be a finite number, not {value}")
    if value > FLOAT_MAX:
        _fail(where, f"must be at most {shown(FLOAT_MAX)}, not {shown(value)}")
    return value


def _float(data: dict, key: str, default, positive: bool = False):
    value = data.get(key, default)
    if value is None and default is None:
        return None
    _number(key, value)
    if positive and value == 0:
        _fail(key, "must be more than 0 (or null for none)")
    return float(value)


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        _fail(key, "must be true or false")
    return value


def _choice(data: dict, key: str, default: str, choices) -> str:
    value = data.get(key, default)
    if value not in choices:
        _fail(key, f"must be one of {', '.join(choices)}, not {value!r}")
    return value


def _device(value: Any) -> str:
    ok = isinstance(value, str) and (
        value in ("auto", "cpu", "cuda", "mps") or re.fullmatch(r"cuda:\d{1,4}", value)
    )
    if not ok:
        shown_value = repr(value)[:40]
        _fail("device", f'must be "auto", "cpu", "cuda", "cuda:N" or "mps", not {shown_value}')
    return value


def _typed(value: Any, where: str, table: dict, aliases: dict | None = None) -> dict:
    """``"Name"`` or ``{"type": "Name", ...}`` -> a full dict with defaults, checked."""
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        _fail(where, 'must be a name or {"type": name, ...}')
    name = (aliases or {}).get(value["type"], value["type"])
    if name not in table:
        _fail(where, f"{value['type']!r} is not one of {', '.join(table)}")
    extra = sorted(set(value) - {"type"} - set(table[name]))
    if extra:
        takes = ", ".join(table[name]) or "no settings"
        _fail(where, f"{name} has no setting {extra[0]!r} (it takes: {takes})")
    given = {k: v for k, v in value.items() if k != "type"}
    full = {"type": name, **copy.deepcopy(table[name]), **given}
    for key, default in table[name].items():
        _check_like(f"{where}.{key}", full[key], default)
    return full


def _check_like(where: str, value: Any, default: Any) -> None:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            _fail(where, "must be true or false")
    elif isinstance(default, int | float) or default is None:
        if value is None and default is None:
            return
        _number(where, value)
    elif isinstance(default, list):
        if not (isinstance(value, list) and len(value) == len(default)
                and all(isinstance(v, int | float) and not isinstance(v, bool)
                        and 0 <= v < 1 for v in value)):  # fmt: skip
            _fail(where, f"must be {len(default)} numbers from 0 to below 1")
    elif isinstance(default, str) and value not in MONITORS:
        _fail(where, f"must be one of {', '.join(MONITORS)}")


def _loss(value: Any) -> dict:
    if value == "auto" or value is None:
        return {"type": "auto"}
    return _typed(value, "loss", LOSSES)


def _optimizer(value: Any, where: str = "optimizer") -> dict:
    full = _typed(value, where, OPTIMIZERS)
    if full["lr"] <= 0:
        _fail(f"{where}.lr", "must be more than 0")
    if full.get("nesterov") and (full["momentum"] <= 0 or full["dampening"] != 0):
        _fail(f"{where}.nesterov", "needs momentum above 0 and dampening 0")
    return full


def _scheduler(value: Any) -> dict | None:
    if value is None or value == "none":
        return None
    full = _typed(value, "scheduler", SCHEDULERS, SCHEDULER_ALIASES)
    if full["type"] == "StepLR" and full["step_size"] < 1:
        _fail("scheduler.step_size", "must be 1 or more epochs")
    if full["type"] == "OneCycleLR" and not 0 < full["pct_start"] < 1:
        _fail("scheduler.pct_start", "must be between 0 and 1")
    return full


def _early_stopping(value: Any) -> dict | None:
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        _fail("early_stopping", 'must be null, true or {"monitor": ..., "patience": ...}')
    defaults = {"monitor": "val_loss", "patience": 5, "min_delta": 0.0}
    extra = sorted(set(value) - set(defaults))
    if extra:
        _fail(
            "early_stopping",
            f"has no setting {extra[0]!r} (it takes: monitor, patience, min_delta)",
        )
    full = {**defaults, **value}
    if full["monitor"] not in MONITORS:
        _fail("early_stopping.monitor", f"must be one of {', '.join(MONITORS)}")
    _whole("early_stopping.patience", full["patience"], 1)
    _check_like("early_stopping.min_delta", full["min_delta"], 0.0)
    return full


def _adversarial(value: Any) -> dict:
    """The ``adversarial`` section with its defaults, checked."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        _fail("adversarial", "must be an object of settings")
    extra = sorted(set(value) - set(ADVERSARIAL))
    if extra:
        _fail("adversarial", f"has no setting {extra[0]!r} (it takes: {', '.join(ADVERSARIAL)})")
    full = {**copy.deepcopy(ADVERSARIAL), **value}
    for role in ("generator", "discriminator"):
        if not isinstance(full[role], str) or not full[role]:
            _fail(f"adversarial.{role}", "must be the name of one of the project's networks")
    if full["generator"] == full["discriminator"]:
        _fail("adversarial.discriminator", "must be another network than the generator")
    if full["noise"] not in NOISE:
        _fail("adversarial.noise", f"must be one of {', '.join(NOISE)}, not {full['noise']!r}")
    _whole("adversarial.d_steps", full["d_steps"], 1)
    smoothing = _number("adversarial.label_smoothing", full["label_smoothing"])
    if smoothing >= 0.5:
        _fail("adversarial.label_smoothing", "must be below 0.5 (0.1 is usual)")
    for role in ("generator_optimizer", "discriminator_optimizer"):
        given = full[role]
        if isinstance(given, dict) and given.get("type", "Adam") == "Adam":
            given = {**GAN_OPTIMIZER, **given}  # Adam's beta1 0.5 unless given
        full[role] = _optimizer(given, f"adversarial.{role}")
    return full
