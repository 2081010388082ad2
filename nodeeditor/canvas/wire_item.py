"""A wire on the canvas: a smooth cubic curve from an output port to an input port,
labelled with the shape of the tensor it carries.

A wire that runs backwards (to a node left of its source: the end of a row back to the
start of the next, or a loop) is routed around the two nodes instead of through them:
out to the right, along a lane clear of both, and in from the left. The shape label
goes where the wire has room (above its middle, or on the lane): in full, ``(16, 8,
8)``, else compact, ``16×8×8``, else not at all (the wire's tooltip and the source
node still show it), so that it never covers a node.

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
from nodeeditor.canvas.node_item import NodeItem

BACK_MARGIN = 0.0  # an input less far than this right of its output is "behind" it
HOOK = 30.0  # how far a routed wire swings out beside its ports
LANE_GAP = 24.0  # distance of a lane from the nodes it passes
LABEL_PAD = 3.0
LABEL_MARGIN = 8.0  # free space a label keeps from the nodes on either side


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """The cubic curve of a wire from ``start`` (an output) to ``end`` (an input)."""
    path = QPainterPath(start)
    bend = max(40.0, abs(end.x() - start.x()) * 0.5, min(abs(end.y() - start.y()), 120.0) * 0.6)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    return path


def lane_candidates(src: QRectF, dst: QRectF) -> list[float]:
    """Heights a backward wire may run along, best first: in the gap beside the target
    or the source when one is above the other, else below (or above) both."""
    if dst.top() - src.bottom() >= 2 * LANE_GAP:  # the target is lower
        return [dst.top() - LANE_GAP, src.bottom() + LANE_GAP, (src.bottom() + dst.top()) / 2]
    if src.top() - dst.bottom() >= 2 * LANE_GAP:  # the target is higher
        return [dst.bottom() + LANE_GAP, src.top() - LANE_GAP, (dst.bottom() + src.top()) / 2]
    return [max(src.bottom(), dst.bottom()) + LANE_GAP, min(src.top(), dst.top()) - LANE_GAP]


def back_route(start: QPointF, end: QPointF, lane: float) -> QPainterPath:
    """A wire from ``start`` out to the right, along ``lane`` to the left, and into
    ``end`` from the left: it passes around its nodes, not behind them."""
    hook = min(HOOK, max(12.0, abs(lane - start.y()) * 0.6))
    into = min(HOOK, max(12.0, abs(lane - end.y()) * 0.6))
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + hook, start.y()), QPointF(start.x() + hook, lane),
                 QPointF(start.x(), lane))  # fmt: skip
    path.lineTo(QPointF(end.x(), lane))
    path.cubicTo(QPointF(end.x() - into, lane), QPointF(end.x() - into, end.y()), end)
    return path


def compact(label: str) -> str:
    """A shorter form of a shape label: ``(16, 8, 8)`` -> ``16×8×8``."""
    return label.strip("()").rstrip(",").replace(", ", "×")


class CurveItem(QGraphicsItem):
    """A curve between two scene points, drawn in the theme's wire colour."""

    def __init__(self):
        super().__init__()
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._long = False
        self.label = ""
        self.shown_label = ""  # the label as drawn: full, compact, or "" when no room
        self._anchor = QPointF()  # where the label sits (its bottom middle)
        self._avoid: tuple[QRectF, ...] = ()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.routed = False  # goes backwards, around its nodes
        self.setZValue(0)

    def set_ends(self, start: QPointF, end: QPointF, avoid: tuple[QRectF, QRectF] = ()) -> None:
        """Redraw the curve between two scene points; ``avoid``: the source and target
        nodes' rectangles, which a backward wire goes around and a label never covers."""
        self.prepareGeometryChange()
        self._avoid = tuple(avoid)
        self.routed = len(self._avoid) == 2 and end.x() - start.x() < BACK_MARGIN
        if self.routed:
            lane = self._free_lane(start, end)
            self._path = back_route(start, end, lane)
            self._anchor = QPointF((start.x() + end.x()) / 2, lane)
        else:
            self._path = curve(start, end)
            self._anchor = self._path.pointAtPercent(0.5)
        self._shape = None
        self._long = (end - start).manhattanLength() > style.LONG_WIRE
        self._place_label()

    def _free_lane(self, start: QPointF, end: QPointF) -> float:
        """The first lane whose run between the ports crosses no node."""
        lanes = lane_candidates(*self._avoid)
        left, right = end.x() - HOOK, start.x() + HOOK
        for lane in lanes:
            if not self._covers_node(QRectF(left, lane - 3, right - left, 6)):
                return lane
        return lanes[0]

    def _covers_node(self, rect: QRectF) -> bool:
        """Whether ``rect`` overlaps a node: the wire's own, or any in the scene."""
        if any(rect.intersects(node) for node in self._avoid):
            return True
        scene = self.scene()
        if scene is None:
            return False
        return any(
            isinstance(item, NodeItem) and rect.intersects(item.mapRectToScene(item.body_rect()))
            for item in scene.items(rect)
        )

    def path(self) -> QPainterPath:
        """The curve, in scene coordinates."""
        return self._path

    def set_label(self, text: str) -> None:
        """Show ``text`` (a shape) by the curve's middle, where there is room."""
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._place_label()
            self.update()

    def _place_label(self) -> None:
        self._label_rect, self.shown_label = QRectF(), ""
        metrics = _metrics()
        for text in dict.fromkeys((self.label, compact(self.label))):
            if not text:
                continue
            width, height = metrics.horizontalAdvance(text) + 2 * LABEL_PAD, metrics.height() + 2
            rect = QRectF(
                self._anchor.x() - width / 2, self._anchor.y() - height - 3, width, height
            )
            room = rect.adjusted(-LABEL_MARGIN, -1, LABEL_MARGIN, 1)
            # only its own two nodes: a query of the scene per label costs a large
            # network's edits dearly (the lane of a routed wire is clear of the others)
            if not any(room.intersects(node) for node in self._avoid):
                self._label_rect, self.shown_label = rect, text
                break
        self._bounds = self._path.boundingRect().adjusted(-3, -3, 3, 3).united(self._label_rect)

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
        if (
            self.shown_label
            and option.levelOfDetailFromTransform(painter.worldTransform()) >= _DETAIL
        ):
            painter.setPen(_NO_PEN)
            painter.setBrush(theme.background)
            painter.drawRoundedRect(self._label_rect, 3, 3)
            painter.setPen(theme.dim_text)
            painter.setFont(style.font(7.5))
            painter.drawText(self._label_rect, _CENTER, self.shown_label)


