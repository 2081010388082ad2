"""Drawing a wire with the mouse: from a port, over the canvas, onto another port.

While the wire is dragged, every port where the engine would accept it is highlighted
(``commands.wire_problem``, which allows replacing the wire already on an input).
Released on a port, the wire is made through ``commands.connect``; a refusal is not
made and its reason goes to the scene's ``message`` and a tooltip at the cursor.
Released on a node's body, it goes to that node's first accepting port. Released on
empty canvas, the scene asks for the search popup (``wire_dropped``).
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QToolTip

from engine.errors import DeepwireError
from nodeeditor import commands
from nodeeditor.canvas.wire_item import CurveItem

SNAP_RADIUS = 12.0


class WireDrag:
    """One wire being drawn from ``port`` (a PortItem) in ``scene``."""

    def __init__(self, scene, port):
        self.scene, self.port = scene, port
        self.curve = CurveItem()
        self.curve.setZValue(3)
        scene.addItem(self.curve)
        self.accepting = self._accepting_ports()
        for item in self.accepting:
            item.set_accepting(True)
        self.move(port.scenePos())

    def _ends(self, other) -> tuple[str, str, str, str]:
        """``(src, src_port, dst, dst_port)`` of a wire between the start and ``other``."""
        a, b = (self.port, other) if self.port.is_output else (other, self.port)
        return a.node_id, a.name, b.node_id, b.name

    def problem(self, other) -> str | None:
        """Why a wire to the port ``other`` cannot be made, or None."""
        if other.is_output == self.port.is_output:
            vertical = self.port.parentItem().vertical
            edges = ("top", "bottom") if vertical else ("left side", "right side")
            side = f"an input ({edges[0]})" if self.port.is_output else f"an output ({edges[1]})"
            return f"a wire goes from an output to an input; drop it on {side}"
        return commands.wire_problem(self.scene.network, *self._ends(other))

    def _accepting_ports(self) -> list:
        ports = []
        for node_item in self.scene.node_items():
            side = node_item.inputs if self.port.is_output else node_item.outputs
            ports.extend(p for p in side.values() if self.problem(p) is None)
        return ports

    def move(self, pos: QPointF) -> None:
        """Follow the cursor (snapping to an accepting port near it)."""
        target = self.scene.port_at(pos, SNAP_RADIUS)
        end = target.scenePos() if target in self.accepting else pos
        start = self.port.scenePos()
        vertical = self.port.parentItem().vertical
        if self.port.is_output:
            self.curve.set_ends(start, end, vertical=vertical)
        else:
            self.curve.set_ends(end, start, vertical=vertical)

    def release(self, pos: QPointF, screen_pos=None) -> None:
        """Finish: make the wire, explain a refusal, or ask for the popup."""
        self.cancel()
        target = self.scene.port_at(pos, SNAP_RADIUS) or self._port_of_node_at(pos)
        if target is None:
            if self.scene.items(pos):
                return  # released on a wire or a label: nothing to do
            self.scene.wire_dropped.emit(
                pos, self.port.node_id, self.port.name, self.port.is_output
            )
            return
        if target is self.port:
            return
        reason = self.problem(target)
        if reason is None:
            try:
                commands.connect(self.scene.document, *self._ends(target))
                return
            except DeepwireError as error:
                reason = str(error)
        self.scene.message.emit(f"Cannot wire: {reason}")
        if screen_pos is not None:
            QToolTip.showText(QPoint(screen_pos.x(), screen_pos.y()), reason)

    def _port_of_node_at(self, pos: QPointF):
        """On a node's body: its first accepting port, else its first port of the
        right side (so that the refusal can be explained)."""
        from nodeeditor.canvas.node_item import NodeItem

        for item in self.scene.items(pos):
            if isinstance(item, NodeItem):
                side = item.inputs if self.port.is_output else item.outputs
                ports = list(side.values())
                fitting = [p for p in ports if p in self.accepting]
                if fitting or ports:
                    return (fitting or ports)[0]
                return _NoPort(item.node_id, self.port.is_output)
        return None

    def cancel(self) -> None:
        """Remove the curve and the highlights."""
        for item in self.accepting:
            item.set_accepting(False)
        if self.curve.scene() is not None:
            self.scene.removeItem(self.curve)


class _NoPort:
    """Stands for "the side of this node that has no port" in a refusal."""

    def __init__(self, node_id: str, start_is_output: bool):
        self.node_id = node_id
        self.is_output = not start_is_output
        self.name = "in" if start_is_output else "out"
