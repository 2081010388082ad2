"""A block instance on the canvas: a node that looks like a stack of cards.

Collapsed, it is a node of the usual size with a card showing behind it and a double
border: its type name and id in the header, its exposed parameters, its output shape
and its parameter count with the number of layers inside, and the error mark when its
inside has an error (the analysis puts that on the instance). Its ports are its
inside's Input and Output nodes (named when there are several).

Expanded (``node.expanded``), it grows into a frame that shows its inside read-only: a
miniature of the inner nodes and wires at their inner positions, scaled down. The
small triangle at the left of the header switches between the two (one undo step);
a double-click enters the block (nodeeditor.block_nav). Its ports follow the direction
of the network holding it (as a node's do), and the miniature's wires that of the
inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from engine.network import Network, Node
from nodeeditor.canvas import style
from nodeeditor.canvas.node_item import LABEL_ROOM, NodeItem, port_position, spread_width

STACK = 4.0  # how far the card behind shows
TOGGLE = QRectF(3, 3, 16, 16)  # the expand/collapse triangle, in item coordinates
TITLE_LEFT = 21.0
MARK_ROOM = 20.0
MINI_SCALE = 0.42  # a miniature is never drawn larger than this
MINI_MAX = (640.0, 360.0)  # nor wider or taller than this
PAD = 26.0  # room beside the miniature for the ports and their names
MINI_TOP = 16.0  # room above the miniature (under the header) for arcs over its nodes
MINI_TEXT = 6.5  # point size of the names in the miniature


def make_node_item(node: Node, network: Network) -> NodeItem:
    """The canvas item of ``node``: a BlockItem for a block instance."""
    if node.is_block:
        return BlockItem(node, network)
    return NodeItem(node, vertical=network is not None and network.direction == "TB")


def block_colors(theme) -> tuple[QColor, QColor]:
    """``(body, header)`` fills of a block: a quiet slate, so that its shape, not a
    loud colour, says it is a block."""
    if theme.dark:
        return QColor.fromHsl(218, 38, 66), QColor.fromHsl(218, 60, 96)
    return QColor.fromHsl(218, 45, 236), QColor.fromHsl(218, 70, 210)


def node_height(node: Node) -> float:
    """The height a plain node item gives ``node``."""
    try:
        ins, outs = len(node.input_ports()), len(node.output_ports())
    except Exception:  # an unknown type in a broken inside: drawn with one port
        ins = outs = 1
    return NodeItem._compute_height(ins, outs)


@dataclass
class Miniature:
    """The inside of a block drawn small: boxes and wires already scaled.

    Attributes:
        width / height: the size of the drawing.
        boxes: ``(rect, family, id, is a block)`` per inner node (ids are short and
            name the inner modules: ``conv1``, ``bn1``, ``downsample``).
        wires: ``(start, end)`` points per inner wire.
    """

    width: float = 0.0
    height: float = 0.0
    boxes: list = field(default_factory=list)
    wires: list = field(default_factory=list)
    vertical: bool = False  # the inside is drawn top to bottom


def miniature(network: Network) -> Miniature:
    """The miniature of ``network`` (a block type's inside), at most MINI_MAX large."""
    nodes = network.nodes
    if not nodes:
        return Miniature(style.NODE_WIDTH * MINI_SCALE, 30.0)
    heights = {n.id: node_height(n) for n in nodes}
    left = min(n.pos[0] for n in nodes)
    top = min(n.pos[1] for n in nodes)
    right = max(n.pos[0] for n in nodes) + style.NODE_WIDTH
    bottom = max(n.pos[1] + heights[n.id] for n in nodes)
    scale = min(MINI_SCALE, MINI_MAX[0] / (right - left), MINI_MAX[1] / (bottom - top))

    def point(x: float, y: float) -> QPointF:
        return QPointF((x - left) * scale, (y - top) * scale)

    mini = Miniature((right - left) * scale, (bottom - top) * scale)
    vertical = network.direction == "TB"
    for n in nodes:
        corner = point(*n.pos)
        size = (style.NODE_WIDTH * scale, heights[n.id] * scale)
        family = _family(n)
        mini.boxes.append((QRectF(corner.x(), corner.y(), *size), family, n.id, n.is_block))
    ports = {n.id: (_ports(n, False), _ports(n, True)) for n in nodes}
    for w in network.wires:
        src, dst = network.node(w.src), network.node(w.dst)
        out_index = ports[w.src][1].index(w.src_port) if w.src_port in ports[w.src][1] else 0
        in_index = ports[w.dst][0].index(w.dst_port) if w.dst_port in ports[w.dst][0] else 0
        outs, ins = len(ports[w.src][1]), len(ports[w.dst][0])
        src_size, dst_size = (style.NODE_WIDTH, heights[w.src]), (style.NODE_WIDTH, heights[w.dst])
        sx, sy = port_position(out_index, outs, True, src_size, vertical)
        ex, ey = port_position(in_index, ins, False, dst_size, vertical)
        start = point(src.pos[0] + sx, src.pos[1] + sy)
        end = point(dst.pos[0] + ex, dst.pos[1] + ey)
        mini.wires.append((start, end))
    mini.vertical = vertical
    return mini


def mini_wire(start: QPointF, end: QPointF, boxes, vertical: bool = False) -> QPainterPath:
    """A wire of a miniature: a curve, or an arc over the boxes it would run through
    (a skip connection stays visible beside the path it skips); out of the bottom and
    in from the top, the arc right of the boxes, when ``vertical``."""
    path = QPainterPath(start)
    span = QRectF(start, end).normalized().adjusted(1, -1, -1, 1)
    if vertical:
        span = QRectF(start, end).normalized().adjusted(-1, 1, 1, -1)
    hidden = [box for box, *_ in boxes if box.intersects(span)]
    if vertical:
        if not hidden:
            bend = QPointF(0, max(abs(end.y() - start.y()) * 0.5, 12.0))
            path.cubicTo(start + bend, end - bend, end)
            return path
        right = max(box.right() for box in hidden) + 9
        lift = QPointF(right - max(start.x(), end.x()), 0)
        reach = QPointF(0, max(abs(end.y() - start.y()) * 0.06, 6.0))
        path.cubicTo(start + reach + lift * 1.33, end - reach + lift * 1.33, end)
        return path
    if not hidden:
        bend = max(abs(end.x() - start.x()) * 0.5, 12.0)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        return path
    top = min(box.top() for box in hidden) - 9
    lift = QPointF(0, top - min(start.y(), end.y()))
    reach = QPointF(max(abs(end.x() - start.x()) * 0.06, 6.0), 0)
    path.cubicTo(start + reach + lift * 1.33, end - reach + lift * 1.33, end)
    return path


def frame_width(mini: Miniature | None) -> float:
    """A block item's width: a node's, or room for its miniature when open."""
    return max(style.NODE_WIDTH, mini.width + 2 * PAD) if mini else style.NODE_WIDTH


def frame_height(mini: Miniature | None, ports: int) -> float:
    """A block item's height for ``ports`` ports on its busier side."""
    room = max(ports, 1) * style.PORT_SPACING + 10
    if mini is None:
        return style.HEADER_HEIGHT + max(room, 3 * style.LINE_HEIGHT + 10)
    return style.HEADER_HEIGHT + max(room, MINI_TOP + mini.height + style.LINE_HEIGHT + 12)


def block_size(node: Node, expanded: bool) -> tuple[float, float]:
    """The size of ``node``'s block item, open or closed."""
    mini = miniature(node.spec.block_type.network) if expanded else None
    return frame_width(mini), frame_height(
        mini, max(len(node.input_ports()), len(node.output_ports()))
    )


def item_size(node: Node) -> tuple[float, float]:
    """The size of ``node``'s item on the canvas, block or not."""
    if node.is_block:
        return block_size(node, node.expanded)
    return style.NODE_WIDTH, node_height(node)


def _family(node: Node) -> str:
    try:
        return node.spec.family
    except Exception:
        return ""


def _ports(node: Node, outputs: bool) -> tuple[str, ...]:
    try:
        return node.output_ports() if outputs else node.input_ports()
    except Exception:
        return ()


def _elided(text: str, size: float, bold: bool, width: float) -> str:
    metrics = QFontMetricsF(style.font(size, bold))
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(width, 0.0))


