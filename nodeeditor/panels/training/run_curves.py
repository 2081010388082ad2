"""Curves of several runs on the same axes, for the Runs tab (``runs_view.py``).

Two plots: the loss and the task's metric (accuracy, R² or MAE), side by side in a wide
area and one above the other in a tall one (the Training dock is usually wide and
short, and undocked it may be anything). Each run is drawn in its colour, its
validation curve solid and its training curve dashed; a legend above the plots names
each run with the settings that set it apart (inside a small plot, a legend would hide
the curves).
"""

from __future__ import annotations

import html

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from nodeeditor import theme
from nodeeditor.panels.training.plots import METRIC_TITLES

METRICS = ("accuracy", "r2", "mae")  # the task's main metric, by preference
PARTS = (("val", Qt.PenStyle.SolidLine), ("train", Qt.PenStyle.DashLine))
EMPTY = "Tick runs in the table to draw their curves here."


def main_metric(history: list) -> str | None:
    """The task's metric the rows hold (``accuracy``, ``r2`` or ``mae``), or None."""
    columns = {key for row in history for key in row}
    return next((m for m in METRICS if f"val_{m}" in columns or f"train_{m}" in columns), None)


def points(run, column: str) -> tuple[list, list]:
    """The (epochs, values) of one column of the run's history, skipping blanks."""
    pairs = [(row["epoch"], row.get(column)) for row in run.history]
    pairs = [(x, y) for x, y in pairs if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


class RunCurves(QWidget):
    """The loss and metric curves of the runs given to ``show_runs``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.legend = QLabel(EMPTY)
        self.legend.setObjectName("runs_legend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.legend)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("runs_plots")
        self.graphics.setBackground(theme.colors()["base"])
        self.graphics.setMinimumHeight(110)  # no taller than the centre column needs
        layout.addWidget(self.graphics, 1)
        self.loss_plot = self._plot(0, "loss")
        self.metric_plot = self._plot(1, "metric")
        self.metric_plot.setXLink(self.loss_plot)
        self.side_by_side = False
        self.curves: dict[str, list] = {}  # run name -> its curves

    def _plot(self, row: int, title: str):
        plot = self.graphics.addPlot(row=row, col=0, title=title)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "epoch")
        return plot

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        size = self.graphics.size()
        self.arrange(size.width() > 1.5 * size.height())

    def arrange(self, side_by_side: bool) -> None:
        """Put the two plots side by side, or one above the other."""
        if side_by_side == self.side_by_side:
            return
        self.side_by_side = side_by_side
        layout = self.graphics.ci
        layout.removeItem(self.metric_plot)
        layout.addItem(self.metric_plot, *((0, 1) if side_by_side else (1, 0)))
        grid = layout.layout
        for index in (0, 1):  # the two plots share the space equally
            grid.setColumnStretchFactor(index, 1 if side_by_side or index == 0 else 0)
            grid.setRowStretchFactor(index, 1 if not side_by_side or index == 0 else 0)

    def show_runs(self, runs: list, colors: list[str], titles: list[str]) -> None:
        """Draw ``runs``, each in its colour and named by its title in the legend."""
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear()
        self.curves = {}
        metric = next((m for m in (main_metric(run.history) for run in runs) if m), None)
        self.loss_plot.setTitle("loss")
        self.metric_plot.setTitle(METRIC_TITLES.get(metric, "metric"))
        for run, color in zip(runs, colors, strict=True):
            self.curves[run.name] = self._draw(self.loss_plot, run, "loss", color)
            if metric:
                self.curves[run.name] += self._draw(self.metric_plot, run, metric, color)
        entries = [f'<span style="color:{color}">━━</span>&nbsp;{_unbroken(title)}'
                   for color, title in zip(colors, titles, strict=True)]  # fmt: skip
        key = "(validation solid, training dashed)"
        self.legend.setText(" &nbsp; ".join([*entries, key]) if entries else EMPTY)

    def _draw(self, plot, run, measure: str, color: str) -> list:
        """The run's ``val_<measure>`` and ``train_<measure>`` curves on ``plot``."""
        drawn = []
        for part, style in PARTS:
            xs, ys = points(run, f"{part}_{measure}")
            if xs:
                pen = pg.mkPen(color, width=2, style=style)
                drawn.append(plot.plot(xs, ys, pen=pen, symbol="o", symbolSize=4,
                                       symbolBrush=color, symbolPen=None))  # fmt: skip
        return drawn


def _unbroken(text: str) -> str:
    """``text`` as HTML that wraps only between legend entries, not inside one."""
    return html.escape(text).replace(" ", "&nbsp;")
