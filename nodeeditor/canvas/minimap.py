"""The minimap: a small overview of a large network in a corner of the view.

It draws each node as a small rectangle in its family colour and the part of the
network the view shows as a frame; clicking or dragging on it centres the view there.
It shows itself only when the network does not fit in the view. The nodes are drawn
once into a pixmap, redrawn only when nodes are added, removed or moved (not on every
frame of a drag), so that it costs nothing while editing.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

SIZE = (190, 130)
MARGIN = 10


class Minimap(QWidget):
    """An overview drawn over the bottom-right corner of ``view``."""

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._nodes_rect = QRectF()
        self._world = QRectF()
        self._pixmap: QPixmap | None = None
        view.scene().layout_changed.connect(self.nodes_changed)
        self.hide()

    def nodes_changed(self) -> None:
        """Nodes were added, removed or moved: redraw them on the next refresh."""
        scene = self.view.scene()
        if scene is None:  # the view is being torn down
            return
        self._nodes_rect = scene.nodes_rect()
        self._pixmap = None
        self.refresh()

    def refresh(self) -> None:
        """Show or hide (the network fits in the view or not) and repaint."""
        visible = self.view.visible_scene_rect()
        needed = not self._nodes_rect.isEmpty() and not visible.contains(self._nodes_rect)
        self.setVisible(needed)
        if needed:
            viewport = self.view.viewport().geometry()
            self.move(
                viewport.right() - self.width() - MARGIN,
                viewport.bottom() - self.height() - MARGIN,
            )
            world = self._nodes_rect.united(visible).adjusted(-40, -40, 40, 40)
            if world != self._world:
                self._world, self._pixmap = world, None
            self.update()

    def _scale(self) -> tuple[float, QPointF]:
        """The scale and the offset that centre ``_world`` in the widget."""
        world = self._world
        scale = min(self.width() / world.width(), self.height() / world.height())
        offset = QPointF(
            (self.width() - world.width() * scale) / 2,
            (self.height() - world.height() * scale) / 2,
        )
        return scale, offset

    def _map(self, rect: QRectF) -> QRectF:
        scale, offset = self._scale()
        return QRectF(
            offset.x() + (rect.left() - self._world.left()) * scale,
            offset.y() + (rect.top() - self._world.top()) * scale,
            max(2.0, rect.width() * scale),
            max(2.0, rect.height() * scale),
        )

    def to_scene(self, point: QPointF) -> QPointF:
        """The scene point under a point of the minimap."""
        scale, offset = self._scale()
        return QPointF(
            self._world.left() + (point.x() - offset.x()) / scale,
            self._world.top() + (point.y() - offset.y()) / scale,
        )

    def _draw_nodes(self) -> QPixmap:
        scene = self.view.scene()
        theme = scene.theme
        pixmap = QPixmap(self.size())
        background = QColor(theme.background)
        background.setAlpha(225)
        pixmap.fill(background)
        painter = QPainter(pixmap)
        painter.setPen(Qt.PenStyle.NoPen)
        for item in scene.node_items():
            painter.setBrush(theme.header(item.family))
            painter.drawRect(self._map(item.sceneBoundingRect()))
        painter.setPen(QPen(theme.dim_text, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(pixmap.rect().adjusted(0, 0, -1, -1))
        painter.end()
        return pixmap

    def paintEvent(self, event):
        if self._world.isEmpty() or self.view.scene() is None:
            return
        if self._pixmap is None:
            self._pixmap = self._draw_nodes()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        painter.setPen(QPen(self.view.scene().theme.selection, 1.5))
        painter.drawRect(self._map(self.view.visible_scene_rect()))
        painter.end()

    def mousePressEvent(self, event):
        self.view.centerOn(self.to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.to_scene(event.position()))
        event.accept()
