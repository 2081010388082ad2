"""The open project of one window: the engine's Project, its file and its undo stacks.

The ``Document`` is the editor's link to the engine. A project holds one or more
networks; each has a ``NetworkPage``: its own undo stack and analysis, and what the
canvas, the inspector and nodeeditor.commands edit (anything with ``network`` and
``undo_stack``). The engine's ``Network`` is the one source of truth; every edit is a
QUndoCommand on its page's stack that changes only the network, and views follow the
network's events. Each page re-runs the engine's analysis after edits, coalesced into
one run per event-loop turn, and announces it on its ``analysis_changed``.

One page is ``current`` (the tab shown): ``document.network``, ``undo_stack`` and
``analysis`` are its, and the document's ``analysis_changed`` repeats its analysis (and
announces the new page's when the current page changes), so panels that follow the
document show the network on screen. Saving, the unsaved mark and the title cover every
network. Adding, renaming and removing networks (``add_network``...) is not undoable.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from engine import project as project_file
from engine.analysis import Analysis
from engine.data_fit import analyze_project
from engine.layout import spread_stacked
from engine.network import Network
from engine.project import Project


def analyze_network(project: Project, network: Network, base_dir: Path | None) -> Analysis:
    """The analysis of one network of ``project``, checked against the project's data
    as its role asks (``engine.data_fit.analyze_project``)."""
    return analyze_project(project, base_dir, network)


def weak_slot(owner: QObject, method: str):
    """A receiver for an undo stack's signals that calls ``owner.method`` while the
    owner lives, and nothing after.

    A QUndoStack being destroyed clears itself and emits ``indexChanged``; when its
    owner (a page, a document) was being torn down with it, a bound method as the
    receiver made PySide raise "Slot 'Document::' not found" into whatever the event
    loop ran next (seen after property tests that made documents outside a window).
    """
    ref = weakref.ref(owner)

    def call(*args):
        target = ref()
        if target is not None and shiboken6.isValid(target):
            getattr(target, method)(*args)

    return call


class NetworkPage(QObject):
    """One network of a document, with its undo stack and its analysis.

    Signals:
        analysis_changed(Analysis): a fresh analysis of ``network`` is available.
    """

    analysis_changed = Signal(object)

    def __init__(self, document: Document, network: Network):
        super().__init__(document)
        self.document = document
        self.network = network
        self.undo_stack = QUndoStack(self)
        self.analysis: Analysis = analyze_network(document.project, network, document.base_dir)
        self._pending = False
        for signal in network.events.signals():
            signal.connect(self._on_network_changed)
        # the dataset and the loss are checked too: their edits are undo steps as well
        self.undo_stack.indexChanged.connect(weak_slot(self, "_on_network_changed"))

    @property
    def name(self) -> str:
        """The network's name in the project (its tab's title)."""
        return self.network.name

    @property
    def project(self) -> Project:
        """The project the network belongs to."""
        return self.document.project

    def detach(self) -> None:
        """Stop following the network (it was removed from the project)."""
        for signal in self.network.events.signals():
            signal.disconnect(self._on_network_changed)
        self._pending = False

    def request_analysis(self) -> None:
        """Run the analysis at the next turn of the event loop."""
        self._on_network_changed()

    def reanalyze_now(self) -> Analysis:
        """Run the analysis at once and announce it."""
        self._pending = False
        document = self.document
        self.analysis = analyze_network(document.project, self.network, document.base_dir)
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    def _on_network_changed(self, *args) -> None:
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self._run_pending)

    def _run_pending(self) -> None:
        if self._pending:
            self.reanalyze_now()


class Document(QObject):
    """One project being edited.

    Signals:
        analysis_changed(Analysis): a fresh analysis of the current network, or the
            current page changed.
        path_changed(): the file name changed (Save As, Open).
        modified_changed(bool): the unsaved mark (of the whole project) changed.
        current_changed(NetworkPage): another network is shown.
        networks_changed(): a network was added, renamed or removed.
        changed(): any edit: an undo stack moved, or a network was added, renamed or
            removed.
    """

    analysis_changed = Signal(object)
    path_changed = Signal()
    modified_changed = Signal(bool)
    current_changed = Signal(object)
    networks_changed = Signal()
    changed = Signal()

    def __init__(self, project: Project | None = None, path: str | Path | None = None, parent=None):
        super().__init__(parent)
        self.project = project or Project()
        self.path: Path | None = Path(path) if path else None
        self._networks_edited = False  # added, renamed or removed since the last save
        self._modified = False
        self.pages: list[NetworkPage] = []
        for network in self.project.networks.values():
            self._add_page(network)
        self.current: NetworkPage = self.page(self.project.network.name)

    @classmethod
    def open(cls, path: str | Path, parent=None) -> Document:
        """Load a ``.dwire`` file; raises the engine's ProjectError on bad input."""
        project = project_file.load(path)
        for network in project.networks.values():
            spread_stacked(network)  # nodes without positions open laid out, not piled up
        return cls(project, path, parent)

    # ----------------------------------------------------------------- the current page
    @property
    def network(self) -> Network:
        """The network being edited: the current page's."""
        return self.current.network

    @property
    def undo_stack(self) -> QUndoStack:
        """The current page's undo stack."""
        return self.current.undo_stack

    @property
    def analysis(self) -> Analysis:
        """The current page's analysis."""
        return self.current.analysis

    def page(self, name: str) -> NetworkPage | None:
        """The page of the network called ``name``, or None."""
        return next((page for page in self.pages if page.name == name), None)

    def set_current(self, page: NetworkPage) -> None:
        """Show ``page`` (one of ``pages``): announces it and its analysis."""
        if page is self.current or page not in self.pages:
            return
        self.current = page
        self.current_changed.emit(page)
        self.analysis_changed.emit(page.analysis)

    # ----------------------------------------------------------------- networks
    def add_network(self, name: str) -> NetworkPage:
        """Add an empty network ``name`` (NetworkError when the name is refused)."""
        page = self._add_page(self.project.add_network(name))
        self._networks_edited = True
        self.networks_changed.emit()
        self._on_edited()
        return page

    def rename_network(self, page: NetworkPage, name: str) -> None:
        """Rename ``page``'s network (NetworkError when the name is refused)."""
        if name == page.name:
            return
        self.project.rename_network(page.name, name)
        self._networks_edited = True
        self.networks_changed.emit()
        self._on_edited()
        self.request_analysis()

    def remove_network(self, page: NetworkPage) -> None:
        """Remove ``page``'s network; the one before it (or the next) becomes current
        if it was. NetworkError for the last network."""
        self.project.remove_network(page.name)
        index = self.pages.index(page)
        if page is self.current:
            self.set_current(self.pages[index - 1 if index else 1])
        self.pages.remove(page)
        page.detach()
        self._networks_edited = True
        self.networks_changed.emit()
        self._on_edited()
        self.request_analysis()  # the main network may be another one now
        page.deleteLater()

    def _add_page(self, network: Network) -> NetworkPage:
        page = NetworkPage(self, network)
        # the stacks die with the document: their signals go through weak_slot
        page.undo_stack.cleanChanged.connect(weak_slot(self, "_on_edited"))
        page.undo_stack.indexChanged.connect(weak_slot(self, "_on_edited"))
        page.analysis_changed.connect(self._on_page_analysis)
        self.pages.append(page)
        return page

    # ----------------------------------------------------------------- the file
    @property
    def modified(self) -> bool:
        """True when there are unsaved changes (in any network)."""
        return self._networks_edited or not all(p.undo_stack.isClean() for p in self.pages)

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
        self._networks_edited = False
        for page in self.pages:
            page.undo_stack.setClean()
        self._on_edited()

    @property
    def base_dir(self) -> Path | None:
        """The folder the project's relative data paths start from."""
        return self.path.parent if self.path else None

    # ----------------------------------------------------------------- analysis
    def request_analysis(self) -> None:
        """Run the analyses at the next turn of the event loop (after a data change)."""
        for page in self.pages:
            page.request_analysis()

    def reanalyze_now(self) -> Analysis:
        """Run every network's analysis (the main one against the project's data too)
        at once, announce them, and return the current network's."""
        for page in self.pages:
            page.reanalyze_now()
        return self.analysis

    def _on_page_analysis(self, analysis: Analysis) -> None:
        if self.sender() is self.current:
            self.analysis_changed.emit(analysis)

    def _on_edited(self, *args) -> None:
        modified = self.modified
        if modified != self._modified:
            self._modified = modified
            self.modified_changed.emit(modified)
        self.changed.emit()