class BlockItem(NodeItem):
    """The drawing of one block instance (see the module docstring).

    Attributes:
        expanded: drawn open, with the miniature of its inside.
        layer_count: the inner nodes that are not its Inputs and Outputs.
    """

    def __init__(self, node: Node, network: Network):
        self.network = network  # the network holding the instance (for its wires)
        vertical = network is not None and network.direction == "TB"
        self.expanded = False
        self.layer_count = 0
        self.mini: Miniature | None = None
        self._width = style.NODE_WIDTH
        self._names: dict[bool, list[str]] = {False: [], True: []}  # ports shown, by side
        super().__init__(node, vertical)

    # ----------------------------------------------------------------- state
    def set_node(self, node: Node) -> None:
        """Take the instance's state and its type's inside (ports, miniature)."""
        inside = node.spec.block_type.network if node.is_block else None
        self.expanded = bool(node.expanded and inside is not None)
        self.layer_count = (
            sum(1 for n in inside.nodes if n.type not in ("Input", "Output")) if inside else 0
        )
        self.mini = miniature(inside) if self.expanded else None
        self._names = {side: self._port_names(node, side) for side in (False, True)}
        self.prepareGeometryChange()
        super().set_node(node)
        self._bounds = QRectF(-2, -9, self._width + 4 + STACK, self._height + 11 + STACK)
        if self.vertical:  # the ports' names outside, above and below
            self._bounds.adjust(0, -LABEL_ROOM, 0, LABEL_ROOM)
        self.setZValue(1.5 if self.expanded else 1)  # open, it covers its neighbours

    def _port_names(self, node: Node, is_output: bool) -> list[str]:
        """The type's ports on one side, then those it no longer has where a wire of
        the network still ends (an undo may bring the port back)."""
        names = list(_ports(node, is_output))
        if self.network is not None and node.id in self.network:
            for wire in self.network.wires_of(node.id):
                end, port = (wire.src, wire.src_port) if is_output else (wire.dst, wire.dst_port)
                if end == node.id and port not in names:
                    names.append(port)
        return names

    def _compute_width(self, n_in: int, n_out: int) -> float:
        if not self.vertical:
            return frame_width(self.mini)
        kept = max(len(names) for names in self._names.values())
        return max(frame_width(self.mini), spread_width(max(n_in, n_out, kept)))

    def _compute_height(self, n_in: int, n_out: int) -> float:
        if self.vertical:
            return frame_height(self.mini, 0)
        kept = max(len(names) for names in self._names.values())
        return frame_height(self.mini, max(n_in, n_out, kept))

    def _sync_ports(self, ports: dict, names, is_output: bool) -> None:
        """Like a node's, with the ports a wire still ends on as well."""
        super()._sync_ports(ports, self._names[is_output], is_output)

    def _update_tooltip(self) -> None:
        what = "shown open" if self.expanded else "collapsed"
        lines = [
            f"{self.node_id} ({self.type_name}): a block of {self.layer_count} layers, {what}",
            "Double-click to enter it; the triangle opens or closes it here",
            *self.messages,
            *self.heat_line(),
        ]
        if not self.trainable:
            lines.append("frozen: training does not change its weights")
        self.setToolTip("\n".join(lines))

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, self._width, self._height)

    # ----------------------------------------------------------------- mouse
    def mousePressEvent(self, event):
        scene = self.scene()
        if (
            event.button() == Qt.MouseButton.LeftButton
            and TOGGLE.contains(event.pos())
            and scene is not None
        ):
            from nodeeditor.block_actions import set_expanded

            event.accept()
            set_expanded(scene, [self.node_id], not self.expanded)
            return
        super().mousePressEvent(event)

    # ----------------------------------------------------------------- paint
    def paint(self, painter: QPainter, option, widget=None) -> None:
        scene = self.scene()
        theme = scene.theme if scene else style.current_theme()
        body, header = block_colors(theme)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = self.body_rect()
        outline = theme.background.darker(150) if not theme.dark else QColor(12, 13, 16)
        painter.setPen(QPen(outline, 1.0))
        painter.setBrush(body.darker(112) if not theme.dark else body.darker(130))
        painter.drawRoundedRect(rect.translated(STACK, STACK), style.CORNER, style.CORNER)
        path = QPainterPath()
        path.addRoundedRect(rect, style.CORNER, style.CORNER)
        selected = self.isSelected()
        painter.setPen(QPen(theme.selection if selected else outline, 2.2 if selected else 1.0))
        painter.setBrush(QBrush(self.fill(theme, body)))
        painter.drawPath(path)
        detailed = option.levelOfDetailFromTransform(painter.worldTransform()) >= style.DETAIL_ZOOM
        self._paint_head(painter, theme, header, detailed)
        if detailed:
            inner = rect.adjusted(3, 3, -3, -3)
            painter.setPen(QPen(header.darker(125), 1.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(inner, style.CORNER - 2, style.CORNER - 2)
            self._paint_toggle(painter, theme)
            if self.mini is not None:
                self._paint_miniature(painter, theme)
            self._paint_block_lines(painter, theme)
            self._paint_port_labels(painter, theme)
        self._paint_block_marks(painter, theme, detailed)
        if scene is not None and scene.locked:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.locked)
            painter.drawPath(path)

    def _paint_head(self, painter: QPainter, theme, header: QColor, detailed: bool) -> None:
        head = QPainterPath()
        head.addRoundedRect(QRectF(0, 0, self._width, style.HEADER_HEIGHT), 7, 7)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(header)
        painter.drawPath(head)
        if not detailed:
            return
        right = self._width - (MARK_ROOM if self.mark else 6.0)
        room = right - TITLE_LEFT
        id_width = min(QFontMetricsF(style.font(7.5)).horizontalAdvance(self.node_id), room * 0.45)
        title = _elided(self.type_name, 8.5, True, room - id_width - 6)
        area = QRectF(TITLE_LEFT, 0, room, style.HEADER_HEIGHT)
        painter.setPen(theme.text)
        painter.setFont(style.font(8.5, bold=True))
        painter.drawText(area, Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(style.font(7.5))
        painter.setPen(theme.dim_text)
        shown_id = _elided(self.node_id, 7.5, False, id_width)
        painter.drawText(
            area, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, shown_id
        )

    def _paint_toggle(self, painter: QPainter, theme) -> None:
        c = TOGGLE.center()
        if self.expanded:  # pointing down: open
            points = [QPointF(c.x() - 4, c.y() - 2), QPointF(c.x() + 4, c.y() - 2),
                      QPointF(c.x(), c.y() + 3)]  # fmt: skip
        else:  # pointing right: closed
            points = [QPointF(c.x() - 2, c.y() - 4), QPointF(c.x() - 2, c.y() + 4),
                      QPointF(c.x() + 3, c.y())]  # fmt: skip
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.text)
        painter.drawPolygon(points)

    def _lines(self) -> list[tuple[str, QColor]]:
        layers = f"{self.layer_count} layer{'s' * (self.layer_count != 1)}"
        count = f"{self.params_text} · {layers}" if self.params_text else layers
        if self.mini is not None:  # open: one line under the miniature
            return [(" · ".join(t for t in (self.shape_text, count) if t), "dim")]
        return [(self.describe, "text"), (self.shape_text, "text"), (count, "dim")]

    def _paint_block_lines(self, painter: QPainter, theme) -> None:
        left, right = self._text_margins()
        width = self._width - left - right
        painter.setFont(style.font(8))
        y = style.HEADER_HEIGHT + 4
        if self.mini is not None:
            y = self._height - style.LINE_HEIGHT - 7
        for text, role in self._lines():
            if text:
                painter.setPen(theme.text if role == "text" else theme.dim_text)
                shown = _elided(text, 8, False, width)
                painter.drawText(
                    QRectF(left, y, width, style.LINE_HEIGHT), Qt.AlignmentFlag.AlignLeft, shown
                )
                y += style.LINE_HEIGHT

    def _paint_miniature(self, painter: QPainter, theme) -> None:
        mini = self.mini
        painter.save()
        painter.translate((self._width - mini.width) / 2, style.HEADER_HEIGHT + MINI_TOP)
        painter.setPen(QPen(theme.wire, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for start, end in mini.wires:
            painter.drawPath(mini_wire(start, end, mini.boxes, mini.vertical))
        body, _ = block_colors(theme)
        metrics = QFontMetricsF(style.font(MINI_TEXT))
        painter.setFont(style.font(MINI_TEXT))
        for box, family, name, is_block in mini.boxes:
            if is_block:
                painter.setPen(QPen(theme.background.darker(150), 0.8))
                painter.setBrush(body.darker(112))
                painter.drawRoundedRect(box.translated(2, 2), 3, 3)
            painter.setPen(QPen(theme.background.darker(150), 0.8))
            painter.setBrush(body if is_block else theme.body(family))
            painter.drawRoundedRect(box, 3, 3)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.header(family) if not is_block else block_colors(theme)[1])
            band = min(style.HEADER_HEIGHT * box.width() / style.NODE_WIDTH, box.height())
            painter.drawRoundedRect(QRectF(box.x(), box.y(), box.width(), band), 3, 3)
            if box.height() >= metrics.height() and box.width() > 20:
                painter.setPen(theme.text)
                text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, box.width() - 4)
                painter.drawText(box.adjusted(2, 0, -2, 0), Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_block_marks(self, painter: QPainter, theme, detailed: bool) -> None:
        x = self._width - 10
        if self.mark:
            color = theme.error if self.mark == "error" else theme.warning
            painter.setPen(QPen(theme.background, 1.5))
            painter.setBrush(color)
            radius = 8 if detailed else 14
            painter.drawEllipse(QPointF(x, 0) if detailed else QPointF(x - 4, 14), radius, radius)
            if detailed:
                painter.setPen(QPen(Qt.GlobalColor.white))
                painter.setFont(style.font(9, bold=True))
                painter.drawText(QRectF(x - 8, -8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")
        if not self.trainable and detailed:
            painter.setPen(theme.text)
            painter.setFont(style.font(10))
            rect = QRectF(self._width - 24, self._height - 18, 18, 16)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "❄")
