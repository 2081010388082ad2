"""The view: zoom, pan, keyboard shortcuts, drops from the palette, the search popup
and the minimap, around a NetworkScene.

Wheel zooms around the cursor; middle-drag or Space+drag pans; F fits the network
(never below a zoom where its text is still readable: a larger network then starts at
its top-left and the minimap shows the rest); an empty canvas says how to begin;
Tab or a double-click on empty canvas opens the layer search; Delete, Ctrl+C, Ctrl+V,
Ctrl+D and Ctrl+A act on the selection. Each edit goes through nodeeditor.commands;
a refused edit (or any edit while training locks the canvas) says why on the scene's
``message`` signal.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QKeySequence, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsView, QLabel, QMenu

from engine.errors import DeepwireError
from nodeeditor import block_actions, clipboard, commands
from nodeeditor.canvas import style
from nodeeditor.canvas.minimap import Minimap
from nodeeditor.canvas.node_item import NodeItem
from nodeeditor.canvas.search_popup import SearchPopup, fitting_types
from nodeeditor.canvas.wire_item import WireItem

LAYER_MIME = "application/x-deepwire-layer"
ZOOM_STEP = 1.2
ZOOM_RANGE = (0.08, 4.0)
# Fit goes no lower: the nodes' 8 pt text stays at 8 px or more on a 96 dpi screen.
FIT_MIN_ZOOM = 0.75
FIT_MARGIN = 24.0
EMPTY_HINT = (
    "Drag a layer here from the Layers panel,\n"
    "or press Tab to search for one,\n"
    "or start from an example: File > New."
)
_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class NetworkView(QGraphicsView):
    """A QGraphicsView of a NetworkScene with the editor's gestures."""

    def __init__(self, scene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # the canvas is panned with the mouse and the minimap; scroll bars only clutter
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scene.setSceneRect(QRectF(-50000, -50000, 100000, 100000))
        self._pan_from: QPoint | None = None
        self._fitted: tuple | None = None  # the view state the last Fit left
        self._space = False
        self._pending_wire = None  # (node, port, is_output) for the popup
        self._popup_pos = QPointF()
        self.popup = SearchPopup(self)
        self.popup.chosen.connect(self._on_type_chosen)
        self.minimap = Minimap(self)
        self.minimap.update_nodes()
        self.empty_hint = self._build_empty_hint()
        scene.layout_changed.connect(self._update_empty_hint)
        self._update_empty_hint()
        scene.wire_dropped.connect(self._on_wire_dropped)
        scene.locked_changed.connect(self._on_locked_changed)
        self.horizontalScrollBar().valueChanged.connect(lambda *_: self.minimap.refresh())
        self.verticalScrollBar().valueChanged.connect(lambda *_: self.minimap.refresh())

    @property
    def document(self):
        """The document of the scene."""
        return self.scene().document

    def show_scene(self, scene) -> None:
        """Show ``scene`` instead (an entered block's inside, or back out of it): the
        empty-canvas hint, the minimap, wire drops and the lock follow it."""
        self.popup.close_popup()
        for signal, slot in self._scene_slots(self.scene()):
            signal.disconnect(slot)
        self.setScene(scene)
        scene.setSceneRect(QRectF(-50000, -50000, 100000, 100000))
        for signal, slot in self._scene_slots(scene):
            signal.connect(slot)
        self._on_locked_changed(scene.locked)
        self.minimap.update_nodes()
        self._update_empty_hint()

    def _scene_slots(self, scene) -> list:
        return [
            (scene.layout_changed, self.minimap.nodes_changed),
            (scene.layout_changed, self._update_empty_hint),
            (scene.wire_dropped, self._on_wire_dropped),
            (scene.locked_changed, self._on_locked_changed),
        ]

    # ----------------------------------------------------------------- zoom and pan
    def zoom(self) -> float:
        """The current scale (1 = 100 %)."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Scale by ``factor``, kept within ZOOM_RANGE."""
        target = min(max(self.zoom() * factor, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        factor = target / self.zoom()
        if abs(factor - 1) > 1e-6:
            self.scale(factor, factor)
            self.scene().set_zoom(self.zoom())
            self.minimap.refresh()

    def zoom_in(self) -> None:
        """Zoom in one step."""
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step."""
        self.zoom_by(1 / ZOOM_STEP)

    def fit(self) -> None:
        """Show the whole network, between FIT_MIN_ZOOM and 100 %. A network too large
        for that is shown from its top-left corner (where its Input is)."""
        items = self.scene().itemsBoundingRect()
        if items.isEmpty():
            return
        area = items.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        port = self.viewport().rect()
        zoom = min(port.width() / area.width(), port.height() / area.height(), 1.0)
        zoom = max(zoom, FIT_MIN_ZOOM)
        self.setTransform(QTransform.fromScale(zoom, zoom))
        shown_width, shown_height = port.width() / zoom, port.height() / zoom
        x = area.center().x() if area.width() <= shown_width else area.left() + shown_width / 2
        y = area.center().y() if area.height() <= shown_height else area.top() + shown_height / 2
        self.centerOn(QPointF(x, y))
        self.scene().set_zoom(self.zoom())
        self.minimap.refresh()
        self._fitted = self._view_state()

    def _view_state(self) -> tuple[float, float, float]:
        """Zoom and centre: when they are still those of the last Fit, a resize fits again."""
        centre = self.visible_scene_rect().center()
        return (round(self.zoom(), 6), round(centre.x()), round(centre.y()))

    def center_on_node(self, node_id: str) -> None:
        """Scroll so that a node is in the middle, and select it."""
        item = self.scene().node_item(node_id)
        if item is not None:
            self.centerOn(item.mapRectToScene(item.body_rect()).center())
            self.scene().select_nodes([node_id])

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def wheelEvent(self, event):
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(ZOOM_STEP**steps)
        event.accept()

    def resizeEvent(self, event):
        super().resizeEvent(event)  # keeps the centre (AnchorViewCenter)
        if self._fitted is not None and self._fitted == self._view_state():
            self.fit()  # not zoomed or moved since Fit: fit the new size
        self.minimap.refresh()
        self._update_empty_hint()

    # ----------------------------------------------------------------- empty canvas
    def _build_empty_hint(self) -> QLabel:
        hint = QLabel(EMPTY_HINT, self.viewport())
        hint.setObjectName("empty_hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        hint.setFont(style.font(11))
        hint.setStyleSheet(f"color: {self.scene().theme.dim_text.name()}; background: transparent")
        return hint

    def _update_empty_hint(self) -> None:
        """Say how to begin while the network has no node; hide it once one exists."""
        scene = self.scene()
        if scene is None:  # the view is being torn down
            return
        empty = len(scene.network) == 0
        if empty:
            self.empty_hint.setGeometry(self.viewport().rect())
        self.empty_hint.setVisible(empty)

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event):
        if self.popup.isVisible() and not self.popup.geometry().contains(
            event.position().toPoint()
        ):
            self.popup.close_popup()
        middle = event.button() == Qt.MouseButton.MiddleButton
        if middle or (self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._pan_from is not None:
            point = event.position().toPoint()
            delta, self._pan_from = point - self._pan_from, point
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event):
        scene_pos = self.mapToScene(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and not self.items(
            event.position().toPoint()
        ):
            self.open_search_popup(scene_pos)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ----------------------------------------------------------------- keys
    def event(self, event):
        # Tab would move the focus to the next widget before keyPressEvent sees it.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.open_search_popup()
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif event.matches(QKeySequence.StandardKey.Delete) or key == Qt.Key.Key_Backspace:
            self.delete_selection()
        elif event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selection()
        elif event.matches(QKeySequence.StandardKey.Paste):
            self.paste()
        elif event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all()
        elif ctrl and key == Qt.Key.Key_D:
            self.duplicate_selection()
        elif key in _ARROWS and self.scene().selected_node_ids():
            step = 50 if mods & Qt.KeyboardModifier.ShiftModifier else 10
            self.nudge_selection(_ARROWS[key][0] * step, _ARROWS[key][1] * step)
        elif key == Qt.Key.Key_F and not mods:
            self.fit()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key.Key_Minus:
            self.zoom_out()
        elif key == Qt.Key.Key_Escape:
            self.scene().cancel_wire_drag()
            self.scene().clearSelection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
        super().keyReleaseEvent(event)

    # ----------------------------------------------------------------- edits
    def _edit(self, action, *args, **kwargs):
        """Run an edit unless locked; a refusal becomes a status message."""
        if self.scene().refuse_if_locked():
            return None
        try:
            return action(self.document, *args, **kwargs)
        except DeepwireError as error:
            self.scene().message.emit(str(error))
            return None

    def delete_selection(self) -> None:
        """Delete the selected nodes (with their wires) and wires: one undo step."""
        scene = self.scene()
        self._edit(commands.remove_nodes, scene.selected_node_ids(), scene.selected_wires())

    def copy_selection(self) -> None:
        """Put the selected nodes on the system clipboard."""
        ids = self.scene().selected_node_ids()
        if ids:
            clipboard.put(self.document.network, ids)
            self.scene().message.emit(f"Copied {len(ids)} node{'s' if len(ids) > 1 else ''}")

    def paste(self) -> list[str]:
        """Paste nodes from the system clipboard beside the originals; selects them."""
        text = clipboard.get()
        if text is None:
            self.scene().message.emit("The clipboard holds no Deepwire nodes")
            return []
        ids = self._edit(commands.paste, text, self._paste_offset(text)) or []
        self.scene().select_nodes(ids)
        return ids

    def _paste_offset(self, text: str) -> tuple[float, float]:
        """Beside the originals when they are in sight, else in the middle of the view."""
        try:
            nodes = clipboard.parse_selection(text).nodes
        except DeepwireError:
            return commands.PASTE_OFFSET
        xs = [n["pos"][0] for n in nodes] or [0.0]
        ys = [n["pos"][1] for n in nodes] or [0.0]
        box = QRectF(min(xs), min(ys), max(xs) - min(xs) + style.NODE_WIDTH, max(ys) - min(ys) + 60)
        visible = self.visible_scene_rect()
        if visible.intersects(box):
            return commands.PASTE_OFFSET
        delta = visible.center() - box.center()
        return (round(delta.x()), round(delta.y()))

    def duplicate_selection(self) -> list[str]:
        """Duplicate the selected nodes; selects the copies."""
        ids = self._edit(commands.duplicate, self.scene().selected_node_ids()) or []
        if ids:
            self.scene().select_nodes(ids)
        return ids

    def nudge_selection(self, dx: float, dy: float) -> None:
        """Move the selected nodes by (dx, dy); repeated nudges are one undo step."""
        network = self.document.network
        positions = {}
        for node_id in self.scene().selected_node_ids():
            x, y = network.node(node_id).pos
            positions[node_id] = (x + dx, y + dy)
        self._edit(commands.move_nodes, positions, nudge=True)

    def select_all(self) -> None:
        """Select every node."""
        self.scene().select_nodes([n.id for n in self.document.network.nodes])

    def auto_layout(self, direction: str | None = None) -> None:
        """Arrange the network in layers, ``direction`` "LR" (left to right) or "TB"
        (top to bottom; by default the user's choice in View > Layout Direction), then
        fit it."""
        self._edit(commands.auto_layout, direction or self.layout_direction())
        self.fit()

    def layout_direction(self) -> str:
        """The user's layout direction: the window's setting, "LR" outside a window."""
        settings = getattr(self.window(), "settings", None)
        return settings.layout_direction() if settings is not None else "LR"

    # ----------------------------------------------------------------- context menu
    def contextMenuEvent(self, event):
        menu = self.context_menu(self.mapToScene(event.pos()))
        menu.exec(event.globalPos())

    def context_menu(self, scene_pos: QPointF) -> QMenu:
        """The right-click menu for what is at ``scene_pos`` (selecting it first)."""
        scene = self.scene()
        menu = QMenu(self)
        item = next((i for i in scene.items(scene_pos) if isinstance(i, NodeItem | WireItem)), None)
        if item is not None and not item.isSelected():
            scene.clearSelection()
            item.setSelected(True)
        ids = scene.selected_node_ids()
        if ids:
            network, analysis = self.document.network, self.document.analysis
            weighted = [i for i in ids if analysis.has_weights(i)]
            frozen = all(not network.node(i).trainable for i in weighted)
            menu.addAction("Duplicate", self.duplicate_selection)
            menu.addAction("Copy", self.copy_selection)
            if weighted:  # ReLU, Flatten, Add... have nothing to freeze
                menu.addAction(
                    "Unfreeze weights" if frozen else "Freeze weights",
                    lambda: self._edit(_set_trainable_all, weighted, frozen),
                )
        if ids or scene.selected_wires():
            menu.addAction("Delete", self.delete_selection)
        block_actions.add_menu_items(menu, self)
        if item is None:
            menu.addAction("Add layer…", lambda: self.open_search_popup(scene_pos))
            menu.addAction("Paste", self.paste)
            menu.addSeparator()
            menu.addAction("Auto-layout", self.auto_layout)
            menu.addAction("Fit network", self.fit)
        return menu

    # ----------------------------------------------------------------- popup
    def open_search_popup(self, scene_pos: QPointF | None = None, types=None) -> None:
        """Open the layer search at ``scene_pos`` (the cursor, else the middle)."""
        if self.scene().refuse_if_locked():
            return
        if scene_pos is None:
            cursor = self.viewport().mapFromGlobal(self.cursor().pos())
            inside = self.viewport().rect().contains(cursor)
            point = cursor if inside else self.viewport().rect().center()
            scene_pos = self.mapToScene(point)
        if types is None:
            self._pending_wire = None
        self._popup_pos = QPointF(round(scene_pos.x()), round(scene_pos.y()))
        at = self.viewport().mapTo(self, self.mapFromScene(scene_pos))
        blocks = block_actions.placeable_blocks(self.document) if types is None else ()
        self.popup.open(at, types, blocks)

    def _on_wire_dropped(self, scene_pos: QPointF, node_id: str, port: str, is_output: bool):
        types = fitting_types(self.document.analysis, node_id, port, is_output)
        self._pending_wire = (node_id, port, is_output)
        self.open_search_popup(scene_pos, types)

    def _on_type_chosen(self, type_name: str) -> None:
        pending, self._pending_wire = self._pending_wire, None
        pos = self._popup_pos
        if pending is not None:
            node_id, port, is_output = pending
            if self.scene().network.direction == "TB":  # its port at the drop, above
                above = 0.0 if is_output else NodeItem._compute_height(1, 1)  # if it feeds
                pos = QPointF(pos.x() - style.NODE_WIDTH / 2, pos.y() - above)
            elif not is_output:  # the new node feeds an input: put it to the left
                pos = QPointF(pos.x() - style.NODE_WIDTH, pos.y())
            end = {"src" if is_output else "dst": (node_id, port)}
            new_id = self._edit(commands.add_connected_node, type_name, pos, **end)
        else:
            new_id = self._edit(block_actions.add_node_or_block, type_name, pos)
        if new_id:
            self.scene().select_nodes([new_id])
        self.setFocus()

    # ----------------------------------------------------------------- drops
    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event):
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        point = self.mapToScene(event.position().toPoint())
        pos = QPointF(round(point.x() - style.NODE_WIDTH / 2), round(point.y() - 10))
        new_id = self._edit(self._add_dropped, type_name, pos, point)
        if new_id:
            self.scene().select_nodes([new_id])
        event.acceptProposedAction()

    def _add_dropped(self, document, type_name: str, pos: QPointF, point: QPointF) -> str:
        """Add a layer dropped from the palette; dropped onto a wire, it goes into it
        (one undo step)."""
        wires = [
            item.wire
            for item in self.scene().items(QRectF(point.x() - 4, point.y() - 4, 8, 8))
            if isinstance(item, WireItem)
        ]
        if not wires:
            return block_actions.add_node_or_block(document, type_name, pos)
        with commands.macro(document, f"Insert {type_name}"):
            node_id = block_actions.add_node_or_block(document, type_name, pos)
            commands.insert_on_wire(document, node_id, wires[0])
        return node_id

    def _on_locked_changed(self, locked: bool) -> None:
        self.setAcceptDrops(not locked)
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if not self.scene().locked:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(self.scene().theme.text)
        painter.setFont(style.font(10, bold=True))
        painter.drawText(
            self.viewport().rect().adjusted(0, 8, 0, 0),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            "Locked while training",
        )
        painter.restore()


def _set_trainable_all(document, ids, value: bool) -> None:
    """Freeze or unfreeze several nodes as one undo step."""
    with commands.macro(document, "Unfreeze" if value else "Freeze"):
        for node_id in ids:
            commands.set_trainable(document, node_id, value)
