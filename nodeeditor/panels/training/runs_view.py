"""The Training panel's Runs tab: every run of the project side by side.

A table lists the runs (``engine.runs``) with their status, epochs, best metric,
duration and, as more columns, the settings that differ between them; the cells that
differ between the ticked runs (or between all runs, while fewer than two are ticked)
are highlighted. Ticked runs overlay their curves on two plots, loss and the task's
metric, validation solid and training dashed, each run in its own colour and named in
the legend with its differing settings. The list is read again when the tab is shown,
when a run ends and when another project is shown.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import run_text
from engine.runs import differences, list_runs, project_run_folders, run_folders
from nodeeditor import theme
from nodeeditor.panels.training.plots import METRIC_TITLES
from nodeeditor.run_folder import app_runs_dir

FIXED = ("Run", "Status", "Epochs", "Best", "Duration")
RUN_COLORS = ("#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308",
              "#64748b", "#ec4899", "#84cc16")  # fmt: skip
METRICS = ("accuracy", "r2", "mae")  # the task's main metric, by preference
DIFFERS = Qt.ItemDataRole.UserRole + 1  # True on a highlighted cell
HINT = "Tick two or more runs to overlay their curves; highlighted: the settings that differ."


def project_folders(path) -> tuple[list, str]:
    """The run folders of the project at ``path`` (None: unsaved) and where they are."""
    if path is None:
        folder = app_runs_dir() / "untitled"
        return run_folders(folder), f"runs of projects not saved yet, in {folder}"
    fallback = run_folders(
        app_runs_dir() / path.stem
    )  # where runs go when NAME_runs cannot be written
    return project_run_folders(path) + fallback, f"runs of {path.name}"


def main_metric(history: list) -> str | None:
    """The task's metric the rows hold (``accuracy``, ``r2`` or ``mae``), or None."""
    columns = {key for row in history for key in row}
    return next((m for m in METRICS if f"val_{m}" in columns or f"train_{m}" in columns), None)


