"""The Layers tab: how each weighted layer's weights and gradients change over a run.

Above, curves over epochs with one line per layer: the gradient norm (log scale: a
vanishing gradient shows as the early layers lying decades below the last), the weight
norm, and the update ratio (log scale: how far an epoch moved the weights, relative to
their size). The list of layers is the legend: its colours run from the input side to
the output side, and its check boxes choose the layers drawn (all of them, or a dozen
spread over the network when it has more). Below, histograms of the selected layer's
weights and of its last sampled gradient at the epoch the slider picks (the latest,
following the run, until the user moves it).

``add_epoch`` takes an ``EpochEnd`` (its ``layers`` rows and ``histograms``) and only
keeps them; the curves are redrawn by a single-shot timer at most every ``REDRAW_MS``
and only while the tab is visible, however fast epochs end.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from nodeeditor import theme

REDRAW_MS = 200
EMPTY = "Per-layer weights and gradients appear here while a network trains."
MEASURES = {  # row key: (title, log scale)
    "grad_norm": ("gradient norm", True),
    "weight_norm": ("weight norm", False),
    "update_ratio": ("update ratio", True),
}
HISTOGRAMS = {"weights": ("weights", "#3b82f6"), "gradients": ("gradient", "#f97316")}
SHOWN_AT_FIRST = 12  # layers drawn by default in a bigger network, spread over it
MAX_HISTOGRAM_EPOCHS = 60  # epochs whose histograms are kept (thinned evenly beyond)
LABEL_SPACING = 16  # pixels between the labels of a log axis, at least
MIN_DECADES = 1.2  # a log axis spans at least this many
MIN_HEIGHT = (
    180  # two rows of plots, each with its title and axis; no more than the centre column needs
)


def spread_over(count: int, shown: int = SHOWN_AT_FIRST) -> set[int]:
    """The indices of ``shown`` layers spread evenly over ``count``, first and last
    included (all of them when there are no more)."""
    if count <= shown:
        return set(range(count))
    return {round(i * (count - 1) / (shown - 1)) for i in range(shown)}


def layer_color(index: int, count: int) -> QColor:
    """The colour of layer ``index`` of ``count``: from blue-violet at the input side
    to orange at the output side, never wrapping round to the first hue."""
    hue = 0.72 - 0.64 * index / max(count - 1, 1)
    return QColor.fromHsvF(hue, 0.8, 0.9)


def loggable(values: list) -> np.ndarray:
    """``values`` with those a log axis cannot show (zero, negative, not finite) as NaN."""
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array) & (array > 0), array, np.nan)


class DecadeAxis(pg.AxisItem):
    """A log axis labelled at the decades (and at 2 and 5 when one decade shows): the
    2..9 labels pyqtgraph puts on a short log axis overlap."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        first, last = math.floor(minVal), math.ceil(maxVal)
        decades = [v for v in range(first, last + 1) if minVal <= v <= maxVal]
        if len(decades) > 1:  # every decade, or every few when they would crowd
            step = max(1, math.ceil(len(decades) * LABEL_SPACING / max(size, 1)))
            return [(float(step), [float(v) for v in decades if v % step == 0])]
        between = [v + math.log10(m) for v in range(first, last) for m in (2, 5)]
        return [(1.0, decades), (None, [v for v in between if minVal < v < maxVal])]


def _small_plot(layout, col: int, title: str, left_axis=None):
    axes = {"left": left_axis} if left_axis is not None else None
    plot = layout.addPlot(row=0, col=col, title=title, axisItems=axes)
    plot.getAxis("left").setWidth(44)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMouseEnabled(x=False, y=False)
    plot.setMenuEnabled(False)
    return plot


