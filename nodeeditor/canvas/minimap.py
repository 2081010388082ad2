"""The minimap: a small overview of a large network in a corner of the view.

It draws each node as a dot-sized rectangle in its family colour and the part of the
network the view shows as a frame; clicking or dragging on it centres the view there.
It shows itself only when the network does not fit in the view.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
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
        self._world = QRectF()

    def place(self) -> None:
        """Keep to the bottom-right corner of the view's viewport."""
        viewport = self.view.viewport().geometry()
        self.move(
            viewport.right() - self.width() - MARGIN, viewport.bottom() - self.height() - MARGIN
        )

    def refresh(self) -> None:
        """Show or hide (the network fits in the view or not) and repaint."""
        scene = self.view.scene()
        items = scene.itemsBoundingRect() if scene and scene.node_items() else QRectF()
        visible = self.view.visible_scene_rect()
        needed = not items.isEmpty() and not visible.contains(items)
        self.setVisible(needed)
        if needed:
            self.place()
            self.update()

    def _transform(self) -> tuple[QRectF, float, QPointF]:
        """The scene area shown, the scale and the offset that centres it."""
        world = self.view.scene().itemsBoundingRect().united(self.view.visible_scene_rect())
        world = world.adjusted(-40, -40, 40, 40)
        scale = min(self.width() / world.width(), self.height() / world.height())
        offset = QPointF(
            (self.width() - world.width() * scale) / 2, (self.height() - world.height() * scale) / 2
        )
        return world, scale, offset

    def to_scene(self, point: QPointF) -> QPointF:
        """The scene point under a point of the minimap."""
        world, scale, offset = self._transform()
        return QPointF(
            world.left() + (point.x() - offset.x()) / scale,
            world.top() + (point.y() - offset.y()) / scale,
        )

    def paintEvent(self, event):
        scene = self.view.scene()
        theme = scene.theme
        painter = QPainter(self)
        background = QColor(theme.background)
        background.setAlpha(225)
        painter.fillRect(self.rect(), background)
        painter.setPen(QPen(theme.dim_text, 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        world, scale, offset = self._transform()

        def mapped(rect: QRectF) -> QRectF:
            return QRectF(
                offset.x() + (rect.left() - world.left()) * scale,
                offset.y() + (rect.top() - world.top()) * scale,
                max(2.0, rect.width() * scale),
                max(2.0, rect.height() * scale),
            )

        painter.setPen(Qt.PenStyle.NoPen)
        for item in scene.node_items():
            painter.setBrush(theme.header(item.family))
            painter.drawRect(mapped(item.mapRectToScene(item.body_rect())))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.selection, 1.5))
        painter.drawRect(mapped(self.view.visible_scene_rect()))
        painter.end()

    def mousePressEvent(self, event):
        self.view.centerOn(self.to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event):
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.to_scene(event.position()))
        event.accept()
