"""The open project of one window: the engine's Project, its file and its undo stack.

The ``Document`` is the editor's link to the engine. The engine's ``Network`` is the one
source of truth; every edit is a QUndoCommand on ``undo_stack`` (nodeeditor.commands)
that changes only the network, and views follow the network's events. The document
re-runs the engine's analysis after edits, coalesced into one run per event-loop turn,
and announces the result on ``analysis_changed``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import project as project_file
from engine.analysis import Analysis
from engine.data_fit import analyze_project
from engine.network import Network
from engine.project import Project


class Document(QObject):
    """One project being edited.

    Signals:
        analysis_changed(Analysis): a fresh analysis of ``network`` is available.
        path_changed(): the file name changed (Save As, Open).
        modified_changed(bool): the unsaved mark changed.
    """

    analysis_changed = Signal(object)
    path_changed = Signal()
    modified_changed = Signal(bool)

    def __init__(self, project: Project | None = None, path: str | Path | None = None, parent=None):
        super().__init__(parent)
        self.project = project or Project()
        self.path: Path | None = Path(path) if path else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.analysis: Analysis = analyze_project(self.project, self.base_dir)
        self._pending = False
        for signal in self.network.events.signals():
            signal.connect(self._on_network_changed)
        # the dataset and the loss are checked too: their edits are undo steps as well
        self.undo_stack.indexChanged.connect(self._on_network_changed)

    @classmethod
    def open(cls, path: str | Path, parent=None) -> Document:
        """Load a ``.dwire`` file; raises the engine's ProjectError on bad input."""
        return cls(project_file.load(path), path, parent)

    @property
    def network(self) -> Network:
        """The network being edited."""
        return self.project.network

    @property
    def modified(self) -> bool:
        """True when there are unsaved changes."""
        return not self.undo_stack.isClean()

    @property
    def title(self) -> str:
        """The file name, or "Untitled"."""
        return self.path.name if self.path else "Untitled"

    def save(self, path: str | Path | None = None) -> None:
        """Save atomically to ``path`` (or the current path), keeping the replaced file
        as ``NAME.dwire.bak``; raises ProjectError."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no path to save to")
        project_file.save(self.project, target, backup=True)
        if target != self.path:
            self.path = target
            self.path_changed.emit()
        self.undo_stack.setClean()

    @property
    def base_dir(self) -> Path | None:
        """The folder the project's relative data paths start from."""
        return self.path.parent if self.path else None

    def request_analysis(self) -> None:
        """Run the analysis at the next turn of the event loop (after a data change)."""
        self._on_network_changed()

    def reanalyze_now(self) -> Analysis:
        """Run the analysis (the network, and how it fits the project's data) at once
        and announce it."""
        self._pending = False
        self.analysis = analyze_project(self.project, self.base_dir)
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    def _on_clean_changed(self, clean: bool) -> None:
        # a method, not a lambda: Qt drops it when the document is destroyed
        self.modified_changed.emit(not clean)

    def _on_network_changed(self, *args) -> None:
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self._run_pending)

    def _run_pending(self) -> None:
        if self._pending:
            self.reanalyze_now()
