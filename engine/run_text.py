"""How runs read for a user, the same in ``deepwire runs`` and the app's Runs tab."""

from __future__ import annotations

from engine.training.config import LABELS, label

UNKNOWN, ABSENT = "?", "—"
STATUS_WORDS = {"early_stopping": "finished (early stop)"}


def status_text(run) -> str:
    """``finished``, ``finished (early stop)``, ``stopped``, ``failed``, ``interrupted``..."""
    if run.status == "finished":
        return STATUS_WORDS.get(run.reason, "finished")
    return run.status


def metric_value(metric: str, value: float) -> str:
    """``93.3%`` for an accuracy, ``0.2902`` otherwise."""
    if metric.endswith("accuracy"):
        return f"{value * 100:.1f}%"
    return f"{value:.4g}"


def best_text(best) -> str:
    """``val_loss 0.2902 (epoch 3)``, or ``—``."""
    if best is None:
        return ABSENT
    return f"{best.metric} {metric_value(best.metric, best.value)} (epoch {best.epoch})"


def duration_text(seconds: float | None, estimated: bool = False) -> str:
    """``42 ms``, ``3.5 s``, ``2 min 05 s``, ``1 h 02 min``; ``~`` before an estimate."""
    if seconds is None:
        return ABSENT
    if seconds < 1:
        text = f"{seconds * 1000:.0f} ms"
    elif seconds < 60:
        text = f"{seconds:.1f} s"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    else:
        text = f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"~{text}" if estimated else text


def setting_label(key: str) -> str:
    """The words a setting key reads as: ``optimizer.lr`` -> ``Learning rate``,
    ``loss.type`` -> ``Loss``, ``early_stopping.patience`` -> ``Early stopping: patience``."""
    if key in LABELS:
        return LABELS[key]
    if key.endswith(".type"):
        return label(key[: -len(".type")])
    if key in ("dataset", "network"):
        return key.capitalize()
    parent, _, last = key.rpartition(".")
    if parent:
        return f"{setting_label(parent)}: {last.replace('_', ' ')}"
    return label(key)


def value_text(value) -> str:
    """A setting's value as a user reads it: ``0.01``, ``(0.9, 0.999)``, ``none``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "(" + ", ".join(value_text(item) for item in value) + ")"
    return str(value)


def setting_text(run, key: str) -> str:
    """Run ``run``'s value of setting ``key``: ``?`` when its settings are unknown,
    ``—`` when it has no such setting."""
    if run.settings is None:
        return UNKNOWN
    if key not in run.settings:
        return ABSENT
    return value_text(run.settings[key])


def run_title(run, keys) -> str:
    """``2026-11-30_12-00-00: Learning rate 0.01``: the run and its differing settings."""
    shown = [f"{setting_label(key)} {setting_text(run, key)}" for key in list(keys)[:3]]
    more = " …" if len(keys) > 3 else ""
    return f"{run.name}: {', '.join(shown)}{more}" if shown else run.name