_ANTIALIASING = QPainter.RenderHint.Antialiasing
_NO_BRUSH = Qt.BrushStyle.NoBrush
_NO_PEN = Qt.PenStyle.NoPen
_CENTER = Qt.AlignmentFlag.AlignCenter
_DETAIL = style.DETAIL_ZOOM


@lru_cache(maxsize=1)
def _metrics() -> QFontMetricsF:
    return QFontMetricsF(style.font(7.5))


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
        self._update_tooltip()
        self.update_path()

    def set_label(self, text: str) -> None:
        """Show the shape ``text`` (also in the tooltip, where it always fits)."""
        super().set_label(text)
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        shape = f"  {self.label}" if self.label else ""
        self.setToolTip(f"{self.wire}{shape}\nclick to select, Delete to remove")

    def set_highlighted(self, value: bool) -> None:
        """Draw it in the accepting colour (a node dropped now goes into it)."""
        if value != self.highlighted:
            self.highlighted = value
            self.update()

    def update_path(self) -> None:
        """Follow the ports after a node moved."""
        nodes = tuple(p.parentItem() for p in (self.src_port, self.dst_port))
        avoid = tuple(node.mapRectToScene(node.body_rect()) for node in nodes)
        self.set_ends(self.src_port.scenePos(), self.dst_port.scenePos(), avoid)
