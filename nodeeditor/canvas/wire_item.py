"""A wire on the canvas: a smooth cubic curve from an output port to an input port,
labelled with the shape of the tensor it carries.

Long antialiased curves are what a frame costs while dragging (PITFALLS #8), so a wire
is drawn without antialiasing while the scene is in fast mode (a node is being dragged)
when it is long, and only the wires of moved nodes recompute their path.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from nodeeditor.canvas import style


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """The cubic curve of a wire from ``start`` (an output) to ``end`` (an input)."""
    path = QPainterPath(start)
    bend = max(40.0, abs(end.x() - start.x()) * 0.5, min(abs(end.y() - start.y()), 120.0) * 0.6)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    return path


class CurveItem(QGraphicsItem):
    """A curve between two scene points, drawn in the theme's wire colour."""

    def __init__(self):
        super().__init__()
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._long = False
        self.label = ""
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setZValue(0)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Redraw the curve between two scene points."""
        self.prepareGeometryChange()
        self._path = curve(start, end)
        self._shape = None
        self._long = (end - start).manhattanLength() > style.LONG_WIRE
        self._place_label()
        self._bounds = self._path.boundingRect().adjusted(-3, -3, 3, 3).united(self._label_rect)

    def path(self) -> QPainterPath:
        """The curve, in scene coordinates."""
        return self._path

    def set_label(self, text: str) -> None:
        """Show ``text`` (a shape) at the curve's middle."""
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._place_label()
            self._bounds = self._path.boundingRect().adjusted(-3, -3, 3, 3)
            self._bounds = self._bounds.united(self._label_rect)
            self.update()

    def _place_label(self) -> None:
        if not self.label:
            self._label_rect = QRectF()
            return
        metrics = QFontMetricsF(style.font(7.5))
        width, height = metrics.horizontalAdvance(self.label) + 8, metrics.height() + 2
        middle = self._path.pointAtPercent(0.5)
        self._label_rect = QRectF(middle.x() - width / 2, middle.y() - height - 3, width, height)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option, widget=None) -> None:
        # Called for every visible wire on every frame: enums and pens are looked up
        # once (module constants, _pens), not built here.
        scene = self.scene()
        theme = scene.theme if scene else style.current_theme()
        fast = scene is not None and scene.fast_mode and self._long
        painter.setRenderHint(_ANTIALIASING, not fast)
        state = 2 if getattr(self, "highlighted", False) else int(self.isSelected())
        painter.setPen(_pens(theme)[state])
        painter.setBrush(_NO_BRUSH)
        painter.drawPath(self._path)
        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) >= _DETAIL:
            painter.setPen(_NO_PEN)
            painter.setBrush(theme.background)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setPen(theme.dim_text)
            painter.setFont(style.font(7.5))
            painter.drawText(self._label_rect, _CENTER, self.label)


_ANTIALIASING = QPainter.RenderHint.Antialiasing
_NO_BRUSH = Qt.BrushStyle.NoBrush
_NO_PEN = Qt.PenStyle.NoPen
_CENTER = Qt.AlignmentFlag.AlignCenter
_DETAIL = style.DETAIL_ZOOM


@lru_cache(maxsize=4)
def _pens(theme) -> tuple[QPen, QPen, QPen]:
    """Normal, selected and highlighted wire pens of a theme."""
    return (
        QPen(theme.wire, 1.6),
        QPen(theme.wire_selected, 2.6),
        QPen(theme.port_accept, 2.6),
    )


class WireItem(CurveItem):
    """The drawing of one engine Wire, between two PortItems.

    Attributes:
        wire: the engine's Wire it shows.
    """

    def __init__(self, wire, src_port, dst_port):
        super().__init__()
        self.wire = wire
        self.src_port, self.dst_port = src_port, dst_port
        self.highlighted = False  # a dragged node would be inserted here
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setToolTip(f"{wire}\nclick to select, Delete to remove")
        self.update_path()

    def set_highlighted(self, value: bool) -> None:
        """Draw it in the accepting colour (a node dropped now goes into it)."""
        if value != self.highlighted:
            self.highlighted = value
            self.update()

    def update_path(self) -> None:
        """Follow the ports after a node moved."""
        self.set_ends(self.src_port.scenePos(), self.dst_port.scenePos())
