"""How long data work tells how far it is: ``DataProgress`` events and ``Steps``.

Reading a large image folder (listing it, checking its colours, decoding it into memory,
reading a sample for the normalisation statistics) or passing once over a large CSV
takes seconds to minutes. The loaders take an optional ``progress`` function and call it
with a ``DataProgress``; ``Steps`` calls it once a stage has run ``AFTER_S`` seconds
(quick work says nothing), then at most every ``EVERY_S`` seconds and at its last step,
so a listener is never flooded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

AFTER_S = 0.5
EVERY_S = 0.2


@dataclass(frozen=True)
class DataProgress:
    """``done`` of ``total`` steps of ``stage`` (``checking image colours``...)."""

    stage: str
    done: int
    total: int

    def text(self) -> str:
        """``checking image colours 12,000/50,000``."""
        return f"{self.stage} {self.done:,}/{self.total:,}"


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
            if not self.told and done < self.total:
                self.progress(DataProgress(self.stage, 0, self.total))  # where it started
            self.told, self.last = True, now
            self.progress(DataProgress(self.stage, done, self.total))
