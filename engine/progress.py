"""How long work tells how far it is: ``Progress`` events, ``Steps`` and ``stage``.

Reading a large image folder, importing a big model or exporting it to ONNX takes
seconds to minutes. Such work takes an optional ``progress`` function and calls it with
a ``Progress``: a stage of counted steps (``checking image colours 12,000/50,000``),
throttled by ``Steps``, or a stage whose length is not known (``tracing the model``),
announced by ``stage`` when it starts; the next event ends it.

``Steps`` reports once a stage has run ``AFTER_S`` seconds (quick work says nothing),
then at most every ``EVERY_S`` seconds and at its last step, so a listener is never
flooded. A listener that wants the work stopped raises ``Cancelled`` from the progress
function: the work ends at that point, and what it writes is written atomically, so
nothing is left half done. ``engine.progress_console`` draws the events on a terminal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from engine.errors import DeepwireError

AFTER_S = 0.5
EVERY_S = 0.2


class Cancelled(DeepwireError):
    """The user stopped the work; nothing it would have written was written."""


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps of ``stage``; ``total`` 0: a stage of unknown length."""

    stage: str
    done: int = 0
    total: int = 0

    @property
    def counted(self) -> bool:
        """Whether the stage's steps are counted (a bar can be drawn)."""
        return self.total > 0

    def text(self) -> str:
        """``checking image colours 12,000/50,000``, or the stage alone."""
        if not self.counted:
            return self.stage
        return f"{self.stage} {self.done:,}/{self.total:,}"

    def as_dict(self) -> dict:
        """The event as JSON-ready values (it crosses from a child process this way)."""
        return {"stage": self.stage, "done": self.done, "total": self.total}

    @classmethod
    def from_dict(cls, values: dict) -> Progress | None:
        """The event ``as_dict`` wrote; None for anything else."""
        try:
            stage, done, total = values["stage"], values["done"], values["total"]
        except (KeyError, TypeError):
            return None
        if not isinstance(stage, str) or not all(type(n) is int for n in (done, total)):
            return None
        return cls(stage[:200], done, total)


def stage(progress, name: str) -> None:
    """Tell ``progress`` (None: nobody) that the stage ``name`` of unknown length starts."""
    if progress is not None:
        progress(Progress(name))


class Steps:
    """Reports the steps of one stage to ``progress`` (None: to nobody), throttled."""

    def __init__(self, progress, stage: str, total: int):
        self.progress, self.stage, self.total = progress, stage, total
        self.started = self.last = time.monotonic()
        self.told = False

    def tell(self, done: int) -> None:
        """``done`` steps are done; reported as the module docstring says."""
        if self.progress is None:
            return
        now = time.monotonic()
        if not self.told and now - self.started < AFTER_S:
            return
        if (done >= self.total and self.told) or now - self.last >= EVERY_S:
            if not self.told and 0 < done < self.total:
                self.progress(Progress(self.stage, 0, self.total))  # where it started
            self.told, self.last = True, now
            self.progress(Progress(self.stage, done, self.total))
