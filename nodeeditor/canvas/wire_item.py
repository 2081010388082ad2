"""A wire on the canvas: a smooth cubic curve from an output port to an input port,
labelled with the shape of the tensor it carries.

A wire whose curve would pass behind other nodes (a skip connection over several
layers) or that runs backwards (the end of a band back to the start of the next, a
loop) is routed around them (routing.py): out to the right, along a free lane, and in
from the left, its corners rounded. In a network drawn top to bottom the same holds
turned a quarter: out of the bottom, in from the top, the label beside the wire.
The shape label goes where the wire has room
(above its middle, or on the lane): in full, ``(16, 8, 8)``, else compact,
``16×8×8``, else not at all (the wire's tooltip and the source node still show it),
so that it never covers a node or a node's preview.

Routes are computed when a node moves or a wire changes (the scene asks the wires
near the change), never while painting. Long antialiased curves are what a frame
costs while dragging (PITFALLS #8), so a wire is drawn without antialiasing while the
scene is in fast mode (a node is being dragged) when it is long.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem

from nodeeditor.canvas import routing, style

LABEL_PAD = 3.0
LABEL_MARGIN = 8.0  # free space a label keeps from the nodes on either side
CORNER_RADIUS = 16.0  # the rounding of a routed wire's corners
ROUTE_MARGIN = 200.0  # nodes this far beside a wire's ends are looked at for its route


def curve(start: QPointF, end: QPointF, vertical: bool = False) -> QPainterPath:
    """The cubic curve of a wire from ``start`` (an output) to ``end`` (an input),
    leaving and entering sideways, or up and down when ``vertical``."""
    path = QPainterPath(start)
    c1, c2 = routing.curve_controls(_xy(start), _xy(end), vertical)
    path.cubicTo(QPointF(*c1), QPointF(*c2), end)
    return path


def rounded(corners: list[tuple[float, float]]) -> QPainterPath:
    """The path through ``corners`` (from routing.route), its corners rounded."""
    path = QPainterPath(QPointF(*corners[0]))
    for before, corner, after in zip(corners, corners[1:], corners[2:]):
        radius = min(CORNER_RADIUS, _distance(before, corner) / 2, _distance(corner, after) / 2)
        path.lineTo(QPointF(*_toward(corner, before, radius)))
        path.quadTo(QPointF(*corner), QPointF(*_toward(corner, after, radius)))
    path.lineTo(QPointF(*corners[-1]))
    return path


def _distance(a, b) -> float:
    return abs(b[0] - a[0]) + abs(b[1] - a[1])  # segments are horizontal or vertical


def _toward(a, b, length: float) -> tuple[float, float]:
    """The point ``length`` from ``a`` toward ``b``."""
    d = _distance(a, b) or 1.0
    return a[0] + (b[0] - a[0]) * length / d, a[1] + (b[1] - a[1]) * length / d


def _xy(point: QPointF) -> tuple[float, float]:
    return point.x(), point.y()


def _rect(rect: QRectF) -> routing.Rect:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def label_anchor(corners: list[tuple[float, float]]) -> tuple[QPointF, bool]:
    """Where a routed wire's label goes: the middle of its longest run (the lane beside
    the nodes it passes, clear of its neighbours' labels in the gaps), and whether
    that run is vertical (the label then sits beside it, not above)."""
    a, b = max(itertools.pairwise(corners), key=lambda run: _distance(*run))
    return QPointF((a[0] + b[0]) / 2, (a[1] + b[1]) / 2), abs(b[1] - a[1]) > abs(b[0] - a[0])


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
        self._beside = False  # the label sits right of the anchor (a vertical run)
        self._avoid: tuple[routing.Rect, ...] = ()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.routed = False  # goes around nodes instead of the curve
        self.setZValue(0)

    def set_ends(
        self, start: QPointF, end: QPointF, avoid=(), corners=None, vertical: bool = False
    ) -> None:
        """Redraw the wire between two scene points: the curve, or through ``corners``
        (routing.route) when given. ``avoid``: the rectangles of the nodes near it
        (its own two first) and their previews, which its label never covers. ``vertical``: the ports
        are on the top and bottom edges."""
        self.prepareGeometryChange()
        self._avoid = tuple(avoid)
        self.routed = corners is not None
        if self.routed:
            self._path = rounded(corners)
            self._anchor, along = label_anchor(corners)
            self._beside = vertical and along  # left to right keeps labels above
        else:
            self._path = curve(start, end, vertical)
            self._anchor, self._beside = self._path.pointAtPercent(0.5), vertical
        self._shape = None
        self._long = (end - start).manhattanLength() > style.LONG_WIRE
        self._place_label()

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
            if self._beside:
                rect = QRectF(self._anchor.x() + 5, self._anchor.y() - height / 2, width, height)
            else:
                rect = QRectF(
                    self._anchor.x() - width / 2, self._anchor.y() - height - 3, width, height
                )
            room = _rect(rect.adjusted(-LABEL_MARGIN, -1, LABEL_MARGIN, 1))
            if not any(routing.overlaps(room, node) for node in self._avoid):
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
        self.stats = ""  # the previewed sample's statistics of the tensor: set_stats
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self._update_tooltip()
        vertical = src_port.parentItem().vertical
        self.set_ends(src_port.scenePos(), dst_port.scenePos(), vertical=vertical)  # routed later

    def set_label(self, text: str) -> None:
        """Show the shape ``text`` (also in the tooltip, where it always fits)."""
        super().set_label(text)
        self._update_tooltip()

    def set_stats(self, text: str) -> None:
        """Say ``text`` (the statistics of the tensor for the previewed sample, or "")
        in the tooltip."""
        if text != self.stats:
            self.stats = text
            self._update_tooltip()

    def _update_tooltip(self) -> None:
        shape = f"  {self.label}" if self.label else ""
        stats = f"\n{self.stats}" if self.stats else ""
        self.setToolTip(f"{self.wire}{shape}{stats}\nclick to select, Delete to remove")

    def set_highlighted(self, value: bool) -> None:
        """Draw it in the accepting colour (a node dropped now goes into it)."""
        if value != self.highlighted:
            self.highlighted = value
            self.update()

    def update_path(self) -> None:
        """Follow the ports after a node moved, around the nodes in the way (those the
        scene's ``node_rects`` index holds near the wire)."""
        nodes = (self.src_port.parentItem(), self.dst_port.parentItem())
        source, target = (_rect(node.mapRectToScene(node.body_rect())) for node in nodes)
        start, end = self.src_port.scenePos(), self.dst_port.scenePos()
        index = getattr(self.scene(), "node_rects", None)
        others, region, previews = [], None, []
        if index is not None:
            region = wire_region(source, target)
            own = (self.wire.src, self.wire.dst)
            others = [rect for key, rect in index.near(region) if key not in own]
            previews = [rect for _, rect in self.scene().preview_rects.near(region)]
        vertical = nodes[0].vertical
        corners = routing.route(_xy(start), _xy(end), source, target, others, region, vertical)
        self.set_ends(start, end, (source, target, *others, *previews), corners, vertical)


def wire_region(source: routing.Rect, target: routing.Rect) -> routing.Rect:
    """The area whose nodes a wire between these two nodes looks at for its way."""
    return (
        min(source[0], target[0]) - ROUTE_MARGIN, min(source[1], target[1]) - ROUTE_MARGIN,
        max(source[2], target[2]) + ROUTE_MARGIN, max(source[3], target[3]) + ROUTE_MARGIN,
    )  # fmt: skip
