"""The end of a run in pictures: final metrics, a confusion matrix, the decision boundary
of 2-D data and reconstructions beside their inputs; for a GAN, its last epoch's numbers
and what its generator makes (samples, or points beside the real ones).

``ResultsView.show_results(end, results, view)`` takes the ``TrainEnd``, the dict from
``engine.training.evaluate.evaluate`` and a GAN's last ``GanView`` (or None), and shows
the pictures they hold.
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

from engine.training.core.adversarial import is_gan_row
from nodeeditor import theme
from nodeeditor.panels.training.dataset_view import CLASS_COLORS, image_grid, scatter
from nodeeditor.panels.training.gan_view import (
    CURVES,
    FAKE_COLOR,
    REAL_COLOR,
    finite_points,
)

WAITING = "Results appear here when training ends."
SAMPLE_CELL = 36  # px per generated sample: a 4x4 grid fits the dock's usual height
REASONS = {
    "finished": "Finished",
    "stopped": "Stopped by you",
    "early_stopping": "Stopped early: the monitored metric stopped improving",
}


def gan_text(end) -> str:
    """A GAN's last epoch: ``Last epoch 40: D loss 1.31, G loss 0.74, D(real) 0.53,
    D(fake) 0.47; generated samples spread 1.2 (the data's 1.4).`` Its losses say nothing
    of quality, so its kept weights are those of its last epoch, not of a "best" one."""
    row = end.best
    parts = [f"{name} {row[key]:.3g}" for key, (_, _, name) in CURVES.items()
             if row.get(key) is not None]  # fmt: skip
    text = f"Last epoch {end.best_epoch}: " + ", ".join(parts)
    fake, real = row.get("fake_spread"), row.get("real_spread")
    if fake is not None and real is not None:
        text += f"; generated samples spread {fake:.3g} (the data's {real:.3g})"
    return text + "."


def metrics_text(end) -> str:
    """``Finished after 5 epochs. Best epoch 5: val loss 0.12, val accuracy 96.4%``."""
    text = f"{REASONS.get(end.reason, end.reason)} after {end.epochs_done} epoch(s)."
    if not end.best_epoch:
        return text
    if is_gan_row(end.best):
        return f"{text} {gan_text(end)}"
    parts = []
    for key, value in end.best.items():
        if key in ("epoch", "lr") or value is None:
            continue
        name = key.replace("_", " ")
        parts.append(f"{name} {value * 100:.1f}%" if "accuracy" in key else f"{name} {value:.4g}")
    return f"{text} Best epoch {end.best_epoch}: " + ", ".join(parts)


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
        self._build_gan(row)

    def _build_gan(self, row: QHBoxLayout) -> None:
        """A GAN's result: its generated samples, or its points beside the real ones."""
        self.gan_title = QLabel()
        self.gan_title.setObjectName("generated_title")
        self.gan_title.setWordWrap(True)
        self.layout().insertWidget(1, self.gan_title)
        self.samples = QLabel()
        self.samples.setObjectName("generated_samples")
        self.samples.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.generated = pg.PlotWidget()
        self.generated.setObjectName("generated_points")
        self.generated.setBackground(theme.colors()["base"])
        self.generated.setAspectLocked(True)
        self.generated.addLegend(offset=(1, 1), labelTextSize="8pt")
        self.real_points = pg.ScatterPlotItem(size=4, pen=None, brush=REAL_COLOR, name="real")
        self.fake_points = pg.ScatterPlotItem(size=4, pen=None, brush=FAKE_COLOR,
                                              name="generated")  # fmt: skip
        for item in (self.real_points, self.fake_points):
            self.generated.addItem(item)
        row.addWidget(self.samples)
        row.addWidget(self.generated)
        for widget in (self.gan_title, self.samples, self.generated):
            widget.hide()

    def clear(self, text: str = "Training…") -> None:
        """Hide every picture and say ``text`` (a new run starts, another project opens)."""
        self.summary.setText(text)
        pictures = (self.confusion, self.confusion_title, self.boundary, self.reconstruction,
                    self.reconstruction_title, self.gan_title, self.samples,
                    self.generated)  # fmt: skip
        for widget in pictures:
            widget.hide()

    def reset(self) -> None:
        """Back to the state before any run (another project is shown)."""
        self.clear(WAITING)

    def show_results(self, end, results: dict, view=None) -> None:
        """Show ``end``'s metrics, the pictures in ``results`` and what a GAN's last
        ``view`` holds (None: not a GAN, or no epoch completed)."""
        self.summary.setText(metrics_text(end))
        if view is not None:
            self._show_generated(view)
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

    def _show_generated(self, view) -> None:
        """The generator's samples from the live view's fixed noise, or its points."""
        if view.images is not None and len(view.images):
            self.samples.setPixmap(image_grid(view.images, columns=4, cell=SAMPLE_CELL, gap=3))
            self.samples.show()
            what = "Samples the generator made"
        elif view.fake is not None:
            self.real_points.setData(pos=finite_points(view.real))
            self.fake_points.setData(pos=finite_points(view.fake))
            self.generated.show()
            what = "Generated points (purple) beside real ones (green)"
        else:
            return
        self.gan_title.setText(f"{what} at epoch {view.epoch}, from the live view's fixed noise")
        self.gan_title.show()

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
