"""The main window: the canvases in the centre, movable docks around it, menus, status bar.

The window owns one ``Document`` at a time. Opening or starting a project builds a new
document with a canvas (scene and view) per network, on tabs (``nodeeditor.network_tabs``;
no tab bar while there is one network) under a one-line overview of how the networks
connect (``nodeeditor.network_overview``; hidden for one network). ``set_document``
announces the document on ``document_changed``, so panels that follow it (the training
panel) rebind there. The tab shown is the document's current network: the palette drops
into it, the Inspector and Problems show it, and Edit > Undo acts on its undo stack (one
QUndoStack per network in the window's QUndoGroup). File handling (new, open, save, the
unsaved-changes question, recent files, dropped files) lives in ``nodeeditor.files``;
this module lays out the window and routes gestures.

API for other panels:
    ``add_dock(name, title, widget, area)`` adds a movable dock with a View > Panels
    toggle; ``set_dock_widget(name, widget)`` replaces a dock's content (the Training
    placeholder); ``set_editing_locked(True)`` freezes every edit of the network (while
    it trains); ``document`` is the current one, ``scene`` and ``view`` those of the
    network shown.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QUndoGroup
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from engine.errors import DeepwireError
from nodeeditor import (
    block_actions,
    block_rename,
    dialogs,
    files,
    icons,
    network_tabs,
    recovery,
    theme,
    wheel_guard,
)
from nodeeditor.actions import EDIT_ACTIONS, build_actions, build_menus, build_toolbar
from nodeeditor.breadcrumb import Breadcrumb
from nodeeditor.document import Document
from nodeeditor.gradient_colours import GradientColours
from nodeeditor.network_overview import NetworkOverview
from nodeeditor.network_tabs import NetworkTabs
from nodeeditor.panels.diagnostics import DiagnosticsPanel
from nodeeditor.panels.inspector import Inspector
from nodeeditor.panels.palette import Palette
from nodeeditor.panels.training import TrainingPanel
from nodeeditor.previews import Previews
from nodeeditor.settings import Settings

Area = Qt.DockWidgetArea
DEFAULT_SIZE = (1400, 860)
CANVAS_MIN_SHARE = 0.4  # a restored layout leaving the canvas less than this is not kept
TRAINING_SHARE = 0.4  # the Training dock's height when its tab is raised, at least


def _clamp(value: float, low: int, high: int) -> int:
    return int(min(max(value, low), high))


def format_count(count: int) -> str:
    """``4810`` -> ``4.8 K``: large counts as users read them."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return str(count)


