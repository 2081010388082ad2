"""A node's live preview: its output for one sample, drawn as a small picture by the node.

The picture (a feature-map grid, a heat strip, a matrix: ``engine.insight.render``)
is drawn to fit ``MAX_SIZE`` with its proportions kept (a thin strip is stretched to
``MIN_HEIGHT`` so that it can be seen) and without smoothing, so that each number
stays one sharp block. It sits under the node's body (beside it, to
the right, in a network drawn top to bottom, whose wires leave from the bottom).

Its tooltip says the node's output shape and statistics and shows the picture large
(``enlarge_tooltip``, called by the scene as the tooltip is asked for). The item is not a child of the node: a child is drawn above every wire (the node is),
while the preview is drawn below them, so that wires and their shape labels stay
readable where a preview lies in their way. The node item places it (``place``) when
it moves and takes it out of the scene with itself.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem

from nodeeditor.canvas import style

MAX_SIZE = (176.0, 60.0)  # fits the 73 units between rows of the examples' layouts
MIN_HEIGHT = 10.0
GAP = 5.0  # between the node's body and the preview
TIP_SIDE = 256  # pixels along the longer side of the picture in the tooltip


def fitted_size(width: int, height: int) -> tuple[float, float]:
    """The drawn size of a ``width`` x ``height`` picture (see the module docstring)."""
    if width <= 0 or height <= 0:
        return 0.0, 0.0
    scale = min(MAX_SIZE[0] / width, MAX_SIZE[1] / height)
    drawn_width, drawn_height = width * scale, height * scale
    if drawn_height < MIN_HEIGHT:
        drawn_height = MIN_HEIGHT
    return round(drawn_width), round(drawn_height)


def tooltip_html(image: QImage, text: str) -> str:
    """``text`` above the picture enlarged to about ``TIP_SIDE`` pixels on its longer
    side (by a whole factor, without smoothing: each value one sharp block)."""
    factor = max(1, TIP_SIDE // max(image.width(), image.height(), 1))
    big = image.scaled(image.width() * factor, max(image.height() * factor, 8),
                       Qt.AspectRatioMode.IgnoreAspectRatio,
                       Qt.TransformationMode.FastTransformation)  # fmt: skip
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    big.save(buffer, "PNG")
    lines = "<br>".join(html.escape(line) for line in text.splitlines())
    return f"<p>{lines}</p><img src='data:image/png;base64,{bytes(data.toBase64()).decode()}'>"


class PreviewItem(QGraphicsItem):
    """The preview picture of one node (see the module docstring).

    Attributes:
        node_id: the node it belongs to.
        text: what the tooltip says (the node's output shape and statistics).
    """

    def __init__(self, node_id: str, image: QImage, text: str = ""):
        super().__init__()
        self.node_id = node_id
        self.text = ""
        self._pixmap = QPixmap()
        self._rect = QRectF()
        self.setZValue(-0.5)  # below the wires (0) and the nodes (1)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self._enlarged = False  # the tooltip shows the picture large (made when asked)
        self.set_image(image, text)

    def set_image(self, image: QImage, text: str = "") -> None:
        """Show ``image`` (scaled to fit), with ``text`` in the tooltip."""
        width, height = fitted_size(image.width(), image.height())
        self.prepareGeometryChange()
        self._pixmap = QPixmap.fromImage(image)  # scaled while drawn, without smoothing
        self._rect = QRectF(0, 0, width, height)
        self.text = text
        self.setToolTip(text)
        self._enlarged = False
        self.update()

    def enlarge_tooltip(self) -> None:
        """Put the large picture into the tooltip (once per picture, when the tooltip
        is about to show: most pictures are never looked at closely)."""
        if not self._enlarged:
            self._enlarged = True
            self.setToolTip(tooltip_html(self._pixmap.toImage(), self.text))

    def pixmap(self) -> QPixmap:
        """The picture, at one pixel per value."""
        return self._pixmap

    def size(self) -> tuple[float, float]:
        """The drawn width and height."""
        return self._rect.width(), self._rect.height()

    def place(self, body: QRectF, vertical: bool) -> None:
        """Sit under ``body`` (the node's body in scene coordinates), centred, or to
        its right when the network is drawn top to bottom."""
        width, height = self.size()
        if vertical:
            self.setPos(QPointF(body.right() + GAP, body.center().y() - height / 2))
        else:
            self.setPos(QPointF(body.center().x() - width / 2, body.bottom() + GAP))

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if option.levelOfDetailFromTransform(painter.worldTransform()) < style.DETAIL_ZOOM / 2:
            return  # too small to read: not worth a frame
        painter.drawPixmap(self._rect, self._pixmap, QRectF(self._pixmap.rect()))
        scene = self.scene()
        theme = scene.theme if scene is not None else style.current_theme()
        painter.setPen(QPen(theme.background.darker(160), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._rect)
