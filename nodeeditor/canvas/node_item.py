"""A node on the canvas: a rounded rectangle coloured by the layer's family.

It shows the type and id in its title bar, the key settings (``LayerSpec.describe``),
the output shape and the parameter count from the document's analysis, a red or amber
mark when the analysis has an error or a warning about it (messages in the tooltip),
and a snowflake when its weights are frozen. Input ports are on the left, outputs on
the right; in a network drawn top to bottom (``vertical``) inputs are spread along the
top edge and outputs along the bottom, their names outside the node beside them, and a
node with many inputs is made wider so that they stay apart. The item only draws: the
scene updates it from the network's events.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from engine.layers.rules import fmt
from engine.network import Node
from nodeeditor.canvas import style
from nodeeditor.canvas.port_item import PortItem
from nodeeditor.canvas.preview_item import PreviewItem

TEXT_LINES = 3
TITLE_LEFT = 6.0  # the header's text starts here and ends as far from the right edge
MARK_ROOM = 20.0  # room kept at the right of the header for the error or warning mark
TITLE_SIZES = (8.5, 8.0, 7.5, 7.0)  # a long type name takes a smaller font before it is cut
ID_SIZES = (7.5, 7.0)
TITLE_GAP = 5.0
MIN_ID = 28.0  # the id keeps at least this much room when it has to be shortened
PORT_GAP = 30.0  # the least distance between ports along a top or bottom edge
LABEL_ROOM = 16.0  # room above and below a vertical node for its ports' names


def port_position(
    index: int, count: int, is_output: bool, size: tuple[float, float], vertical: bool
) -> tuple[float, float]:
    """Where port ``index`` of ``count`` on one side sits in a node of ``size``: down
    the left (inputs) or right (outputs) edge, or spread evenly along the top (inputs)
    or bottom (outputs) edge when ``vertical``."""
    width, height = size
    if vertical:
        return width * (index + 1) / (count + 1), (height if is_output else 0.0)
    return (width if is_output else 0.0), style.HEADER_HEIGHT + 14 + index * style.PORT_SPACING


def spread_width(ports: int) -> float:
    """The width a vertical node needs for ``ports`` ports on its busier edge."""
    return max(style.NODE_WIDTH, (ports + 1) * PORT_GAP)


@lru_cache(maxsize=1024)
def header_texts(type_name: str, node_id: str, marked: bool) -> tuple[str, float, str, float]:
    """``(title, its font size, id, its font size)`` as they fit side by side in a
    node's header: the largest sizes that hold both, else the type name beside an id
    cut with "…" (the tooltip has both in full)."""
    room = style.NODE_WIDTH - TITLE_LEFT - (MARK_ROOM if marked else TITLE_LEFT)
    for size in TITLE_SIZES:
        for id_size in ID_SIZES:
            if _width(type_name, size, True) + TITLE_GAP + _width(node_id, id_size) <= room:
                return type_name, size, node_id, id_size
    fits = [s for s in TITLE_SIZES if _width(type_name, s, True) + TITLE_GAP + MIN_ID <= room]
    size, id_size = (fits[0] if fits else TITLE_SIZES[-1]), ID_SIZES[-1]
    id_room = max(room - TITLE_GAP - _width(type_name, size, True), MIN_ID)
    shown_id = _elide(node_id, id_size, False, id_room)
    title_room = room - TITLE_GAP - _width(shown_id, id_size)
    return _elide(type_name, size, True, title_room), size, shown_id, id_size


def _width(text: str, size: float, bold: bool = False) -> float:
    return QFontMetricsF(style.font(size, bold)).horizontalAdvance(text)


def _elide(text: str, size: float, bold: bool, width: float) -> str:
    metrics = QFontMetricsF(style.font(size, bold))
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)


class NodeItem(QGraphicsItem):
    """The drawing of one network node.

    Attributes:
        node_id: the engine node's id.
        mark: ``"error"``, ``"warning"`` or None, from the latest analysis.
        inputs / outputs: PortItems by port name.
    """

    def __init__(self, node: Node, vertical: bool = False):
        super().__init__()
        self.vertical = vertical  # ports on the top and bottom edges
        self._width = style.NODE_WIDTH
        self.node_id = node.id
        self.mark: str | None = None
        self.messages: list[str] = []
        self.shape_text = ""
        self.params_text = ""
        self.heat: tuple[float | None, str] | None = None  # coloured by gradient: set_heat
        self.preview: PreviewItem | None = None  # its output for one sample: set_preview
        self.inputs: dict[str, PortItem] = {}
        self.outputs: dict[str, PortItem] = {}
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsMovable | flags.ItemIsSelectable | flags.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.set_node(node)
        self.setPos(QPointF(*node.pos))

    # ----------------------------------------------------------------- state
    def set_node(self, node: Node) -> None:
        """Take the node's type, id, settings, ports and frozen state."""
        self.prepareGeometryChange()
        self.node_id = node.id
        self.type_name = node.type
        self.family = node.spec.family
        try:
            self.describe = node.spec.describe(node.params)
        except Exception:  # a summary that fails on odd params must not break the canvas
            self.describe = ""
        self.trainable = node.trainable
        n_in, n_out = len(node.input_ports()), len(node.output_ports())
        self._width = self._compute_width(n_in, n_out)
        self._height = self._compute_height(*((0, 0) if self.vertical else (n_in, n_out)))
        self._bounds = QRectF(-2, -9, self._width + 4, self._height + 11)
        if self.vertical:  # the ports' names outside, above and below
            self._bounds.adjust(0, -LABEL_ROOM, 0, LABEL_ROOM)
        self._sync_ports(self.inputs, node.input_ports(), False)
        self._sync_ports(self.outputs, node.output_ports(), True)
        self._update_tooltip()
        self._place_preview()
        self.update()

    def set_vertical(self, node: Node, vertical: bool) -> None:
        """Put the ports on the top and bottom edges (or back on the sides)."""
        if vertical != self.vertical:
            self.vertical = vertical
            self.set_node(node)

    def _compute_width(self, n_in: int, n_out: int) -> float:
        return spread_width(max(n_in, n_out)) if self.vertical else style.NODE_WIDTH

    def set_analysis(self, shape, params: int | None, diagnostics) -> bool:
        """Show an analysis result; returns True when something visible changed."""
        shape_text = fmt(shape) if shape is not None else ""
        params_text = f"{params:,} params" if params else ""
        errors = [d.message for d in diagnostics if d.severity == "error"]
        mark = "error" if errors else ("warning" if diagnostics else None)
        messages = [d.message for d in diagnostics]
        state = (shape_text, params_text, mark, messages)
        if state == (self.shape_text, self.params_text, self.mark, self.messages):
            return False
        self.shape_text, self.params_text, self.mark, self.messages = state
        self._update_tooltip()
        self.update()
        return True

    def set_heat(self, heat: tuple[float | None, str] | None) -> None:
        """Fill the body by gradient size: ``(level 0..1, text)``, ``(None, "")`` for
        a node without weights, or None for the family colour again."""
        if heat != self.heat:
            self.heat = heat
            self._update_tooltip()
            self.update()

    def set_preview(self, image, text: str = "") -> None:
        """Show ``image`` (a QImage of the node's output) by the node, with ``text`` in
        its tooltip; None: no preview."""
        if image is None:
            if self.preview is not None:
                if self.preview.scene() is not None:
                    self.preview.scene().removeItem(self.preview)
                self.preview = None
                self._place_preview()
            return
        if self.preview is None:
            self.preview = PreviewItem(self.node_id, image, text)
            if self.scene() is not None:
                self.scene().addItem(self.preview)
        else:
            self.preview.set_image(image, text)
        self._place_preview()

    def _place_preview(self) -> None:
        if self.preview is not None:
            self.preview.node_id = self.node_id
            self.preview.place(self.mapRectToScene(self.body_rect()), self.vertical)
        scene = self.scene()
        if scene is not None and hasattr(scene, "track_preview"):
            scene.track_preview(self)

    def fill(self, theme, default):
        """The body's fill: the gradient colour while nodes are coloured by it."""
        return default if self.heat is None else style.heat(self.heat[0], theme.dark)

    def heat_line(self) -> list[str]:
        """The tooltip's line about the gradient, if nodes are coloured by it."""
        if self.heat is None:
            return []
        return [f"gradient norm {self.heat[1]} (last epoch)" if self.heat[1] else "no weights"]

    def _update_tooltip(self) -> None:
        lines = [f"{self.node_id} ({self.type_name})", *self.messages, *self.heat_line()]
        if not self.trainable:
            lines.append("frozen: training does not change its weights")
        self.setToolTip("\n".join(lines))

    def _sync_ports(self, ports: dict, names, is_output: bool) -> None:
        names = list(names)
        for name in [n for n in ports if n not in names]:
            item = ports.pop(name)
            item.setParentItem(None)
            if item.scene():
                item.scene().removeItem(item)
        for index, name in enumerate(names):
            if name not in ports:
                ports[name] = PortItem(self, name, is_output)
            ports[name].label = name if len(names) > 1 else ""
            size = (self._width, self._height)
            ports[name].setPos(*port_position(index, len(names), is_output, size, self.vertical))

    @staticmethod
    def _compute_height(n_in: int, n_out: int) -> float:
        ports = max(n_in, n_out, 1) * style.PORT_SPACING + 10
        return style.HEADER_HEIGHT + max(ports, TEXT_LINES * style.LINE_HEIGHT + 10)

    def ports(self) -> list[PortItem]:
        """All the port items."""
        return [*self.inputs.values(), *self.outputs.values()]

    # ----------------------------------------------------------------- Qt
    def boundingRect(self) -> QRectF:
        return self._bounds

    def body_rect(self) -> QRectF:
        """The rounded rectangle, in item coordinates."""
        return QRectF(0, 0, self._width, self._height)

    def itemChange(self, change, value):
        changes = QGraphicsItem.GraphicsItemChange
        if change == changes.ItemPositionHasChanged:
            self._place_preview()
            if self.scene():
                self.scene().node_item_moved(self)
        elif change == changes.ItemSceneChange and self.preview is not None:
            if self.preview.scene() is not None:  # the preview leaves with the node
                self.preview.scene().removeItem(self.preview)
            if value is not None:
                value.addItem(self.preview)
        return super().itemChange(change, value)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scene = self.scene()
        theme = scene.theme if scene else style.current_theme()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = self.body_rect()
        path = QPainterPath()
        path.addRoundedRect(rect, style.CORNER, style.CORNER)
        outline = theme.selection if self.isSelected() else theme.background.darker(150)
        painter.setPen(QPen(outline, 2.2 if self.isSelected() else 1.0))
        painter.setBrush(QBrush(self.fill(theme, theme.body(self.family))))
        painter.drawPath(path)
        if option.levelOfDetailFromTransform(painter.worldTransform()) < style.DETAIL_ZOOM:
            self._paint_overview(painter, theme)
        else:
            self._paint_header(painter, theme)
            self._paint_lines(painter, theme)
            self._paint_port_labels(painter, theme)
            self._paint_marks(painter, theme)
        if scene is not None and scene.locked:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.locked)
            painter.drawPath(path)

    def _paint_overview(self, painter: QPainter, theme) -> None:
        """Zoomed far out: the family colour and the mark, no text."""
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.header(self.family))
        painter.drawRect(QRectF(0, 0, self._width, style.HEADER_HEIGHT))
        if self.mark:
            painter.setBrush(theme.error if self.mark == "error" else theme.warning)
            painter.drawEllipse(QPointF(self._width - 14, 14), 14, 14)

    def _paint_header(self, painter: QPainter, theme) -> None:
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, self._width, style.HEADER_HEIGHT), 7, 7)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.header(self.family))
        painter.drawPath(header)
        title, size, node_id, id_size = header_texts(self.type_name, self.node_id, bool(self.mark))
        right = self._width - (MARK_ROOM if self.mark else TITLE_LEFT)
        painter.setPen(theme.text)
        painter.setFont(style.font(size, bold=True))
        area = QRectF(TITLE_LEFT, 0, right - TITLE_LEFT, style.HEADER_HEIGHT)
        painter.drawText(area, Qt.AlignmentFlag.AlignVCenter, title)
        painter.setFont(style.font(id_size))
        painter.setPen(theme.dim_text)
        painter.drawText(area, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, node_id)

    def _text_margins(self) -> tuple[float, float]:
        """Room kept left and right of the text lines for the side ports' names."""
        if self.vertical:
            return 12.0, 12.0
        left = 34.0 if any(p.label for p in self.inputs.values()) else 12.0
        return left, 30.0 if any(p.label for p in self.outputs.values()) else 12.0

    def _paint_lines(self, painter: QPainter, theme) -> None:
        left, right = self._text_margins()
        width = self._width - left - right
        painter.setFont(style.font(8))
        y = style.HEADER_HEIGHT + 4
        describe = self.describe
        if self.type_name == "Input" and not describe.startswith(self.shape_text):
            describe = ""  # inside an entered block: the shape that arrives, not the example
        shape = "" if self.shape_text == describe else self.shape_text  # an Input
        for text, color in (
            (describe, theme.text),
            (shape, theme.text),
            (self.params_text, theme.dim_text),
        ):
            if text:
                painter.setPen(color)
                painter.drawText(
                    QRectF(left, y, width, style.LINE_HEIGHT), Qt.AlignmentFlag.AlignLeft, text
                )
                y += style.LINE_HEIGHT
        self._paint_heat_text(painter, theme, QRectF(left, y - style.LINE_HEIGHT, width, 15))

    def _paint_heat_text(self, painter: QPainter, theme, rect: QRectF) -> None:
        """The gradient norm, right-aligned on the last line, while coloured by it."""
        if self.heat is not None and self.heat[1]:
            painter.setPen(theme.text)
            painter.setFont(style.font(8, bold=True))
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight, f"∇ {self.heat[1]}")

    def _paint_port_labels(self, painter: QPainter, theme) -> None:
        painter.setFont(style.font(7))
        painter.setPen(theme.dim_text)
        for port in self.ports():
            if not port.label:
                continue
            if self.vertical:  # outside, right of the port: above inputs, below outputs
                x, y = port.pos().x(), port.pos().y()
                rect = QRectF(x + 6, y + 1 if port.is_output else y - 15, PORT_GAP - 8, 14)
                painter.drawText(rect, Qt.AlignmentFlag.AlignLeft, port.label)
                continue
            y = port.pos().y() - 7
            if port.is_output:
                rect = QRectF(self._width - 40, y, 32, 14)
                painter.drawText(rect, Qt.AlignmentFlag.AlignRight, port.label)
            else:
                painter.drawText(QRectF(9, y, 32, 14), Qt.AlignmentFlag.AlignLeft, port.label)

    def _paint_marks(self, painter: QPainter, theme) -> None:
        x = self._width - 10
        if self.mark:
            color = theme.error if self.mark == "error" else theme.warning
            painter.setPen(QPen(theme.background, 1.5))
            painter.setBrush(color)
            painter.drawEllipse(QPointF(x, 0), 8, 8)
            painter.setPen(QPen(Qt.GlobalColor.white))
            painter.setFont(style.font(9, bold=True))
            painter.drawText(QRectF(x - 8, -8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!")
        if not self.trainable:
            painter.setPen(theme.text)
            painter.setFont(style.font(10))
            rect = QRectF(self._width - 24, self._height - 18, 18, 16)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "❄")