class MainWindow(files.FileHandling, QMainWindow):
    """Deepwire's main window.

    Signals:
        document_changed(Document): a new document is shown (New, Open).
    """

    document_changed = Signal(object)

    def __init__(self, document: Document | None = None, settings: Settings | None = None):
        super().__init__()
        wheel_guard.install()  # the wheel scrolls panels, never an unfocused field
        self.settings = settings or Settings()
        self.document: Document | None = None
        self.locked = False
        self._check_restored_layout = False  # see restore_layout
        self.quitting = False  # closing because the system asked (nodeeditor.termination)
        self.docks: dict[str, QDockWidget] = {}
        self.undo_group = QUndoGroup(self)
        self.setObjectName("deepwire_main_window")
        self.setWindowIcon(icons.app_icon())
        self.setAcceptDrops(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self.actions_by_name = build_actions(self)
        self.menus = build_menus(self, self.actions_by_name)
        self.toolbar = build_toolbar(self, self.actions_by_name)
        self.resize(*DEFAULT_SIZE)
        self._build_canvas_holder()
        self._build_panels()
        self.gradient_colours = GradientColours(self)
        self.previews = Previews(self)
        self._build_status_bar()
        self._check_theme_action()
        self.set_document(document or Document())

    @property
    def view(self):
        """The canvas (NetworkView) of the network shown, or None before a document."""
        return self.network_tabs.current_view()

    @property
    def scene(self):
        """The NetworkScene of the network shown, or None before a document."""
        view = self.view
        return view.scene() if view is not None else None

    # ----------------------------------------------------------------- layout
    def _build_canvas_holder(self) -> None:
        # The central widget is set once: replacing it on a shown window (New, Open)
        # made Qt hand its room to the docks and squeeze the canvas to a sliver.
        holder = QWidget()
        holder.setObjectName("canvas_holder")
        layout = QVBoxLayout(holder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.overview = NetworkOverview()
        self.overview.network_clicked.connect(self.show_network)
        self.network_tabs = NetworkTabs()
        self.network_tabs.view_created.connect(self._on_view_created)
        self.network_tabs.menu_requested.connect(self._on_tab_menu)
        self.network_tabs.rename_requested.connect(self._on_rename_requested)
        self.breadcrumb = Breadcrumb()  # shown while a block is entered
        self.breadcrumb.level_clicked.connect(lambda depth: block_actions.leave_to(self, depth))
        self.breadcrumb.rename_requested.connect(lambda: block_rename.rename_entered(self))
        layout.addWidget(self.overview)
        layout.addWidget(self.breadcrumb)
        layout.addWidget(self.network_tabs, 1)
        self.setCentralWidget(holder)

    def _build_panels(self) -> None:
        self.palette_panel = Palette()
        self.palette_panel.add_requested.connect(self.add_layer_at_centre)
        self.palette_panel.rename_block_requested.connect(
            lambda name: block_rename.rename_from_palette(self, name)
        )
        self.inspector = Inspector()
        self.diagnostics = DiagnosticsPanel()
        self.diagnostics.node_activated.connect(self.focus_node)
        self.add_dock("palette", "Layers", self.palette_panel, Area.LeftDockWidgetArea)
        self.add_dock("inspector", "Inspector", self.inspector, Area.RightDockWidgetArea)
        self.add_dock("diagnostics", "Problems", self.diagnostics, Area.BottomDockWidgetArea)
        self.training_panel = TrainingPanel(self)
        self.add_dock("training", "Training", self.training_panel, Area.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["diagnostics"], self.docks["training"])
        self.docks["diagnostics"].raise_()
        self.docks["training"].visibilityChanged.connect(self._on_training_tab_shown)
        self._on_training_tab_shown(False)
        self.default_layout()

    def default_layout(self) -> None:
        """Give the docks their default sizes: the canvas takes most of the window."""
        width, height = self.width(), self.height()
        sides = [_clamp(width * 0.16, 190, 260), _clamp(width * 0.22, 250, 340)]
        self.resizeDocks(
            [self.docks["palette"], self.docks["inspector"]], sides, Qt.Orientation.Horizontal
        )
        bottom = _clamp(height * 0.15, 110, 180)
        self.resizeDocks([self.docks["diagnostics"]], [bottom], Qt.Orientation.Vertical)

    def _on_training_tab_shown(self, visible: bool) -> None:
        # The Problems list is happy in a low dock; the training curves are not. Behind
        # the Problems tab, the panel's minimum height (its plots) would still hold the
        # shared dock area tall, so it is dropped; raised, the panel gets its minimum
        # back and the dock grows (never shrinks), once Qt has laid out.
        self.training_panel.setMinimumHeight(0 if visible else 1)
        if visible:
            QTimer.singleShot(0, self.make_room_for_training)
            self.training_panel.on_raised()  # its plots and data are loaded when first seen

    def make_room_for_training(self) -> None:
        """Make the Training dock at least ``TRAINING_SHARE`` of the window's height,
        when it sits above or below the canvas."""
        dock = self.docks["training"]
        areas = (Area.BottomDockWidgetArea, Area.TopDockWidgetArea)
        if dock.isFloating() or self.dockWidgetArea(dock) not in areas:
            return
        wanted = int(self.height() * TRAINING_SHARE)
        if dock.isVisible() and dock.height() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Vertical)

    def restore_layout(self, geometry, state) -> None:
        """Restore a saved geometry and dock layout; once shown, a layout that leaves
        the canvas too little of the window is replaced by the default one."""
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None and self.restoreState(state):
            self._check_restored_layout = True

    def canvas_squeezed(self) -> bool:
        """Whether the canvas has less than ``CANVAS_MIN_SHARE`` of the window's width
        or height."""
        holder = self.centralWidget()
        return (
            holder.width() < CANVAS_MIN_SHARE * self.width()
            or holder.height() < CANVAS_MIN_SHARE * self.height()
        )

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._check_restored_layout:
            self._check_restored_layout = False
            QTimer.singleShot(0, self._keep_canvas_room)

    def _keep_canvas_room(self) -> None:
        if self.canvas_squeezed():
            self.default_layout()

    def add_dock(self, name: str, title: str, widget: QWidget, area=Area.RightDockWidgetArea):
        """Add a movable dock called ``name``; its toggle goes to View > Panels.

        Returns:
            The QDockWidget.
        """
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        self.menus["panels"].addAction(dock.toggleViewAction())
        self.docks[name] = dock
        return dock

    def set_dock_widget(self, name: str, widget: QWidget) -> None:
        """Replace the content of the dock ``name`` (e.g. the Training placeholder)."""
        old = self.docks[name].widget()
        self.docks[name].setWidget(widget)
        if old is not None:
            old.deleteLater()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_labels = {}
        for key in ("params", "macs", "errors", "warnings"):
            label = QLabel()
            label.setObjectName(f"status_{key}")
            bar.addPermanentWidget(label)
            self.status_labels[key] = label

    # ----------------------------------------------------------------- document
    def set_document(self, document: Document) -> None:
        """Show ``document``: a canvas per network, panels rebound, title updated."""
        old = self.document
        if old is not None:
            for page in old.pages:
                self.undo_group.removeStack(page.undo_stack)
        self.document = document
        self.network_tabs.set_document(document)
        self.overview.set_document(document)
        document.analysis_changed.connect(self._on_analysis_changed)
        document.modified_changed.connect(self.setWindowModified)
        document.path_changed.connect(self._update_title)
        document.current_changed.connect(self._on_current_network)
        document.networks_changed.connect(self._on_networks_changed)
        self._on_networks_changed()
        block_actions.follow_blocks(self, document)  # the palette's Blocks group
        recovery.attach(self, document)  # unsaved work survives a crash
        self._on_current_network(document.current)
        self._on_analysis_changed(document.analysis)
        self._update_title()
        self.setWindowModified(document.modified)
        self.set_editing_locked(self.locked)
        if old is not None:
            old.deleteLater()
        self.view.fit()
        self.view.setFocus()
        self.document_changed.emit(document)

    def _on_view_created(self, view) -> None:
        """A canvas was made for a network: route its signals here."""
        scene = view.scene()
        view.viewport().installEventFilter(self)  # .dwire files dropped on the canvas
        scene.selectionChanged.connect(self._on_selection_changed)
        scene.message.connect(self.show_message)
        scene.set_locked(self.locked)
        block_actions.attach_view(self, view)  # double-click enters a block

    def _on_networks_changed(self) -> None:
        """Networks were added or removed: each undo stack is in the undo group."""
        stacks = set(self.undo_group.stacks())
        for page in self.document.pages:
            if page.undo_stack not in stacks:
                self.undo_group.addStack(page.undo_stack)
        self._update_network_actions()

    def _on_current_network(self, page) -> None:
        """Another network is shown: undo, the Inspector and the selection follow it."""
        self.network_tabs.show_page(page)
        if not self.locked:
            self.undo_group.setActiveStack(page.undo_stack)
        block_actions.show_level(self)  # the Inspector and breadcrumb: the level shown
        self._update_network_actions()

    def _update_network_actions(self) -> None:
        several = len(self.document.pages) > 1
        self.actions_by_name["delete_network"].setEnabled(several and not self.locked)
        for name in ("next_network", "previous_network"):
            self.actions_by_name[name].setEnabled(several)

    def show_network(self, name: str) -> None:
        """Show the tab of the network called ``name``."""
        page = self.document.page(name)
        if page is not None:
            self.document.set_current(page)
            self.view.setFocus()

    def show_next_network(self, step: int) -> None:
        """Show the network ``step`` tabs on (wrapping around)."""
        pages = self.document.pages
        index = pages.index(self.document.current)
        self.document.set_current(pages[(index + step) % len(pages)])
        self.view.setFocus()

    def _on_tab_menu(self, point, page) -> None:
        network_tabs.tab_menu(self, page).popup(point)

    def _on_rename_requested(self, page) -> None:
        network_tabs.rename_network(self, page)

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.title}[*] — Deepwire")

    def _on_analysis_changed(self, analysis) -> None:
        self.diagnostics.show_analysis(analysis)
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        labels = self.status_labels
        labels["params"].setText(f"Parameters: {analysis.total_params:,}")
        labels["params"].setToolTip(f"{analysis.trainable_params:,} of them trainable")
        labels["macs"].setText(f"MACs: {format_count(analysis.total_macs)}")
        labels["macs"].setToolTip("Multiply-accumulates for one sample through the network")
        labels["errors"].setText(f"✖ {errors} error{'s' * (errors != 1)}")
        labels["warnings"].setText(f"⚠ {warnings} warning{'s' * (warnings != 1)}")
        colors = theme.colors()
        labels["errors"].setStyleSheet(f"color: {colors['error']}" if errors else "")
        labels["warnings"].setStyleSheet(f"color: {colors['warning']}" if warnings else "")
        if self.inspector.node_id is None:
            self._on_selection_changed()

    def _on_selection_changed(self) -> None:
        ids = self.scene.selected_node_ids() if self.scene is not None else []
        self.inspector.set_selection(ids)

    def show_message(self, text: str, timeout_ms: int = 6000) -> None:
        """Show ``text`` in the status bar for a while."""
        self.statusBar().showMessage(text, timeout_ms)

    def confirm_stop_training(self, doing: str) -> bool:
        """Ask before New or Open stops a run; the run's best weights are kept."""
        return self.training_panel.confirm_close(doing)

    def closeEvent(self, event) -> None:
        # while training: ask, and stop and join the training thread only once the window
        # really closes (a Cancel at "unsaved changes" leaves the run training)
        if self.quitting:  # SIGTERM / SIGINT (nodeeditor.termination): no questions
            self.training_panel.shutdown()
        elif not self.training_panel.confirm_close():
            event.ignore()
            return
        super().closeEvent(event)
        if event.isAccepted():
            self.training_panel.shutdown()

    # ----------------------------------------------------------------- editing
    def train_from_menu(self) -> None:
        """Network > Train (F5): raise the Training panel and start a run there."""
        dock = self.docks["training"]
        dock.show()
        dock.raise_()
        self.training_panel.start_training()

    def set_editing_locked(self, locked: bool) -> None:
        """Freeze (True) or allow every edit of the network, e.g. while it trains."""
        self.locked = locked
        for view in self._views():
            view.scene().set_locked(locked)
        self.palette_panel.setEnabled(not locked)
        self.inspector.set_locked(locked)
        for name in EDIT_ACTIONS:
            if name not in ("undo", "redo"):  # those follow the undo group's active stack
                self.actions_by_name[name].setEnabled(not locked)
        if locked:
            self.undo_group.setActiveStack(None)
        elif self.document is not None:
            self.undo_group.setActiveStack(self.document.undo_stack)
        if self.document is not None:
            self._update_network_actions()

    def _views(self) -> list:
        """Every canvas: one per network."""
        tabs = self.network_tabs
        return [tabs.widget(index) for index in range(tabs.count())]

    def add_layer_at_centre(self, type_name: str) -> str | None:
        """Add a ``type_name`` layer (or block) at the centre of the view and select it."""
        if self.locked:
            return None
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        try:  # into the network or the entered block shown
            node_id = block_actions.add_node_or_block(
                self.scene.document, type_name, (centre.x(), centre.y())
            )
        except DeepwireError as error:
            self.show_message(str(error))
            return None
        self.scene.select_nodes([node_id])
        return node_id

    def focus_node(self, node_id: str) -> None:
        """Select ``node_id`` and centre the canvas on it (leaving entered blocks for a
        node of the network)."""
        if node_id not in self.scene.network:
            block_actions.leave(self.view, 0)
        if node_id in self.scene.network:
            self.scene.select_nodes([node_id])
            self.view.center_on_node(node_id)

    def cut(self) -> None:
        """Copy the selection, then delete it."""
        self.view.copy_selection()
        self.view.delete_selection()

    def find_layer(self) -> str | None:
        """Ask for a layer by id or type, then select it and centre on it."""
        nodes = self.scene.network.nodes  # the network, or the entered block shown
        if not nodes:
            self.show_message("The network has no layers yet.")
            return None
        text = dialogs.ask_layer(self, [f"{n.id} ({n.type})" for n in nodes])
        if text is None:
            return None
        node_id = find_node(self.scene.network, text)
        if node_id is None:
            self.show_message(f"No layer matches {text!r}.")
            return None
        self.focus_node(node_id)
        return node_id

    # ----------------------------------------------------------------- theme
    def set_theme(self, name: str) -> None:
        """Switch to the ``system``, ``dark`` or ``light`` theme and remember it."""
        self.settings.set_theme(name)
        apply_current_theme(self.settings)
        self._check_theme_action()
        for action in self.actions_by_name.values():
            icon_name = action.property("icon_name")
            if icon_name:
                action.setIcon(icons.icon(icon_name))
        for view in self._views():
            view.scene().set_theme()
        self.overview.update()
        self._on_analysis_changed(self.document.analysis)

    def _check_theme_action(self) -> None:
        self.actions_by_name[f"theme_{self.settings.theme()}"].setChecked(True)

    def _on_color_scheme_changed(self, scheme) -> None:
        if self.settings.theme() == "system":
            self.set_theme("system")


def apply_current_theme(settings: Settings) -> str:
    """Apply the remembered theme to the running application."""
    app = QApplication.instance()
    return theme.apply_theme(app, settings.theme()) if app is not None else "light"


def find_node(network, text: str) -> str | None:
    """The id of the node that ``text`` names: ``"fc1 (Linear)"``, an id or a type."""
    text = text.split(" (")[0].strip()
    lowered = text.lower()
    for match in (
        lambda n: n.id == text,
        lambda n: n.id.lower() == lowered,
        lambda n: n.type.lower() == lowered,
        lambda n: lowered in n.id.lower() or lowered in n.type.lower(),
    ):
        for node in network.nodes:
            if match(node):
                return node.id
    return None


def follow_system_scheme(window: MainWindow) -> None:
    """Re-theme ``window`` when the desktop switches between light and dark."""
    hints = QGuiApplication.styleHints()
    if hints is not None:
        hints.colorSchemeChanged.connect(window._on_color_scheme_changed)
