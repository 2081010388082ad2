"""The palette: every layer type of the catalogue, grouped by family, with a search field.

Each entry carries its help text as a tooltip. Dragging an entry onto the canvas starts
a QDrag whose mime data (``LAYER_MIME``, the type name in UTF-8) the canvas view
accepts; a double-click (or Enter) asks the window to add the layer at the view's
centre through ``add_requested(type_name)``.

The Blocks group at the end lists block types (``set_blocks``: the project's, the
built-in ones, the user's saved ones); they drag and add like layers, by name. A
project's block has a context menu that renames its type (``rename_block_requested``).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.layers import families

LAYER_MIME = "application/x-deepwire-layer"
TYPE_ROLE = Qt.ItemDataRole.UserRole
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1  # a block's BlockEntry.source
BLOCKS = "Blocks"  # the group of block types, after the catalogue's families
SOURCES = {
    "project": "a block type of this project",
    "built-in": "a block that comes with Deepwire",
    "mine": "a block saved in your library",
}


def layer_mime_data(type_name: str) -> QMimeData:
    """The mime data of a palette drag for ``type_name``."""
    data = QMimeData()
    data.setData(LAYER_MIME, type_name.encode("utf-8"))
    data.setText(type_name)
    return data


class _LayerTree(QTreeWidget):
    """A tree whose layer entries drag as ``LAYER_MIME``."""

    enter_pressed = Signal(QTreeWidgetItem)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setRootIsDecorated(True)
        self.setIndentation(12)
        self.setUniformRowHeights(True)

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem():
            self.enter_pressed.emit(self.currentItem())
            return
        super().keyPressEvent(event)

    def mimeTypes(self):
        return [LAYER_MIME]

    def mimeData(self, items):
        names = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        return layer_mime_data(names[0]) if names else QMimeData()

    def startDrag(self, actions):
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item else None
        if not type_name:
            return
        drag = QDrag(self)
        drag.setMimeData(layer_mime_data(type_name))
        drag.setPixmap(self.viewport().grab(self.visualItemRect(item)))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """The layer palette.

    Signals:
        add_requested(str): the user double-clicked (or pressed Enter on) a layer type.
        rename_block_requested(str): "Rename Block Type…" on a project's block.
    """

    add_requested = Signal(str)
    rename_block_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_visible)
        self.tree = _LayerTree()
        # not itemActivated: some desktops activate on a single click
        self.tree.itemDoubleClicked.connect(self._on_activated)
        self.tree.enter_pressed.connect(self._on_activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self._blocks: QTreeWidgetItem | None = None
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._populate()

    def _populate(self) -> None:
        for family, specs in families().items():
            group = QTreeWidgetItem(self.tree, [family])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.name])
                item.setData(0, TYPE_ROLE, spec.name)
                item.setToolTip(0, f"<b>{spec.name}</b><br>{spec.help}")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
            group.setExpanded(True)

    def items(self) -> list[QTreeWidgetItem]:
        """Every layer entry (not the family headings, not the blocks)."""
        root = self.tree.invisibleRootItem()
        return [
            root.child(g).child(i)
            for g in range(root.childCount())
            if root.child(g) is not self._blocks
            for i in range(root.child(g).childCount())
        ]

    def set_blocks(self, entries) -> None:
        """List ``entries`` (nodeeditor.block_library.BlockEntry) in the Blocks group,
        hidden while there are none."""
        if self._blocks is None:
            self._blocks = QTreeWidgetItem(self.tree, [BLOCKS])
            self._blocks.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = self._blocks.font(0)
            font.setBold(True)
            self._blocks.setFont(0, font)
        self._blocks.takeChildren()
        for entry in entries:
            item = QTreeWidgetItem(self._blocks, [entry.name])
            item.setData(0, TYPE_ROLE, entry.name)
            item.setData(0, SOURCE_ROLE, entry.source)
            help_text = html.escape(entry.help) or "A block of layers."
            item.setToolTip(
                0, f"<b>{html.escape(entry.name)}</b> ({SOURCES[entry.source]})<br>{help_text}"
            )
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
        self._blocks.setExpanded(True)
        self.filter(self.search.text())

    def block_items(self) -> list[QTreeWidgetItem]:
        """The entries of the Blocks group."""
        group = self._blocks
        return [group.child(i) for i in range(group.childCount())] if group else []

    def item(self, type_name: str) -> QTreeWidgetItem | None:
        """The entry of ``type_name``, if the catalogue has it."""
        return next((i for i in self.items() if i.data(0, TYPE_ROLE) == type_name), None)

    def visible_types(self) -> list[str]:
        """Layer types the current search shows, in palette order."""
        return [i.data(0, TYPE_ROLE) for i in self.items() if not i.isHidden()]

    def filter(self, text: str) -> None:
        """Show the layers whose name, family or help contains every word of ``text``."""
        words = text.lower().split()
        root = self.tree.invisibleRootItem()
        for g in range(root.childCount()):
            group = root.child(g)
            shown = 0
            for i in range(group.childCount()):
                item = group.child(i)
                haystack = f"{item.text(0)} {group.text(0)} {item.toolTip(0)}".lower()
                visible = all(word in haystack for word in words)
                item.setHidden(not visible)
                shown += visible
            group.setHidden(shown == 0)
            if words:
                group.setExpanded(True)

    def _add_first_visible(self) -> None:
        visible = self.visible_types()
        if visible:
            self.add_requested.emit(visible[0])

    def block_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The context menu of a project's block entry (None for any other entry)."""
        if item is None or item.data(0, SOURCE_ROLE) != "project":
            return None
        name = item.data(0, TYPE_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename Block Type…", lambda: self.rename_block_requested.emit(name))
        return menu

    def _on_context_menu(self, point) -> None:
        menu = self.block_menu(self.tree.itemAt(point))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(point))
            menu.deleteLater()

    def _on_activated(self, item: QTreeWidgetItem) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)