class RunsView(QWidget):
    """The Runs tab of ``panel`` (a ``TrainingPanel``); see the module docstring."""

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.runs: list = []
        self.keys: list[str] = []  # the differing settings shown as columns
        self.curves: dict[str, list] = {}  # run name -> its plotted curves
        self._filling = False
        self._build()
        panel.training_started.connect(self.refresh)
        panel.training_ended.connect(self.refresh)
        panel.window_.document_changed.connect(self.refresh)
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.label = QLabel()
        self.label.setObjectName("runs_label")
        self.label.setWordWrap(True)
        layout.addWidget(self.label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(FIXED))
        self.table.setObjectName("runs_table")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._on_item_changed)
        splitter.addWidget(self.table)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("runs_plots")
        self.graphics.setBackground(theme.colors()["base"])
        self.graphics.setMinimumHeight(160)
        self.loss_plot = self._plot(0, "loss")
        self.metric_plot = self._plot(1, "metric")
        splitter.addWidget(self.graphics)
        splitter.setSizes([200, 260])
        layout.addWidget(splitter, 1)

    def _plot(self, col: int, title: str):
        plot = self.graphics.addPlot(row=0, col=col, title=title)
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setLabel("bottom", "epoch")
        plot.addLegend(offset=(-5, 5))
        return plot

    # ------------------------------------------------------------------ the list
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()  # runs written meanwhile, from the command line too

    def refresh(self, *_) -> None:
        """Read the project's runs again, keeping the ticks of those still there."""
        document = self.panel.document
        if document is None:
            return
        ticked = {run.name for run in self.checked()}
        folders, where = project_folders(document.path)
        live = [self.panel.run_dir] if self.panel.is_training() else []
        self.runs = list_runs(folders, live=live)
        self.keys = list(differences(self.runs))
        count = len(self.runs)
        self.label.setText(f"{count} {where}. {HINT}" if count else f"No {where} yet.")
        self._fill(ticked)
        self.redraw()

    def _fill(self, ticked: set) -> None:
        self._filling = True
        table = self.table
        table.clear()
        headers = [*FIXED, *map(run_text.setting_label, self.keys)]
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for col, key in enumerate(self.keys, len(FIXED)):
            table.horizontalHeaderItem(col).setToolTip(key)
        table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            self._fill_row(row, run, run.name in ticked)
        self._filling = False
        self._highlight()

    def _fill_row(self, row: int, run, ticked: bool) -> None:
        status = run_text.status_text(run) + (" ⚠" if run.notes else "")
        cells = [run.name, status, str(run.epochs), run_text.best_text(run.best),
                 run_text.duration_text(run.duration, run.estimated),
                 *(run_text.setting_text(run, key) for key in self.keys)]  # fmt: skip
        tip = _tooltip(run)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            self.table.setItem(row, col, item)
        first = self.table.item(row, 0)
        first.setFlags(first.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        first.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        first.setForeground(QColor(self.color(row)))
        if run.status in ("failed", "interrupted") or run.notes:
            self.table.item(row, 1).setForeground(QColor(theme.colors()["error"]))

    def _highlight(self) -> None:
        """Mark the cells whose setting differs between the ticked runs (all runs while
        fewer than two are ticked)."""
        ticked = self.checked()
        among = ticked if len(ticked) >= 2 else self.runs
        differ = set(differences(among))
        shown = {id(run) for run in among}
        brush = QColor(theme.colors()["warning"])
        brush.setAlpha(70)
        bold = QFont()
        bold.setBold(True)
        self._filling = True
        for row, run in enumerate(self.runs):
            for col, key in enumerate(self.keys, len(FIXED)):
                item = self.table.item(row, col)
                on = key in differ and id(run) in shown and run.settings is not None
                item.setData(DIFFERS, on)
                item.setBackground(QBrush(brush) if on else QBrush())
                item.setFont(bold if on else QFont())
        self._filling = False

    def checked(self) -> list:
        """The ticked runs, in the table's order."""
        table = self.table
        return [run for row, run in enumerate(self.runs) if table.item(row, 0) is not None
                and table.item(row, 0).checkState() == Qt.CheckState.Checked]  # fmt: skip

    def color(self, row: int) -> str:
        return RUN_COLORS[row % len(RUN_COLORS)]

    def _on_item_changed(self, item) -> None:
        if self._filling or item.column() != 0:
            return
        self._highlight()
        self.redraw()

    # ------------------------------------------------------------------ the curves
    def redraw(self) -> None:
        """Draw the ticked runs' curves, each run in its colour."""
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear()
            plot.legend.clear()
        self.curves = {}
        ticked = self.checked()
        keys = list(differences(ticked)) if len(ticked) >= 2 else []
        metric = next((m for m in (main_metric(run.history) for run in ticked) if m), None)
        self.metric_plot.setTitle(METRIC_TITLES.get(metric, "metric"))
        self.loss_plot.setTitle("loss (validation solid, training dashed)")
        for run in ticked:
            color = self.color(self.runs.index(run))
            title = run_text.run_title(run, keys)
            self.curves[run.name] = self._draw(self.loss_plot, run, "loss", color, title)
            if metric:
                self.curves[run.name] += self._draw(self.metric_plot, run, metric, color, title)

    def _draw(self, plot, run, measure: str, color: str, title: str) -> list:
        """The run's ``val_<measure>`` and ``train_<measure>`` curves on ``plot``."""
        drawn = []
        for part, style in (("val", Qt.PenStyle.SolidLine), ("train", Qt.PenStyle.DashLine)):
            points = [(row["epoch"], row.get(f"{part}_{measure}")) for row in run.history]
            points = [(x, y) for x, y in points if y is not None]
            if not points:
                continue
            pen = pg.mkPen(color, width=2, style=style)
            name = None if drawn else title  # one legend entry per run
            xs, ys = zip(*points, strict=True)
            drawn.append(plot.plot(list(xs), list(ys), pen=pen, name=name))
        return drawn


def _tooltip(run) -> str:
    lines = [str(run.folder)]
    info = run.info
    if info:
        parts = [f"{key} {info[key]}" for key in ("device", "seed", "layers", "parameters",
                                                  "deepwire") if key in info]  # fmt: skip
        lines.append(", ".join(parts))
    if run.reason and run.status == "failed":
        lines.append(run.reason)
    lines += run.notes
    return "\n".join(lines)
