"""One canvas per network of the project, as tabs named by the networks.

``NetworkTabs`` holds a NetworkScene and a NetworkView for each ``NetworkPage`` of the
document, in the project's order. The tab bar hides itself while the project has one
network, so a plain project looks as it always did. The document says which page is
current; a tab clicked (or Ctrl+PageDown) makes its page current, and the window
follows the document's ``current_changed`` (undo stack, Inspector, Problems).

The Network menu's flows live here too: ``add_network``, ``rename_network`` and
``delete_network`` ask for a name (checked live by the engine's rule for network
names, ``Project.check_new_name``) or for a confirmation, then change the document.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
)

from engine.errors import DeepwireError
from engine.project import adversarial_networks


class NetworkTabs(QTabWidget):
    """The window's canvases, one tab per network.

    Signals:
        view_created(NetworkView): a canvas was made for a page (the window connects
            its scene's signals).
        menu_requested(QPoint, NetworkPage): a tab was right-clicked (global position).
        rename_requested(NetworkPage): a tab was double-clicked.
    """

    view_created = Signal(object)
    menu_requested = Signal(object, object)
    rename_requested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("network_tabs")
        self.setDocumentMode(True)  # no frame: one network looks like a bare canvas
        self.setTabBarAutoHide(True)
        self.tabBar().setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tabBar().customContextMenuRequested.connect(self._on_tab_menu)
        self.tabBarDoubleClicked.connect(self._on_tab_double_clicked)
        self.document = None
        self._views: dict[object, object] = {}  # page -> NetworkView
        self._fitted: set = set()  # pages whose view was fitted once shown
        self._syncing = False  # tabs come and go: Qt's own current-tab moves are not choices
        self.currentChanged.connect(self._on_current_index)

    # ----------------------------------------------------------------- API
    def set_document(self, document) -> None:
        """Show ``document``'s networks instead of the previous document's."""
        if self.document is not None:
            self.document.networks_changed.disconnect(self.sync)
            self.document.current_changed.disconnect(self.show_page)
        self._syncing = True
        try:
            for page in list(self._views):
                self._drop(page)
        finally:
            self._syncing = False
        self.document = document
        self._fitted = {document.current}  # the window fits the first one it shows
        document.networks_changed.connect(self.sync)
        document.current_changed.connect(self.show_page)
        self.sync()

    def view_of(self, page):
        """The NetworkView of ``page``, or None."""
        return self._views.get(page)

    def current_view(self):
        """The view of the tab shown, or None before a document is set."""
        return self.currentWidget()

    def page_at(self, index: int):
        """The page shown in tab ``index``, or None."""
        view = self.widget(index)
        return view.scene().document if view is not None else None

    def sync(self) -> None:
        """Make the tabs match the document's pages: new ones get a canvas, removed
        ones lose theirs, and titles follow renames."""
        pages = self.document.pages
        self._syncing = True
        try:
            for page in [p for p in self._views if p not in pages]:
                self._drop(page)
            for index, page in enumerate(pages):
                if page not in self._views:
                    self.insertTab(index, self._make_view(page), page.name)
                self.setTabText(index, page.name)
                self.setTabToolTip(index, f"The network {page.name!r}")
        finally:
            self._syncing = False
        self.show_page(self.document.current)

    def show_page(self, page) -> None:
        """Raise the tab of ``page``."""
        view = self._views.get(page)
        if view is not None and self.currentWidget() is not view:
            self.setCurrentWidget(view)

    # ----------------------------------------------------------------- internals
    def _make_view(self, page):
        from nodeeditor.canvas.scene import NetworkScene
        from nodeeditor.canvas.view import NetworkView

        scene = NetworkScene(page)
        view = NetworkView(scene)
        scene.setParent(view)
        self._views[page] = view
        self.view_created.emit(view)
        return view

    def _drop(self, page) -> None:
        view = self._views.pop(page)
        view.scene().detach()
        index = self.indexOf(view)
        if index >= 0:
            self.removeTab(index)
        view.deleteLater()

    def _on_current_index(self, index: int) -> None:
        page = self.page_at(index)
        if self._syncing or page is None or page not in self.document.pages:
            return
        self.document.set_current(page)
        if page not in self._fitted:  # a hidden view's size is only right once shown
            self._fitted.add(page)
            QTimer.singleShot(0, self._views[page].fit)

    def _on_tab_double_clicked(self, index: int) -> None:
        page = self.page_at(index)
        if page is not None:
            self.rename_requested.emit(page)

    def _on_tab_menu(self, point) -> None:
        page = self.page_at(self.tabBar().tabAt(point))
        if page is not None:
            self.menu_requested.emit(self.tabBar().mapToGlobal(point), page)


# --------------------------------------------------------------------- the flows
class NameDialog(QDialog):
    """Asks for a network name; OK is only possible for a name ``check`` accepts, and
    the reason a name is refused is shown under the field while typing."""

    def __init__(self, parent, title: str, label: str, text: str, check):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("network_name_dialog")
        self.check = check
        self.edit = QLineEdit(text)
        self.edit.selectAll()
        self.problem = QLabel()
        self.problem.setObjectName("network_name_problem")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (QLabel(label), self.edit, self.problem, self.buttons):
            layout.addWidget(widget)
        self.edit.textChanged.connect(self._on_text)
        self._on_text(text)
        self.setMinimumWidth(380)

    def _on_text(self, text: str) -> None:
        reason = self.reason(text.strip())
        self.problem.setText(reason or "")
        self.problem.setVisible(bool(reason))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(reason is None)

    def reason(self, name: str) -> str | None:
        """Why ``name`` is refused (a sentence), or None."""
        try:
            self.check(name)
        except DeepwireError as error:
            return _sentence(str(error))
        return None

    def accept(self) -> None:
        if self.reason(self.name()) is None:  # Return with a refused name does nothing
            super().accept()

    def name(self) -> str:
        """The name typed, without surrounding spaces."""
        return self.edit.text().strip()


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def ask_network_name(parent, title: str, label: str, text: str, check) -> str | None:
    """Ask for a network name that ``check`` accepts; None when cancelled."""
    dialog = NameDialog(parent, title, label, text, check)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    name = dialog.name()
    dialog.deleteLater()
    return name if accepted else None


def suggest_name(project) -> str:
    """A free name for a new network: ``network2``, ``network3``..."""
    index = len(project.networks) + 1
    while f"network{index}" in project.networks:
        index += 1
    return f"network{index}"


def add_network(window) -> str | None:
    """Network > Add Network…: ask a name, add an empty network and show its tab."""
    document = window.document
    if window.locked:
        return None
    name = ask_network_name(
        window, "Add network", "Name of the new network (letters, digits, _ and -):",
        suggest_name(document.project), document.project.check_new_name,
    )  # fmt: skip
    if name is None:
        return None
    document.set_current(document.add_network(name))
    window.show_message(f"Added the network {name!r}")
    return name


def rename_network(window, page=None) -> str | None:
    """Network > Rename Network…: ask a new name for ``page`` (the current network)."""
    document = window.document
    page = page or document.current
    if window.locked:
        return None
    old = page.name
    name = ask_network_name(
        window, "Rename network", f"New name for the network {old!r}:", old,
        lambda text: document.project.check_new_name(text, old),
    )  # fmt: skip
    if name is None or name == old:
        return None
    document.rename_network(page, name)
    window.show_message(f"Renamed the network {old!r} to {name!r}")
    return name


def delete_network(window, page=None) -> bool:
    """Network > Delete Network…: after asking, remove ``page`` (the current network);
    never the last one."""
    document = window.document
    page = page or document.current
    if window.locked:
        return False
    if len(document.pages) == 1:
        window.show_message("A project keeps at least one network; this one cannot be deleted.")
        return False
    if not confirm_delete(window, page):
        return False
    name = page.name
    document.remove_network(page)
    window.show_message(f"Deleted the network {name!r}")
    return True


def confirm_delete(parent, page) -> bool:
    """Ask before deleting ``page``'s network (it cannot be undone)."""
    roles = adversarial_networks(page.project.training) or {}
    role = next((r for r, n in roles.items() if n == page.name), None)
    layers = len(page.network)
    text = (
        f"Delete the network {page.name!r} and its {layers} layer{'s' * (layers != 1)}? "
        "This cannot be undone (closing without saving keeps the file as it is)."
    )
    if role:
        text += f" The training settings name it as the GAN's {role}."
    box = QMessageBox(
        QMessageBox.Icon.Question, "Delete network", text, QMessageBox.StandardButton.Cancel, parent
    )
    delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    chosen = box.clickedButton()
    box.deleteLater()
    return chosen is delete


def tab_menu(window, page) -> QMenu:
    """The menu of a right-clicked tab: rename or delete its network, add another."""
    menu = QMenu(window)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.addAction("Rename Network…", lambda: rename_network(window, page))
    remove = menu.addAction("Delete Network…", lambda: delete_network(window, page))
    remove.setEnabled(len(window.document.pages) > 1 and not window.locked)
    menu.addSeparator()
    menu.addAction("Add Network…", lambda: add_network(window))
    return menu
