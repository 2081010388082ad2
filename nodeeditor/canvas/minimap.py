"""The minimap: a small overview of a large network in a corner of the view.

It draws each node as a small rectangle in its family colour and the part of the
network the view shows as a frame; clicking or dragging on it centres the view there.
It shows itself only when the network does not fit in the view, takes at most a
third of a small view (none at all when that would be too small to use), and sits in
the corner of the view where it covers the fewest nodes. The nodes are drawn
once into a pixmap, redrawn only when nodes are added, removed or moved (not on every
frame of a drag), so that it costs nothing while editing.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from nodeeditor.canvas.node_item import NodeItem

SIZE = (190, 130)
SMALLEST = (96, 64)  # below this a minimap is no use: none is shown
SHARE = 0.3  # the most of the view's width or height it takes
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
        self._pending = False
        view.scene().layout_changed.connect(self.nodes_changed)
        self.hide()

    def nodes_changed(self) -> None:
        """Nodes were added, removed or moved: redraw them once the burst of changes
        (a paste, an auto-layout) is over."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self.update_nodes)

    def update_nodes(self) -> None:
        """Take the nodes' places now and refresh."""
        self._pending = False
        scene = self.view.scene()
        if scene is None:  # the view is being torn down
            return
        self._nodes_rect = scene.nodes_rect()
        self._pixmap = None
        self.refresh()

    def refresh(self) -> None:
        """Show or hide (the network fits in the view or not) and repaint."""
        if self.view.scene() is None:  # the view is being torn down
            return
        visible = self.view.visible_scene_rect()
        needed = not self._nodes_rect.isEmpty() and not visible.contains(self._nodes_rect)
        needed = needed and self._place()
        self.setVisible(needed)
        if needed:
            world = self._nodes_rect.united(visible).adjusted(-40, -40, 40, 40)
            if world != self._world:
                self._world, self._pixmap = world, None
            self.update()

    def _place(self) -> bool:
        """Size it to the view and move it to the corner that hides the fewest nodes;
        False when the view is too small for one."""
        viewport = self.view.viewport().geometry()
        width = int(min(SIZE[0], viewport.width() * SHARE))
        height = int(min(SIZE[1], viewport.height() * SHARE))
        if width < SMALLEST[0] or height < SMALLEST[1]:
            return False
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
            self._pixmap = None
        left, right = viewport.left() + MARGIN, viewport.right() - width - MARGIN
        top, bottom = viewport.top() + MARGIN, viewport.bottom() - height - MARGIN
        corners = [
            QPoint(right, bottom),
            QPoint(left, bottom),
            QPoint(right, top),
            QPoint(left, top),
        ]
        self.move(min(corners, key=lambda corner: self._covered(QRect(corner, self.size()))))
        return True

    def _covered(self, rect: QRect) -> float:
        """Area of nodes (in scene units) under ``rect`` of the view."""
        view = self.view
        corner = QRect(view.viewport().mapFrom(view, rect.topLeft()), rect.size())
        scene_rect = view.mapToScene(corner).boundingRect()
        total = 0.0
        for item in view.scene().items(scene_rect):
            if isinstance(item, NodeItem):
                overlap = scene_rect.intersected(item.sceneBoundingRect())
                total += overlap.width() * overlap.height()
        return total

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
