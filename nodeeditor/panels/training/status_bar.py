"""The Training panel's progress bar, whose text always fits on one line of the bar.

A status is given as texts from the fullest to the shortest (``epoch 108/200 · ETA
0:26 · 1,086 samples/s``, ``epoch 108/200 · ETA 0:26``, ``epoch 108/200``...); the
bar shows the first that fits its width and elides the last when none does, so the
text is never wrapped or cut however narrow the panel is. ``format()`` and the tooltip
hold the full text. Progress is counted in steps (batches), as many as a run has:
``set_steps`` scales them to the C int the bar holds.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from nodeeditor.panels.spin_boxes import INT_LIMIT

TEXT_MARGIN = 6  # px kept free on each side of the text
SHORTEST = "epoch 888/888"  # the bar is never too narrow for this


def running_texts(epoch: int, epochs: int, eta: str, rate: float) -> tuple[str, ...]:
    """The status of a run in progress, fullest first."""
    where = f"epoch {epoch}/{epochs}"
    return (f"{where} · ETA {eta} · {rate:,.0f} samples/s", f"{where} · ETA {eta}", where,
            f"{epoch}/{epochs}")  # fmt: skip


def paused_texts(epoch: int, epochs: int) -> tuple[str, ...]:
    """The status of a paused run: where it is, no ETA (nothing is moving)."""
    return f"paused at epoch {epoch}/{epochs}", f"paused {epoch}/{epochs}"


class StatusProgress(QProgressBar):
    """A progress bar showing the longest of its status texts that fits."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.shorter: tuple[str, ...] = ()
        self.setTextVisible(True)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(SHORTEST) + 2 * TEXT_MARGIN)
        self.set_status("ready")

    def set_status(self, text: str, *shorter: str) -> None:
        """Show ``text``, or the first of ``shorter`` (shortest last) that fits."""
        self.shorter = shorter
        self.setFormat(text)
        self.setToolTip(text)
        self.update()

    def set_steps(self, done: int, total: int) -> None:
        """Show ``done`` of ``total`` steps, however many (the bar holds a C int)."""
        scale = -(-max(total, 1) // INT_LIMIT)  # steps per unit of the bar, rounded up
        self.setRange(0, -(-max(total, 1) // scale))
        self.setValue(min(done // scale, self.maximum()))

    def status(self) -> str:
        """The full status text."""
        return self.format()

    def text(self) -> str:
        """The text drawn on the bar (Qt's styles ask for it when painting)."""
        room = self.contentsRect().width() - 2 * TEXT_MARGIN
        metrics = self.fontMetrics()
        texts = (self.format(), *self.shorter)
        for text in texts:
            if metrics.horizontalAdvance(text) <= room:
                return text
        return metrics.elidedText(texts[-1], Qt.TextElideMode.ElideRight, max(room, 0))
