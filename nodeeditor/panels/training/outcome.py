"""The sentences the Training panel shows when a run ends: what happened, what was kept.

A run keeps the weights of its best completed epoch. When it ends before any epoch
completed (a stop in the first epoch, a failure while loading or in epoch 1), nothing
new is kept and the weights of the previous run, if any, stay the current ones.
"""

from __future__ import annotations

from nodeeditor.training_thread import KeptWeights


def kept_text(kept: KeptWeights | None, fits: bool = True) -> str:
    """The line under the progress bar: which weights are kept, and where."""
    if kept is None:
        return "Weights: none trained yet"
    text = f"Weights: {kept.describe()}, {kept.where()}"
    if not fits:
        text += (
            ". The network's weighted layers changed since: Start from kept weights uses "
            "the layers that still fit, and Export needs all of them"
        )
    return text


def _previous(before: KeptWeights | None) -> str:
    if before is None:
        return "there are no trained weights yet"
    return f"the weights of the previous run ({before.describe()}) are still kept"


def failure_text(message: str, kept: KeptWeights | None, before: KeptWeights | None) -> str:
    """``Training failed: … . The weights of epoch 2 … are kept in …``."""
    cause = message.removeprefix("training failed: ").rstrip(".")
    text = f"Training failed: {cause}."
    if kept is not None:
        which = "the last" if kept.latest() else "the best"
        return f"{text} The weights of {kept.describe()}, {which} before the failure, are kept ({kept.where()})."
    return f"{text} No epoch completed, so {_previous(before)}."


def end_text(kept: KeptWeights | None, before: KeptWeights | None) -> str:
    """What a run that ended without an error kept (appended to its summary)."""
    if kept is not None:
        return f"Kept the weights of {kept.describe()} {_short_where(kept)}."
    return f"No epoch completed, so nothing was kept from this run: {_previous(before)}."


def _short_where(kept: KeptWeights) -> str:
    """``in moons_runs/2026-11-23_17-49-40/`` (the full path is on the Weights line)."""
    if kept.path is None:
        return "in memory only"
    return f"in {kept.path.parent.parent.name}/{kept.path.parent.name}/"
