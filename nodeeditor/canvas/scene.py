"""The scene: a live mirror of the document's network, and the mouse gestures on it.

``NetworkScene`` builds a NodeItem per node and a WireItem per wire, then follows the
network's events (one item created, changed or removed per event, never a rebuild)
and the document's coalesced ``analysis_changed`` (shapes on wires, parameter counts,
error and warning marks). Gestures become nodeeditor.commands calls; the scene never
changes its items in answer to a gesture, it waits for the network's event.

Gestures handled here: drag from a port to a port to wire (ports that accept the wire
are highlighted; a refused drop says why on ``message``); a wire dropped on empty
canvas asks the view for the search popup (``wire_dropped``); moving nodes is one undo
step per drag; a free node dropped onto a wire is inserted into it. Wire drags live in
wire_drag.py.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from engine.layers.rules import fmt
from engine.network import Wire
from nodeeditor import commands
from nodeeditor.canvas import routing, style
from nodeeditor.canvas.block_item import BlockItem, make_node_item
from nodeeditor.canvas.node_item import NodeItem
from nodeeditor.canvas.port_item import PortItem
from nodeeditor.canvas.preview_item import PreviewItem
from nodeeditor.canvas.wire_drag import WireDrag
from nodeeditor.canvas.wire_item import WireItem, wire_region
from nodeeditor.document import weak_slot

GRID = 24.0


class NetworkScene(QGraphicsScene):
    """The canvas of one Document.

    Signals:
        message(str): a sentence for the status bar (a refused wire's reason...).
        wire_dropped(QPointF, str, str, bool): a wire dragged from ``(node, port,
            is_output)`` was released on empty canvas at a scene point.
        locked_changed(bool): editing was locked or unlocked.
        layout_changed(): nodes were added, removed or moved (for the minimap).
        node_activated(str): a node was double-clicked (the window may show its
            settings).
    """

    message = Signal(str)
    wire_dropped = Signal(QPointF, str, str, bool)
    locked_changed = Signal(bool)
    layout_changed = Signal()
    node_activated = Signal(str)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.theme = style.current_theme()
        self.locked = False
        self.fast_mode = False  # set while nodes are dragged: cheap long wires
        self._nodes: dict[str, NodeItem] = {}
        self._wires: dict[Wire, WireItem] = {}
        self._wires_by_node: dict[str, set[Wire]] = {}
        self._press_positions: dict[str, QPointF] | None = None
        self._wire_drag: WireDrag | None = None
        self._shown: dict[str, tuple] = {}  # node id -> analysis state on its item
        self._highlighted: Wire | None = None  # the wire a dragged node would go into
        self._heat: dict[str, tuple] | None = None  # colour by gradient: set_heat
        self._ports_visible = True
        # Routing waits for the end of an edit: an Auto-layout moves every node, and
        # routes through the half-moved network would be thrown away at once.
        self.node_rects = routing.RectIndex()  # node id -> body rectangle, for the routes
        self.preview_rects = routing.RectIndex()  # node id -> its preview: labels avoid them
        self._route_areas: list[QRectF] = []  # where nodes came, stood or went
        self._route_nodes: set[str] = set()  # nodes whose own wires wait too
        self._moving = False  # inside a network's move event
        self._route_timer = QTimer(self)
        self._route_timer.setSingleShot(True)
        self._route_timer.timeout.connect(self.flush_routes)
        self._undo_stack = getattr(document, "undo_stack", None)
        self._flush_slot = weak_slot(self, "flush_routes")
        if self._undo_stack is not None:  # an edit's end: route before anyone looks
            self._undo_stack.indexChanged.connect(self._flush_slot)
        self._build()
        self._handlers = {
            "node_added": self._on_node_added,
            "node_removed": self._on_node_removed,
            "node_renamed": self._on_node_renamed,
            "params_changed": self._on_node_changed,
            "node_moved": self._on_node_moved,
            "trainable_changed": self._on_node_changed,
            "wired": self._on_wired,
            "unwired": self._on_unwired,
            "bind_changed": self._on_node_changed,
            "expanded_changed": self._on_expanded_changed,
            "direction_changed": self._on_direction_changed,
        }
        for name, handler in self._handlers.items():
            getattr(self.network.events, name).connect(handler)
        self._blocks_pending = False
        self.network.library.events.changed.connect(self._on_library_changed)
        document.analysis_changed.connect(self._on_analysis_changed)
        self._on_analysis_changed(document.analysis)

    @property
    def network(self):
        """The engine network shown."""
        return self.document.network

    def detach(self) -> None:
        """Stop following the network (call before dropping the scene)."""
        for name, handler in self._handlers.items():
            getattr(self.network.events, name).disconnect(handler)
        self.network.library.events.changed.disconnect(self._on_library_changed)
        if self._undo_stack is not None:
            self._undo_stack.indexChanged.disconnect(self._flush_slot)
            self._undo_stack = None
        self._route_timer.stop()

    def nodes_rect(self) -> QRectF:
        """The scene rectangle that holds every node."""
        rect = QRectF()
        for item in self._nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def _build(self) -> None:
        for node in self.network.nodes:
            self._on_node_added(node)
        for wire in self.network.wires:
            self._on_wired(wire, route=False)
        self._route_areas.clear()
        for item in self._wires.values():  # once all are in: routes clear of every node
            item.update_path()

    # ----------------------------------------------------------------- API
    def node_item(self, node_id: str) -> NodeItem | None:
        """The item of a node, or None."""
        return self._nodes.get(node_id)

    def wire_item(self, wire: Wire) -> WireItem | None:
        """The item of a wire, or None."""
        return self._wires.get(wire)

    def node_items(self) -> list[NodeItem]:
        """Every node item, in network order."""
        return list(self._nodes.values())

    def wire_items(self) -> list[WireItem]:
        """Every wire item."""
        return list(self._wires.values())

    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in network order."""
        return [i for i, item in self._nodes.items() if item.isSelected()]

    def selected_wires(self) -> list[Wire]:
        """The selected wires."""
        return sorted(w for w, item in self._wires.items() if item.isSelected())

    def select_nodes(self, ids) -> None:
        """Select exactly the nodes ``ids`` (one selectionChanged)."""
        wanted = set(ids)
        self.blockSignals(True)
        try:
            self.clearSelection()
            for node_id in wanted:
                if node_id in self._nodes:
                    self._nodes[node_id].setSelected(True)
        finally:
            self.blockSignals(False)
        self.selectionChanged.emit()

    def set_locked(self, locked: bool) -> None:
        """Lock (while training: no edits, nodes dimmed) or unlock the canvas."""
        if locked == self.locked:
            return
        self.locked = locked
        self.cancel_wire_drag()
        for item in self._nodes.values():
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, not locked)
            item.update()
        self.update()
        self.locked_changed.emit(locked)

    def refuse_if_locked(self) -> bool:
        """True (and a message) when the canvas is locked."""
        if self.locked:
            self.message.emit("The network is locked while training; stop training to edit it")
        return self.locked

    def set_heat(self, heat: dict[str, tuple] | None) -> None:
        """Colour the nodes by gradient size: node id -> ``(level 0..1, text)``, the
        nodes not in it have no weights; None: the family colours again."""
        self._heat = heat
        for node_id, item in self._nodes.items():
            item.set_heat(self._heat_of(node_id))

    def _heat_of(self, node_id: str) -> tuple | None:
        return None if self._heat is None else self._heat.get(node_id, (None, ""))

    def set_previews(self, previews: dict[str, tuple] | None, stats: dict | None = None) -> None:
        """Show each node's output for the preview sample: node id -> ``(QImage,
        tooltip text)``; nodes not in it show none. ``stats``: ``(node id, port)`` ->
        the text a wire from that port adds to its tooltip. None: no previews."""
        previews, stats = previews or {}, stats or {}
        for node_id, item in self._nodes.items():
            before = self.preview_rects.get(node_id)
            item.set_preview(*previews.get(node_id, (None,)))
            if self.preview_rects.get(node_id) != before:  # labels near it find room again
                self._reroute(*(QRectF(QPointF(*r[:2]), QPointF(*r[2:])) for r in
                                (before, self.preview_rects.get(node_id)) if r))  # fmt: skip
        for wire, item in self._wires.items():
            item.set_stats(stats.get((wire.src, wire.src_port), ""))

    def track_preview(self, item: NodeItem) -> None:
        """Keep ``preview_rects`` up to date with where the node's preview is (if any)."""
        if item.preview is None or item.preview.scene() is not self:
            self.preview_rects.discard(item.node_id)
            return
        rect = item.preview.sceneBoundingRect()
        self.preview_rects.set(item.node_id, (rect.left(), rect.top(), rect.right(), rect.bottom()))

    def set_zoom(self, zoom: float) -> None:
        """Hide the ports when zoomed out so far that they cannot be hit (each is an
        item painted on every frame)."""
        visible = zoom >= style.PORT_ZOOM
        if visible != self._ports_visible:
            self._ports_visible = visible
            for item in self._nodes.values():
                for port in item.ports():
                    port.setVisible(visible)

    def set_theme(self) -> None:
        """Re-read the palette's colours (after a theme change)."""
        self.theme = style.current_theme()
        for item in self._nodes.values():
            item.update()
        self.update()
        self.layout_changed.emit()  # the minimap redraws in the new colours

    # ----------------------------------------------------------------- network events
    def _on_node_added(self, node) -> None:
        item = make_node_item(node, self.network)
        self._nodes[node.id] = item
        self._shown.pop(node.id, None)
        self._wires_by_node.setdefault(node.id, set())
        self.addItem(item)
        if self.locked:
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable, False)
        if not self._ports_visible:
            for port in item.ports():
                port.setVisible(False)
        item.set_heat(self._heat_of(node.id))
        self._track(item)
        self._reroute(item.sceneBoundingRect())
        self.layout_changed.emit()

    def _on_node_removed(self, node) -> None:
        if self._wire_drag is not None and self._wire_drag.port.node_id == node.id:
            self.cancel_wire_drag()  # undone under the mouse (Ctrl+Z while dragging)
        item = self._nodes.pop(node.id, None)
        self._wires_by_node.pop(node.id, None)
        self.node_rects.discard(node.id)
        self.preview_rects.discard(node.id)
        if item is not None:
            area = item.sceneBoundingRect()
            self.removeItem(item)
            self._reroute(area)
        self.layout_changed.emit()

    def _on_node_renamed(self, old_id: str, new_id: str) -> None:
        item = self._nodes.pop(old_id)
        for wire in list(self._wires_by_node.get(old_id, ())):
            self._on_unwired(wire)
        self._wires_by_node.pop(old_id, None)
        self._nodes[new_id] = item
        self._nodes = {n.id: self._nodes[n.id] for n in self.network.nodes}
        self._wires_by_node[new_id] = set()
        self._shown.pop(new_id, None)
        item.set_node(self.network.node(new_id))
        item.set_heat(self._heat_of(new_id))
        self.node_rects.discard(old_id)
        self.preview_rects.discard(old_id)
        self._track(item)
        for wire in self.network.wires_of(new_id):
            self._on_wired(wire)

    def _on_node_changed(self, node_id: str, *args) -> None:
        item = self._nodes[node_id]
        ports = [p.pos() for p in item.ports()]
        item.set_node(self.network.node(node_id))
        self._track(item)
        if [p.pos() for p in item.ports()] != ports:
            self._update_wires_of(node_id)

    def _on_expanded_changed(self, node_id: str, value: bool) -> None:
        """A block opened or closed in place: wires find their way as if it had moved."""
        old = self._nodes[node_id].sceneBoundingRect()
        self._on_node_changed(node_id)
        pos = self.network.node(node_id).pos
        self._on_node_moved(node_id, (old.x(), old.y()), pos)

    def _on_direction_changed(self, old: str, new: str) -> None:
        """The network is drawn the other way: every node puts its ports on the other
        edges, and every wire finds its way again at the end of the edit."""
        vertical = new == "TB"
        for node_id, item in self._nodes.items():
            area = item.sceneBoundingRect()
            item.set_vertical(self.network.node(node_id), vertical)
            self._track(item)
            self._reroute(area, item.sceneBoundingRect(), moved=node_id)
        self.layout_changed.emit()

    def _on_library_changed(self) -> None:
        """Some block type changed: its instances show its new ports and inside, once
        per turn of the event loop (an edit inside a type announces every step)."""
        if not self._blocks_pending and shiboken6.isValid(self):
            self._blocks_pending = True
            QTimer.singleShot(0, self._refresh_blocks)

    def _refresh_blocks(self) -> None:
        self._blocks_pending = False
        for node_id, item in list(self._nodes.items()):
            if isinstance(item, BlockItem) and node_id in self.network:
                self._on_node_changed(node_id)

    def _on_node_moved(self, node_id: str, old, new) -> None:
        item = self._nodes[node_id]
        before = item.sceneBoundingRect()
        self._moving = True
        try:
            item.setPos(QPointF(*new))
        finally:
            self._moving = False
        self._reroute(before, item.sceneBoundingRect(), moved=node_id)
        self.layout_changed.emit()

    def _reroute(self, *areas: QRectF, moved: str | None = None) -> None:
        """The wires near ``areas`` (where a node came, stood or went) and those of
        node ``moved`` find their way again at the end of the edit (flush_routes): a
        node may now stand in it, or have left their direct path."""
        self._route_areas.extend(areas)
        if moved is not None:
            self._route_nodes.add(moved)
        self._route_timer.start()

    def flush_routes(self, *_) -> None:
        """Route the wires that wait for it (called when an edit ends, else by a timer
        at the next turn of the event loop)."""
        self._route_timer.stop()
        areas, nodes = self._route_areas, self._route_nodes
        self._route_areas, self._route_nodes = [], set()
        changed = routing.RectIndex()
        for i, area in enumerate(areas):
            changed.set(i, (area.left(), area.top(), area.right(), area.bottom()))
        for wire, item in list(self._wires.items()):
            source, target = self.node_rects.get(wire.src), self.node_rects.get(wire.dst)
            if source is None or target is None:
                continue
            if wire.src in nodes or wire.dst in nodes or changed.near(wire_region(source, target)):
                item.update_path()

    def _on_wired(self, wire: Wire, route: bool = True) -> None:
        src, dst = self._nodes[wire.src], self._nodes[wire.dst]
        for end, port in ((src, wire.src_port), (dst, wire.dst_port)):
            if port not in (end.outputs if end is src else end.inputs):
                end.set_node(self.network.node(end.node_id))  # a block changed this turn
        item = WireItem(wire, src.outputs[wire.src_port], dst.inputs[wire.dst_port])
        shape = self.document.analysis.wire_shape(wire)  # blocks may have several outputs
        item.set_label(fmt(shape) if shape is not None else "")
        self._wires[wire] = item
        self._wires_by_node.setdefault(wire.src, set()).add(wire)
        self._wires_by_node.setdefault(wire.dst, set()).add(wire)
        self.addItem(item)
        if route:  # in the scene now, it can find a way clear of all nodes
            item.update_path()

    def _on_unwired(self, wire: Wire) -> None:
        item = self._wires.pop(wire, None)
        for end in (wire.src, wire.dst):
            self._wires_by_node.get(end, set()).discard(wire)
        if item is not None:
            self.removeItem(item)

    def _on_analysis_changed(self, analysis) -> None:
        """Show a new analysis, touching only the items whose result changed."""
        diagnostics: dict[str, list] = {}
        for d in analysis.diagnostics:
            if d.node is not None:
                diagnostics.setdefault(d.node, []).append(d)
        shapes, params, seen = analysis.shapes, analysis.params, self._shown
        changed_shapes = set()
        for node_id, item in self._nodes.items():
            state = (shapes.get(node_id), params.get(node_id), diagnostics.get(node_id, []))
            old = seen.get(node_id)
            if old != state:
                if old is None or old[0] != state[0]:
                    changed_shapes.add(node_id)
                seen[node_id] = state
                item.set_analysis(*state)
        for node_id in [k for k in seen if k not in self._nodes]:
            del seen[node_id]
        for node_id in changed_shapes:
            for wire in self._wires_by_node.get(node_id, ()):
                if wire.src == node_id:
                    shape = analysis.wire_shape(wire)
                    self._wires[wire].set_label(fmt(shape) if shape is not None else "")

    # ----------------------------------------------------------------- moves
    def node_item_moved(self, item: NodeItem) -> None:
        """Called by a NodeItem whose position changed: its wires follow (at the end
        of the edit when the network moved it)."""
        self._track(item)
        if self._moving:
            return
        self._update_wires_of(item.node_id)

    def _track(self, item: NodeItem) -> None:
        """Keep ``node_rects`` up to date with where the node's body is."""
        rect = item.mapRectToScene(item.body_rect())
        self.node_rects.set(item.node_id, (rect.left(), rect.top(), rect.right(), rect.bottom()))

    def _update_wires_of(self, node_id: str) -> None:
        for wire in self._wires_by_node.get(node_id, ()):
            wire_item = self._wires.get(wire)
            if wire_item is not None:
                wire_item.update_path()

    def _commit_moves(self) -> None:
        """After a drag: one move command, or an insertion into a wire."""
        before, self._press_positions = self._press_positions, None
        self.fast_mode = False
        self._highlight_wire(None)
        for node_id in before or {}:
            for wire in self._wires_by_node.get(node_id, ()):
                self._wires[wire].update()  # antialiased again
        moved = {
            node_id: self._nodes[node_id].pos()
            for node_id, start in (before or {}).items()
            if node_id in self._nodes and self._nodes[node_id].pos() != start
        }
        if not moved:
            return
        positions = {k: (round(p.x()), round(p.y())) for k, p in moved.items()}  # tidy files
        if len(moved) == 1:
            (node_id,) = moved
            wire = self._wire_under(node_id)
            if wire is not None and commands.insert_on_wire(
                self.document, node_id, wire, positions[node_id]
            ):
                self.message.emit(f"Inserted {node_id} into {wire}")
                return
        commands.move_nodes(self.document, positions)

    def _wire_under(self, node_id: str) -> Wire | None:
        """A wire crossing the body of a free node, if the node fits into it."""
        item = self._nodes[node_id]
        if self._wires_by_node.get(node_id):
            return None
        body = item.mapRectToScene(item.body_rect())
        for other in self.items(body):
            if (
                isinstance(other, WireItem)
                and other.collidesWithItem(item)
                and commands.insertion_ports(self.network, node_id, other.wire)
            ):
                return other.wire
        return None

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event):
        port = self.port_at(event.scenePos())
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            if not self.refuse_if_locked():
                self._wire_drag = WireDrag(self, port)
            event.accept()
            return
        super().mousePressEvent(event)
        self._press_positions = {i: self._nodes[i].pos() for i in self.selected_node_ids()}

    def mouseMoveEvent(self, event):
        if self._wire_drag is not None:
            self._wire_drag.move(event.scenePos())
            return
        if self._press_positions and event.buttons():
            self.fast_mode = True
        super().mouseMoveEvent(event)
        if self.fast_mode and len(self._press_positions) == 1:
            (node_id,) = self._press_positions
            self._highlight_wire(self._wire_under(node_id) if node_id in self._nodes else None)

    def _highlight_wire(self, wire: Wire | None) -> None:
        """Show which wire a dragged node would go into if dropped now."""
        current = self._highlighted
        if current == wire:
            return
        for old_or_new, on in ((current, False), (wire, True)):
            item = self._wires.get(old_or_new) if old_or_new is not None else None
            if item is not None:
                item.set_highlighted(on)
        self._highlighted = wire

    def mouseReleaseEvent(self, event):
        if self._wire_drag is not None:
            drag, self._wire_drag = self._wire_drag, None
            drag.release(event.scenePos(), event.screenPos())
            return
        super().mouseReleaseEvent(event)
        if self._press_positions is not None:
            self._commit_moves()

    def mouseDoubleClickEvent(self, event):
        for item in self.items(event.scenePos()):
            if isinstance(item, NodeItem):
                self.node_activated.emit(item.node_id)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def helpEvent(self, event):
        under = self.items(event.scenePos())
        if under and isinstance(under[0], PreviewItem):
            under[0].enlarge_tooltip()
        super().helpEvent(event)

    def cancel_wire_drag(self) -> None:
        """Drop a wire drag in progress (Esc, lock)."""
        if self._wire_drag is not None:
            self._wire_drag.cancel()
            self._wire_drag = None

    def port_at(self, pos: QPointF, radius: float = 2.0) -> PortItem | None:
        """The port under a scene point (within ``radius``), if any."""
        area = QRectF(pos.x() - radius, pos.y() - radius, 2 * radius, 2 * radius)
        for item in self.items(area):
            if isinstance(item, PortItem):
                return item
        return None

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.theme.background)
        if painter.transform().m11() < 0.45:
            return  # a grid this dense is noise and costs frames
        painter.setPen(QPen(self.theme.grid, 0))
        left = int(rect.left() // GRID) * GRID
        top = int(rect.top() // GRID) * GRID
        lines = []
        x = left
        while x < rect.right():
            lines.append((x, rect.top(), x, rect.bottom()))
            x += GRID
        y = top
        while y < rect.bottom():
            lines.append((rect.left(), y, rect.right(), y))
            y += GRID
        painter.drawLines([QLineF(*line) for line in lines])
