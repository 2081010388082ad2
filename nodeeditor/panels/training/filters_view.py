"""The Filters tab: what each convolution learned, beside the filters it started from.

After a run, pick a convolution layer: left, its filters as the run started (random for
a fresh network; ``engine.training.filters.StartFilters`` keeps them); in the middle,
the same filters in the run's kept weights; right, what training added to each (learned
minus start). Each filter is a tile, blue below zero, white at zero, red above, on its
own scale (``engine.insight.render.filters_picture``); a line says how far the filters
moved from their start, relative to their size.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from nodeeditor.panels.training.mistakes_view import pixmap

EMPTY = "The filters of the convolution layers appear here after a run."
NONE = "The network has no convolution layer: it has no filters to show."
MIN_SIDE = 120


def layer_name(key: str) -> str:
    """``conv1.weight`` -> ``conv1`` (the node, or the block's path to it)."""
    return key.removesuffix(".weight")


def moved(start: np.ndarray, end: np.ndarray) -> float:
    """How far ``end`` is from ``start``, relative to ``start``'s size (L2 norms)."""
    size = float(np.linalg.norm(start))
    return float(np.linalg.norm(end - start)) / size if size > 0 else float("inf")


class Picture(QLabel):
    """An RGB picture scaled to fit the label (nearest neighbour, square pixels)."""

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(MIN_SIDE, MIN_SIDE)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.rgb: np.ndarray | None = None

    def set_rgb(self, rgb: np.ndarray | None) -> None:
        """Show ``rgb`` ((H, W, 3) uint8), or nothing."""
        self.rgb = rgb
        self._draw()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._draw()

    def _draw(self) -> None:
        if self.rgb is None:
            self.clear()
            return
        self.setPixmap(pixmap(self.rgb, max(MIN_SIDE, min(self.width(), self.height()))))


class FiltersView(QWidget):
    """Start and learned filters of a chosen convolution (see the module docstring)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("filters_view")
        self.layer_box = QComboBox()
        self.layer_box.setObjectName("filter_layer")
        self.layer_box.setToolTip("The convolution layer whose filters are shown")
        self.layer_box.currentIndexChanged.connect(self._draw)
        self.message = QLabel(EMPTY)
        self.message.setWordWrap(True)
        self.start_title, self.end_title = QLabel("At the start of the run"), QLabel("")
        self.change_title = QLabel("Change (learned − start)")
        self.start_picture, self.end_picture = Picture("start_filters"), Picture("end_filters")
        self.change_picture = Picture("filter_change")
        self.titles = (self.start_title, self.end_title, self.change_title)
        grid = QGridLayout()
        pictures = (self.start_picture, self.end_picture, self.change_picture)
        for col, (title, picture) in enumerate(zip(self.titles, pictures)):
            grid.addWidget(title, 0, col)
            grid.addWidget(picture, 1, col)
        grid.setRowStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.layer_box)
        layout.addWidget(self.message)
        layout.addLayout(grid, 1)
        self.panel = None
        self.run_start: dict | None = None  # the start filters of the run that trains
        self.clear()

    def follow(self, panel) -> None:
        """Show the filters of ``panel``'s runs when each ends; forget them with the
        project."""
        self.panel = panel
        panel.training_started.connect(self._on_started)
        panel.epoch_ended.connect(self._on_epoch)
        panel.training_ended.connect(self._on_ended)
        panel.window_.document_changed.connect(self.clear)

    def clear(self, *_, text: str = EMPTY) -> None:
        """Show nothing but ``text``."""
        self.start, self.end, self.epoch = {}, {}, 0
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.blockSignals(False)
        self.layer_box.hide()
        self.message.setText(text)
        for title in self.titles:
            title.hide()
        for picture in (self.start_picture, self.end_picture, self.change_picture):
            picture.set_rgb(None)

    def show_filters(self, start: dict, end: dict, epoch: int) -> None:
        """Show the convolutions of ``start`` (``{key: weights}`` as the run started)
        beside the same keys of ``end`` (the kept state dict, of ``epoch``)."""
        from engine.training.filters import shown

        keys = [key for key in start if key in end]
        if not keys:
            self.clear(text=NONE if not start else EMPTY)
            return
        self.start = {key: np.asarray(start[key]) for key in keys}
        self.end = {key: shown(end[key]) for key in keys}
        self.epoch = epoch
        chosen = self.layer_box.currentText()
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems([layer_name(key) for key in keys])
        names = [layer_name(key) for key in keys]
        self.layer_box.setCurrentIndex(names.index(chosen) if chosen in names else 0)
        self.layer_box.blockSignals(False)
        self.layer_box.show()
        for title in self.titles:
            title.show()
        self._draw()

    def current_key(self) -> str | None:
        """The state-dict key of the layer shown."""
        index = self.layer_box.currentIndex()
        keys = list(self.start)
        return keys[index] if 0 <= index < len(keys) else None

    def _draw(self, *_) -> None:
        from engine.insight.render import filters_picture

        key = self.current_key()
        if key is None:
            return
        start, end = self.start[key], self.end[key]
        self.start_picture.set_rgb(filters_picture(start))
        self.end_picture.set_rgb(filters_picture(end))
        self.change_picture.set_rgb(filters_picture(end - start))
        self.end_title.setText(f"Learned (kept weights, epoch {self.epoch})")
        count = f"{start.shape[0]} filters" + (
            f" of {start.shape[1]} channels" if start.shape[1] not in (1, 3) else ""
        )
        self.message.setText(
            f"{layer_name(key)}: {count}; training moved them {moved(start, end) * 100:.0f} % "
            "of their size at the start. Blue is below zero, red above."
        )

    # ------------------------------------------------------------------ the panel's runs
    def _on_started(self) -> None:
        self.run_start = None
        self.clear(text="The filters appear here when training ends.")

    def _on_epoch(self, _event) -> None:
        # the session set them before its first batch and lets go of them when it ends
        run = self.panel.run
        if self.run_start is None and run is not None and run.worker.session is not None:
            self.run_start = run.worker.session.start_filters.filters

    def _on_ended(self, _reason: str) -> None:
        start, self.run_start = self.run_start, None
        kept = self.panel.kept
        if start is None or kept is None:
            self.clear()  # no epoch completed: the run kept no weights of its own
            return
        self.show_filters(start, kept.state, kept.epoch)
