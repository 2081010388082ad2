"""The Training panel's Runs tab: every run of the project side by side.

A table lists the runs (``engine.runs``): the run, then the settings that differ between
the runs (right after the name, so that a narrow panel still shows them), its best
metric, status, epochs and duration. The cells that differ between the ticked runs (or
between all runs, while fewer than two are ticked) are highlighted. Ticked runs overlay
their curves (``run_curves.py``), each in the colour of its name in the table; the
curves sit beside the table in a wide tab, below it in a tall one. The list is read
again when the tab is shown, when a run starts or ends and when another project is
shown.
"""

from __future__ import annotations

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
from nodeeditor.panels.training.run_curves import RunCurves
from nodeeditor.run_folder import app_runs_dir

LEAD, TAIL = ("Run",), ("Best", "Status", "Epochs", "Duration")
RUN_COLORS = ("#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308",
              "#64748b", "#ec4899", "#84cc16")  # fmt: skip
DIFFERS = Qt.ItemDataRole.UserRole + 1  # True on a highlighted cell
HINT = "Tick runs to overlay their curves; highlighted: the settings that differ."


def project_folders(path) -> tuple[list, str]:
    """The run folders of the project at ``path`` (None: unsaved) and whose they are."""
    if path is None:
        folder = app_runs_dir() / "untitled"
        return run_folders(folder), f"runs of projects not saved yet, in {folder}"
    # the app's own folder holds the runs that could not be written beside the project
    fallback = run_folders(app_runs_dir() / path.stem)
    return project_run_folders(path) + fallback, f"runs of {path.name}"


def run_cells(run, keys: list) -> list[str]:
    """The texts of a run's row: name, differing settings, best, status, epochs, time."""
    status = run_text.status_text(run) + (" ⚠" if run.notes else "")
    return [run.name, *(run_text.setting_text(run, key) for key in keys),
            run_text.best_text(run.best), status, str(run.epochs),
            run_text.duration_text(run.duration, run.estimated)]  # fmt: skip


class RunsView(QWidget):
    """The Runs tab of ``panel`` (a ``TrainingPanel``); see the module docstring."""

    def __init__(self, panel, parent=None):
        super().__init__(parent)
        self.panel = panel
        self.runs: list = []
        self.keys: list[str] = []  # the differing settings shown as columns
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
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("runs_table")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.setMinimumHeight(60)  # two runs, however small the tab
        splitter.addWidget(self.table)
        self.plots = RunCurves()
        splitter.addWidget(self.plots)
        splitter.setSizes([180, 320])
        layout.addWidget(splitter, 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = self.width() > 1.6 * self.height()  # the docked panel: table beside curves
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.splitter.orientation():
            self.splitter.setOrientation(orientation)
            length = self.width() if wide else self.height()
            self.splitter.setSizes([int(length * 0.42), int(length * 0.58)])

    @property
    def curves(self) -> dict:
        """Run name -> the curves drawn for it."""
        return self.plots.curves

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
        folders, whose = project_folders(document.path)
        live = [self.panel.run_dir] if self.panel.is_training() else []
        self.runs = list_runs(folders, live=live)
        self.keys = list(differences(self.runs))
        count = len(self.runs)
        self.label.setText(f"{count} {whose}. {HINT}" if count else f"No {whose} yet.")
        self._fill(ticked)
        self.redraw()

    def setting_column(self, key: str) -> int:
        """The table column of a differing setting."""
        return len(LEAD) + self.keys.index(key)

    def _fill(self, ticked: set) -> None:
        self._filling = True
        table = self.table
        table.clear()
        headers = [*LEAD, *map(run_text.setting_label, self.keys), *TAIL]
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for key in self.keys:
            table.horizontalHeaderItem(self.setting_column(key)).setToolTip(key)
        table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            self._fill_row(row, run, run.name in ticked)
        self._filling = False
        self._highlight()

    def _fill_row(self, row: int, run, ticked: bool) -> None:
        tip = _tooltip(run)
        for col, text in enumerate(run_cells(run, self.keys)):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            self.table.setItem(row, col, item)
        first = self.table.item(row, 0)
        first.setFlags(first.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        first.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        first.setForeground(QColor(self.color(row)))
        if run.status in ("failed", "interrupted") or run.notes:
            status = self.table.item(row, len(LEAD) + len(self.keys) + TAIL.index("Status"))
            status.setForeground(QColor(theme.colors()["error"]))

    def _highlight(self) -> None:
        """Mark the cells whose setting differs between the ticked runs (all runs while
        fewer than two are ticked)."""
        ticked = self.checked()
        among = ticked if len(ticked) >= 2 else self.runs
        differ, shown = set(differences(among)), {id(run) for run in among}
        brush = QColor(theme.colors()["warning"])
        brush.setAlpha(70)
        bold = QFont()
        bold.setBold(True)
        self._filling = True
        for row, run in enumerate(self.runs):
            for key in self.keys:
                item = self.table.item(row, self.setting_column(key))
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
        """The colour of the run in ``row``: its name's and its curves'."""
        return RUN_COLORS[row % len(RUN_COLORS)]

    def _on_item_changed(self, item) -> None:
        if self._filling or item.column() != 0:
            return
        self._highlight()
        self.redraw()

    def redraw(self) -> None:
        """Draw the ticked runs' curves, named with the settings that differ."""
        ticked = self.checked()
        keys = list(differences(ticked)) if len(ticked) >= 2 else []
        rows = [self.runs.index(run) for run in ticked]
        titles = [run_text.run_title(run, keys) for run in ticked]
        self.plots.show_runs(ticked, [self.color(row) for row in rows], titles)


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
