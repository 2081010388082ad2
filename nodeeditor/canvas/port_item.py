"""A port of a node on the canvas: a small circle on the node's left (inputs) or right
(outputs) edge, or top and bottom in a network drawn top to bottom. Dragging from a port draws a wire (see scene.py); while a wire is
dragged, the ports that would accept it are highlighted."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from nodeeditor.canvas import style

_R = style.PORT_RADIUS + 3
_BOUNDS = QRectF(-_R, -_R, 2 * _R, 2 * _R)


class PortItem(QGraphicsItem):
    """One input or output port, a child of its NodeItem.

    Attributes:
        name: the port's name (``in``, ``in2``, ``out``).
        is_output: True for output ports.
        label: text drawn beside it (empty when the node has one port on that side).
    """

    def __init__(self, node_item, name: str, is_output: bool, label: str = ""):
        super().__init__(node_item)
        self.name, self.is_output, self.label = name, is_output, label
        self.accepting = False  # highlighted: a dragged wire may end here
        self.hovered = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        direction = "output" if is_output else "input"
        self.setToolTip(f"{name} ({direction}): drag to another node's port to wire")

    @property
    def node_id(self) -> str:
        """The id of the node this port belongs to."""
        return self.parentItem().node_id

    def boundingRect(self) -> QRectF:
        return _BOUNDS

    def hoverEnterEvent(self, event):
        self.hovered = True
        self.update()

    def hoverLeaveEvent(self, event):
        self.hovered = False
        self.update()

    def set_accepting(self, value: bool) -> None:
        """Highlight (or not) this port as a place where the dragged wire may end."""
        if value != self.accepting:
            self.accepting = value
            self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        zoom = option.levelOfDetailFromTransform(painter.worldTransform())
        if zoom < style.DETAIL_ZOOM and not self.accepting:
            return
        theme = self.scene().theme if self.scene() else style.current_theme()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        r = style.PORT_RADIUS + (1.5 if self.accepting or self.hovered else 0)
        color = theme.port_accept if self.accepting else theme.port
        painter.setPen(QPen(theme.background, 1.2))
        painter.setBrush(QBrush(color))
        painter.drawEllipse(QRectF(-r, -r, 2 * r, 2 * r))