class LayersView(QWidget):
    """Per-layer curves over epochs and histograms (see the module docstring)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("layers_view")
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.refresh)
        self.message = QLabel(EMPTY)
        self.message.setWordWrap(True)
        body = QHBoxLayout()
        body.addWidget(self._build_list())
        column = QVBoxLayout()
        column.addWidget(self._scrolled(self._build_plots()), 1)
        column.addLayout(self._build_slider())
        body.addLayout(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.message)
        layout.addLayout(body, 1)
        self.clear()

    # ------------------------------------------------------------------ layout
    def _build_list(self) -> QListWidget:
        self.layer_list = QListWidget()
        self.layer_list.setObjectName("layer_list")
        self.layer_list.setToolTip("Tick the layers whose curves are drawn; select one "
                                   "to see its histograms")  # fmt: skip
        self.layer_list.setMaximumWidth(130)
        self.layer_list.itemChanged.connect(self._on_ticked)
        self.layer_list.currentRowChanged.connect(self._draw_histograms)
        return self.layer_list

    def _build_plots(self) -> QWidget:
        """The three curves side by side (``layer_curves``), the two histograms under."""
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("layer_curves")
        self.graphics.setBackground(theme.colors()["base"])
        self.graphics.setMinimumHeight(MIN_HEIGHT)
        curves, histograms = self.graphics.addLayout(0, 0), self.graphics.addLayout(1, 0)
        self.plots = {}
        for col, (key, (title, log)) in enumerate(MEASURES.items()):
            plot = _small_plot(curves, col, title, DecadeAxis("left") if log else None)
            plot.setLogMode(y=log)
            plot.setLabel("bottom", "epoch")
            if col:
                plot.setXLink(self.plots["grad_norm"])
            self.plots[key] = plot
        self.histogram_plots, self.histogram_curves = {}, {}
        for col, (kind, (title, color)) in enumerate(HISTOGRAMS.items()):
            plot = _small_plot(histograms, col, title)
            brush = QColor(color)
            brush.setAlpha(150)
            self.histogram_plots[kind] = plot
            self.histogram_curves[kind] = plot.plot(
                [0, 1], [0], stepMode="center", fillLevel=0, brush=brush, pen=pg.mkPen(color)
            )
        return self.graphics

    def _scrolled(self, graphics) -> QScrollArea:
        """``graphics`` at no less than the width its three curves need side by side,
        scrolled sideways in a narrow tab rather than drawn past its edge."""
        graphics.setMinimumWidth(int(sum(p.minimumWidth() for p in self.plots.values())) + 16)
        scroll = QScrollArea()
        scroll.setObjectName("layer_curves_scroll")
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(graphics)
        bar = scroll.horizontalScrollBar().sizeHint().height()
        scroll.setMinimumHeight(graphics.minimumHeight() + bar)
        return scroll

    def _build_slider(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.epoch_label = QLabel("")
        self.epoch_label.setMinimumWidth(self.epoch_label.fontMetrics().horizontalAdvance(
            "histograms of epoch 0000"))  # fmt: skip
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("histogram_epoch")
        self.slider.setToolTip("The epoch whose histograms are shown")
        self.slider.valueChanged.connect(self._on_slider)
        row.addWidget(self.epoch_label)
        row.addWidget(self.slider, 1)
        return row

    def follow(self, panel) -> None:
        """Take the epochs of ``panel``'s runs; start afresh with each run and project."""
        panel.training_started.connect(self.clear)
        panel.epoch_ended.connect(self.add_epoch)
        panel.window_.document_changed.connect(self.clear)

    # ------------------------------------------------------------------ data in
    def clear(self, *_) -> None:
        """Forget the run shown (a new run, another project)."""
        self.timer.stop()
        for plot in self.plots.values():
            plot.clear()
        self.layer_list.blockSignals(True)
        self.layer_list.clear()
        self.layer_list.blockSignals(False)
        self.nodes: list[str] = []
        self.series: dict[str, dict[str, list]] = {}
        self.curves: dict[tuple[str, str], object] = {}
        self.histograms: dict[int, dict] = {}
        self.follow_latest = True
        self.stale = False
        self.message.setText(EMPTY)
        self.message.show()
        self._set_slider([])
        for curve in self.histogram_curves.values():
            curve.setData([0, 1], [0])

    def add_epoch(self, event) -> None:
        """Keep an epoch's per-layer rows and histograms (``EpochEnd``); drawn soon."""
        if not event.layers:
            return
        new = [row["node"] for row in event.layers if row["node"] not in self.series]
        if new:
            self._add_layers(new)
        for row in event.layers:
            series = self.series[row["node"]]
            series["epoch"].append(event.epoch)
            for key in MEASURES:
                series[key].append(row[key])
        if event.histograms:
            self.histograms[event.epoch] = {node: {kind: _arrays(h) for kind, h in kinds.items()}
                                            for node, kinds in event.histograms.items()}  # fmt: skip
            self._thin_histograms()
        self.schedule()

    def _add_layers(self, nodes: list[str]) -> None:
        self.layer_list.blockSignals(True)
        for node in nodes:
            self.nodes.append(node)
            self.series[node] = {"epoch": [], **{key: [] for key in MEASURES}}
            item = QListWidgetItem(node)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.layer_list.addItem(item)
            for key, plot in self.plots.items():
                self.curves[key, node] = plot.plot([], [], name=node, connect="finite")
        self.layer_list.blockSignals(False)
        self._recolor()
        if self.layer_list.currentRow() < 0:
            self.layer_list.setCurrentRow(0)

    def _recolor(self) -> None:
        """Colours by position, and the default choice of layers drawn."""
        shown = spread_over(len(self.nodes))
        self.layer_list.blockSignals(True)
        for index, node in enumerate(self.nodes):
            color = layer_color(index, len(self.nodes))
            swatch = QPixmap(12, 12)
            swatch.fill(color)
            item = self.layer_list.item(index)
            item.setIcon(QIcon(swatch))
            item.setCheckState(Qt.CheckState.Checked if index in shown else
                               Qt.CheckState.Unchecked)  # fmt: skip
            for key in MEASURES:
                self.curves[key, node].setPen(pg.mkPen(color, width=1.5))
                self.curves[key, node].setVisible(index in shown)
        self.layer_list.blockSignals(False)

    def _thin_histograms(self) -> None:
        """Keep at most ``MAX_HISTOGRAM_EPOCHS``: drop every other one between the
        first and the latest."""
        epochs = sorted(self.histograms)
        if len(epochs) > MAX_HISTOGRAM_EPOCHS:
            for epoch in epochs[1:-1:2]:
                del self.histograms[epoch]

    # ------------------------------------------------------------------ drawing
    def schedule(self) -> None:
        """Redraw within ``REDRAW_MS`` (one redraw for any number of calls)."""
        if not self.timer.isActive():
            self.timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.stale:
            self.schedule()

    def refresh(self) -> None:
        """Draw what was kept: the curves, the slider, the selected layer's histograms."""
        if not self.isVisible():
            self.stale = True  # drawn when the tab is shown
            return
        self.stale = False
        self.message.setVisible(not self.nodes)
        for key, (_, log) in MEASURES.items():
            for node in self.nodes:
                series = self.series[node]
                values = loggable(series[key]) if log else series[key]
                self.curves[key, node].setData(series["epoch"], values)
            if log:
                self._span_decades(key)
        self._set_slider(sorted(self.histograms))
        self._draw_histograms()

    def _span_decades(self, key: str) -> None:
        """Show at least ``MIN_DECADES`` on a log axis: its labels are the decades,
        and the in-between ticks of a shorter axis crowd each other out."""
        shown = [loggable(self.series[n][key]) for n in self.nodes
                 if self.curves[key, n].isVisible()]  # fmt: skip
        values = np.concatenate(shown) if shown else np.array([])
        values = np.log10(values[np.isfinite(values)])
        if not len(values):
            return
        low, high = float(values.min()), float(values.max())
        grow = max(0.0, MIN_DECADES - (high - low)) / 2
        self.plots[key].setYRange(low - grow, high + grow, padding=0.05)

    def _set_slider(self, epochs: list[int]) -> None:
        self.kept_epochs = epochs
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(len(epochs) - 1, 0))
        if self.follow_latest:
            self.slider.setValue(len(epochs) - 1)
        self.slider.setEnabled(len(epochs) > 1)
        self.slider.blockSignals(False)

    def _on_slider(self, value: int) -> None:
        self.follow_latest = value >= self.slider.maximum()
        self._draw_histograms()

    def _on_ticked(self, item: QListWidgetItem) -> None:
        node = item.text()
        for key in MEASURES:
            self.curves[key, node].setVisible(item.checkState() == Qt.CheckState.Checked)
        self.schedule()  # the log axes fit the layers shown

    def shown_epoch(self) -> int | None:
        """The epoch whose histograms are shown (None: none yet)."""
        if not self.kept_epochs:
            return None
        return self.kept_epochs[min(self.slider.value(), len(self.kept_epochs) - 1)]

    def selected_node(self) -> str | None:
        """The layer whose histograms are shown."""
        row = self.layer_list.currentRow()
        return self.nodes[row] if 0 <= row < len(self.nodes) else None

    def _draw_histograms(self, *_) -> None:
        epoch, node = self.shown_epoch(), self.selected_node()
        self.epoch_label.setText(f"histograms of epoch {epoch}" if epoch is not None else "")
        kinds = self.histograms.get(epoch, {}).get(node, {})
        for kind, (title, _) in HISTOGRAMS.items():
            edges, counts = kinds.get(kind, ([0.0, 1.0], [0]))
            self.histogram_curves[kind].setData(edges, counts)
            name = f"{title} of {node}" if node and kind in kinds else title
            self.histogram_plots[kind].setTitle(name)


def _arrays(histogram) -> tuple[np.ndarray, np.ndarray]:
    """A ``Histogram``'s edges and counts as compact arrays (many epochs are kept)."""
    return np.asarray(histogram.edges, np.float64), np.asarray(histogram.counts, np.int64)
