"""A look at the data before training: images as a grid, 2-D points as a scatter plot,
anything else as a table of the first samples.

``image_grid`` also draws the reconstructions beside their inputs after training.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodeeditor import theme
from nodeeditor.pictures import rgb_image

CLASS_COLORS = ["#3b82f6", "#f97316", "#22c55e", "#ef4444", "#a855f7", "#eab308", "#06b6d4",
                "#ec4899", "#84cc16", "#64748b"]  # fmt: skip


def to_grey(image: np.ndarray) -> np.ndarray:
    """One sample image (C, H, W) or (H, W) as 8-bit grey or RGB (H, W[, 3]), stretched."""
    image = np.asarray(image, np.float32)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    low, high = float(image.min()), float(image.max())
    scaled = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return np.ascontiguousarray((scaled * 255).astype(np.uint8))


def image_grid(images, columns: int = 8, cell: int = 40, gap: int = 2, group: int = 0) -> QPixmap:
    """A pixmap with ``images`` (samples along axis 0) in rows of ``columns``; with
    ``group``, a wider gap after every ``group`` columns (input/output pairs)."""
    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    first = to_grey(images[0]) if count else np.zeros((1, 1), np.uint8)
    height, width = first.shape[:2]
    scale = max(1, cell // max(height, width))
    step_x, step_y = width * scale + gap, height * scale + gap
    wide = 4 * gap if group else 0
    groups = (columns - 1) // group if group else 0
    canvas = np.full((rows * step_y, columns * step_x + groups * wide, 3), 40, np.uint8)
    for index in range(count):
        tile = to_grey(images[index])
        if tile.ndim == 2:
            tile = np.repeat(tile[:, :, None], 3, axis=2)
        tile = np.kron(tile, np.ones((scale, scale, 1), np.uint8))
        col = index % columns
        top, left = (
            (index // columns) * step_y,
            col * step_x + (col // group if group else 0) * wide,
        )
        canvas[top : top + tile.shape[0], left : left + tile.shape[1]] = tile
    return QPixmap.fromImage(rgb_image(canvas))


def scatter(plot, points: np.ndarray, labels: np.ndarray, size: int = 5) -> None:
    """Add 2-D ``points`` coloured by class ``labels`` to a pyqtgraph plot."""
    brushes = [pg.mkBrush(CLASS_COLORS[int(c) % len(CLASS_COLORS)]) for c in labels]
    item = pg.ScatterPlotItem(points[:, 0], points[:, 1], size=size, brush=brushes,
                              pen=pg.mkPen("#00000080"))  # fmt: skip
    plot.addItem(item)


class DatasetView(QStackedWidget):
    """Shows a ``Dataset``'s first samples in the form that suits it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("dataset_view")
        self.message = QLabel("No dataset")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.images = QLabel()
        self.images.setObjectName("dataset_images")
        self.images.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setObjectName("dataset_scatter")
        self.plot_widget.setBackground(theme.colors()["base"])
        self.plot_widget.setAspectLocked(True)
        self.table = QTableWidget()
        self.table.setObjectName("dataset_table")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for widget in (self.message, self.images, self.plot_widget, self.table):
            self.addWidget(widget)
        self.mode = "message"

    def show_message(self, text: str) -> None:
        """Show a sentence instead of data (loading, or why it cannot load)."""
        self.message.setText(text)
        self.setCurrentWidget(self.message)
        self.mode = "message"

    def show_dataset(self, dataset) -> None:
        """Show the first samples of ``dataset``."""
        x, y = dataset.x_train, dataset.y_train
        if dataset.kind == "image" and x.ndim >= 3:
            self.images.setPixmap(image_grid(x[:32], columns=8))
            self.setCurrentWidget(self.images)
            self.mode = "images"
        elif dataset.sample_shape == (2,) and dataset.task == "classification":
            self.plot_widget.clear()
            scatter(self.plot_widget.getPlotItem(), x[:1000], y[:1000])
            self.setCurrentWidget(self.plot_widget)
            self.mode = "scatter"
        else:
            self._fill_table(dataset)
            self.setCurrentWidget(self.table)
            self.mode = "table"

    def _fill_table(self, dataset) -> None:
        rows = min(20, len(dataset.x_train))
        x = dataset.x_train[:rows].reshape(rows, -1)
        y = dataset.y_train[:rows].reshape(rows, -1)
        columns = min(x.shape[1], 12)
        names = [f"x{i}" for i in range(columns)] + ["target"]
        self.table.setColumnCount(len(names))
        self.table.setHorizontalHeaderLabels(names)
        self.table.setRowCount(rows)
        for row in range(rows):
            for col in range(columns):
                self.table.setItem(row, col, QTableWidgetItem(_fmt(x[row, col])))
            target = y[row]
            if dataset.task == "classification" and dataset.class_names:
                text = dataset.class_names[int(target[0])]
            else:
                text = ", ".join(_fmt(v) for v in target[:4])
            self.table.setItem(row, columns, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()


def _fmt(value) -> str:
    if isinstance(value, np.integer | int):
        return str(int(value))
    return f"{float(value):.3g}"


class Column(QWidget):
    """A vertical box with no margins (a small helper for the panel's layout)."""

    def __init__(self, *widgets, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget)
