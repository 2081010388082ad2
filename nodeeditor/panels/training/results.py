"""The end of a run in pictures: final metrics, a confusion matrix, the decision boundary
of 2-D data and reconstructions beside their inputs.

``ResultsView.show_results(end, results)`` takes the ``TrainEnd`` and the dict from
``engine.training.evaluate.evaluate`` and shows the pictures that dict holds.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodeeditor import theme
from nodeeditor.panels.training.dataset_view import CLASS_COLORS, image_grid, scatter

WAITING = "Results appear here when training ends."
REASONS = {
    "finished": "Finished",
    "stopped": "Stopped by you",
    "early_stopping": "Stopped early: the monitored metric stopped improving",
}


def metrics_text(end) -> str:
    """``Finished after 5 epochs. Best epoch 5: val loss 0.12, val accuracy 96.4%``."""
    parts = []
    for key, value in end.best.items():
        if key in ("epoch", "lr") or value is None:
            continue
        name = key.replace("_", " ")
        parts.append(f"{name} {value * 100:.1f}%" if "accuracy" in key else f"{name} {value:.4g}")
    text = f"{REASONS.get(end.reason, end.reason)} after {end.epochs_done} epoch(s)."
    if end.best_epoch:
        text += f" Best epoch {end.best_epoch}: " + ", ".join(parts)
    return text


class ConfusionTable(QTableWidget):
    """Counts of true (rows) against predicted (columns) classes, shaded by share."""

    def show_matrix(self, matrix: np.ndarray, names: list[str]) -> None:
        """Fill the table from ``matrix[true, predicted]``."""
        count = len(matrix)
        names = names if len(names) == count else [str(i) for i in range(count)]
        self.setRowCount(count)
        self.setColumnCount(count)
        self.setHorizontalHeaderLabels(names)
        self.setVerticalHeaderLabels(names)
        totals = matrix.sum(axis=1, keepdims=True).clip(min=1)
        share = matrix / totals
        for row in range(count):
            for col in range(count):
                item = QTableWidgetItem(str(int(matrix[row, col])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                color = QColor("#22c55e" if row == col else "#ef4444")
                color.setAlphaF(float(min(1.0, share[row, col])) * 0.85)
                item.setBackground(color)
                self.setItem(row, col, item)
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        accuracy = np.trace(matrix) / max(matrix.sum(), 1)
        self.setToolTip(f"rows: true class, columns: predicted; {accuracy * 100:.1f}% right")


class ResultsView(QWidget):
    """Final metrics and the pictures for the task."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("training_results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel(WAITING)
        self.summary.setObjectName("results_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        layout.addLayout(row, 1)
        self.confusion = ConfusionTable()
        self.confusion.setObjectName("confusion_matrix")
        self.confusion.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.confusion_title = QLabel(
            "Confusion matrix: rows are the true class, columns the predicted one"
        )
        self.confusion_title.setWordWrap(True)
        self.confusion_title.hide()
        layout.insertWidget(1, self.confusion_title)
        self.boundary = pg.PlotWidget(title="decision boundary")
        self.boundary.setObjectName("decision_boundary")
        self.boundary.setBackground(theme.colors()["base"])
        self.boundary.setAspectLocked(True)
        self.reconstruction = QLabel()
        self.reconstruction.setObjectName("reconstructions")
        self.reconstruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for widget in (self.confusion, self.boundary, self.reconstruction):
            row.addWidget(widget)
            widget.hide()
        self.reconstruction_title = QLabel(
            "Reconstructions: each validation input, with the network's output to its right"
        )
        self.reconstruction_title.setWordWrap(True)
        self.reconstruction_title.hide()
        layout.insertWidget(1, self.reconstruction_title)

    def clear(self, text: str = "Training…") -> None:
        """Hide every picture and say ``text`` (a new run starts, another project opens)."""
        self.summary.setText(text)
        pictures = (self.confusion, self.confusion_title, self.boundary, self.reconstruction,
                    self.reconstruction_title)  # fmt: skip
        for widget in pictures:
            widget.hide()

    def reset(self) -> None:
        """Back to the state before any run (another project is shown)."""
        self.clear(WAITING)

    def show_results(self, end, results: dict) -> None:
        """Show ``end``'s metrics and the pictures in ``results``."""
        self.summary.setText(metrics_text(end))
        if "confusion" in results:
            self.confusion.show_matrix(results["confusion"], results.get("class_names", []))
            self.confusion.show()
            self.confusion_title.show()
        if "boundary" in results:
            self._draw_boundary(results["boundary"])
            self.boundary.show()
        if "reconstruction" in results:
            pictures = results["reconstruction"]
            inputs, outputs = pictures["inputs"], pictures["outputs"]
            pairs = np.stack([inputs, outputs], axis=1).reshape(-1, *inputs.shape[1:])
            self.reconstruction.setPixmap(image_grid(pairs, columns=4, cell=64, gap=3, group=2))
            self.reconstruction.setToolTip("each input with its reconstruction to its right")
            self.reconstruction.show()
            self.reconstruction_title.show()

    def _draw_boundary(self, boundary: dict) -> None:
        plot = self.boundary.getPlotItem()
        plot.clear()
        classes = boundary["classes"]
        x0, x1, y0, y1 = boundary["extent"]
        colors = np.array([QColor(c).getRgb()[:3] for c in CLASS_COLORS], np.uint8)
        rgb = colors[classes % len(colors)]
        rgba = np.concatenate([rgb, np.full((*classes.shape, 1), 90, np.uint8)], axis=2)
        image = pg.ImageItem(np.ascontiguousarray(rgba.transpose(1, 0, 2)))
        image.setRect(x0, y0, x1 - x0, y1 - y0)
        plot.addItem(image)
        scatter(plot, boundary["points"], boundary["labels"], size=6)
