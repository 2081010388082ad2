"""The Mistakes tab: the validation samples a trained classifier gets wrong, and why.

``MistakesView.show_report(report, network, state)`` takes the
``engine.insight.mistakes.MistakesReport`` that the run's evaluation made in the
training thread (the same pass as the confusion matrix), the network the run trained
and its kept weights:

- a per-class table (accuracy, right, samples); clicking a class shows its mistakes
  only, "All classes" shows them all again;
- the wrong samples, the most confident mistakes first: a grid of thumbnails for
  images, a row of feature values for other data; the header sorts them (sample, true
  class, predicted class, confidence, the true class's probability). Both lists live in
  ``mistakes_gallery.py``;
- clicking a sample shows it large with its gradient saliency and Grad-CAM maps laid
  over it (``engine.insight.saliency``), or for other data a bar per input number.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.errors import DeepwireError
from nodeeditor import background, theme
from nodeeditor.panels.training.mistakes_gallery import MISTAKE, SAMPLE, ClassTable, Gallery, pixmap
from nodeeditor.training_thread import main_thread_gc

WAITING = "After a classifier's run, the validation samples it gets wrong appear here."
MAX_SHOWN = 1000  # mistakes in the gallery (the most confident ones)
LARGE = 96  # px of the clicked sample's pictures
DETAIL_HEIGHT = LARGE + 30  # px: the clicked sample's captions and pictures
BARS = "Bars: how strongly each input number moves the predicted class's score."


class Detail(QWidget):
    """The clicked sample: large, with its saliency and Grad-CAM maps, or feature bars."""

    PICTURES = (
        ("mistake_sample", "the sample"),
        ("mistake_saliency", "gradient saliency: the pixels whose change moves the "
         "predicted class's score most"),
        ("mistake_gradcam", "Grad-CAM: where the last convolution found evidence for the "
         "predicted class"),
    )  # fmt: skip

    def __init__(self, parent=None):
        super().__init__(parent)
        row = QHBoxLayout(self)  # side by side: the dock is wider than it is tall
        row.setContentsMargins(0, 0, 0, 0)
        self.text = QLabel()
        self.text.setObjectName("mistake_detail")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setMinimumWidth(120)
        row.addWidget(self.text, 1)
        self.pictures, self.captions = [], []
        for name, tip in self.PICTURES:
            caption, label = QLabel(), QLabel()
            label.setObjectName(name)
            for widget in (caption, label):
                widget.setToolTip(tip)
                widget.setAlignment(Qt.AlignmentFlag.AlignCenter)
            column = QVBoxLayout()
            column.addWidget(caption)
            column.addWidget(label, 1)
            row.addLayout(column)
            self.pictures.append(label)
            self.captions.append(caption)
        self.bars = pg.PlotWidget()
        self.bars.setObjectName("mistake_feature_saliency")
        self.bars.setBackground(theme.colors()["base"])
        self.bars.setLabel("left", "saliency")
        self.bars.setLabel("bottom", "input number")
        self.bars.setMinimumHeight(120)
        row.addWidget(self.bars, 3)
        self.clear()

    def clear(self, text: str = "") -> None:
        """Show ``text`` and no pictures."""
        self.text.setText(text)
        for label in (*self.pictures, *self.captions):
            label.clear()
            label.hide()
        self.bars.hide()

    def show_images(self, sample, explanation) -> None:
        """The sample, its saliency and (when there is one) its Grad-CAM map."""
        from engine.insight.render import image
        from engine.insight.saliency import overlay

        maps = [image(sample), overlay(sample, explanation.saliency)]
        if explanation.gradcam is not None:
            maps.append(overlay(sample, explanation.gradcam))
        captions = ["sample", "saliency", f"Grad-CAM · {explanation.gradcam_layer}"]
        for label, caption, rgb, name in zip(self.pictures, self.captions, maps, captions,
                                             strict=False):  # fmt: skip
            label.setPixmap(pixmap(rgb, LARGE))
            caption.setText(name)
            label.show()
            caption.show()
        self.bars.hide()

    def show_bars(self, explanation) -> None:
        """A bar per input number, as tall as its saliency."""
        values = explanation.saliency.reshape(-1)
        plot = self.bars.getPlotItem()
        plot.clear()
        plot.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.8,
                                     brush="#f97316"))  # fmt: skip
        for label in (*self.pictures, *self.captions):
            label.hide()
        self.bars.show()


class MistakesView(QWidget):
    """The Mistakes tab (see the module docstring).

    A clicked sample is explained in a background thread (a large network's backward
    pass takes a while); only the answer to the latest click is shown.
    """

    explained = Signal(int, object, str)  # job, Explanation or None, why not

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("training_mistakes")
        self.report = self.explainer = None
        self.images = False
        self.job = 0  # the latest click's number
        self.said, self.shown_mistake = "", None  # the clicked sample
        self.explained.connect(self._on_explained, Qt.ConnectionType.QueuedConnection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel(WAITING)
        self.summary.setObjectName("mistakes_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.classes = ClassTable()
        self.classes.cellClicked.connect(self._on_class_clicked)
        self.all_button = QPushButton("All classes")
        self.all_button.setObjectName("mistakes_all_classes")
        self.all_button.clicked.connect(lambda: self.show_class(None))
        self.gallery = Gallery()
        self.gallery.grid.clicked.connect(self._on_sample_clicked)
        self.gallery.table.clicked.connect(self._on_sample_clicked)
        self.detail = Detail()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.classes)
        top_layout.addWidget(self.all_button)
        top_layout.addWidget(self.gallery, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        for widget in (top, self.detail):
            self.splitter.addWidget(widget)
        self.splitter.setSizes([250, 250])
        layout.addWidget(self.splitter, 1)
        self.clear()

    def clear(self, text: str = WAITING) -> None:
        """Forget the report and say ``text`` (a new run, another project)."""
        self.report = self.explainer = None
        self.job += 1  # an answer still on its way is for another report
        self.summary.setText(text)
        self.splitter.hide()

    def show_report(self, report, network=None, state: dict | None = None) -> None:
        """Show ``report`` (None: the run was not a classifier's); ``network`` and its
        weights ``state`` explain a clicked sample."""
        self.clear(WAITING if report is None else "")
        if report is None:
            return
        from engine.insight.saliency import Explainer

        self.report = report
        if network is not None and state is not None:
            self.explainer = Explainer(network, state, report.input_shape)
        self.images = report.inputs is not None and report.inputs.ndim == 4
        mistakes = report.mistakes()
        self.classes.show_classes(report.per_class())
        self.gallery.fill(report, mistakes[:MAX_SHOWN], self.images)
        self.show_class(None)
        self.detail.clear()
        self.detail.hide()  # until a sample is clicked
        self._say_summary(len(mistakes))
        self.splitter.show()

    def _say_summary(self, wrong: int) -> None:
        report = self.report
        share = report.correct / max(report.total, 1) * 100
        text = (f"{wrong} of {report.total} {report.part} samples wrong ({share:.1f} % "
                "right), the most confident first.")  # fmt: skip
        if wrong > MAX_SHOWN:
            text += f" Showing the {MAX_SHOWN} most confident."
        if wrong:
            text += " Click a class to filter, a sample to see why."
        self.summary.setText(text)

    def show_class(self, label: int | None) -> None:
        """Show the mistakes of true class ``label`` only (None: of every class)."""
        self.gallery.show_class(label)
        self.all_button.setVisible(label is not None)
        if label is None:
            self.classes.clearSelection()

    def _on_class_clicked(self, _row: int, column: int) -> None:
        self.show_class(self.classes.label_at(column))

    def _on_sample_clicked(self, index) -> None:
        mistake = self.gallery.proxy.index(index.row(), SAMPLE).data(MISTAKE)
        if mistake is not None:
            self.explain(mistake)

    def explain(self, mistake) -> None:
        """Show ``mistake``'s sample with the saliency of its predicted class (computed
        in a background thread)."""
        report = self.report
        true, predicted = report.name(mistake.true), report.name(mistake.predicted)
        which = mistake.dataset_index if mistake.dataset_index >= 0 else mistake.index
        self.said = (f"Sample {which}: a {true} taken for a {predicted} with "
                     f"{mistake.confidence * 100:.1f} % ({true}: "
                     f"{mistake.true_probability * 100:.1f} %).")  # fmt: skip
        if self.detail.isHidden():  # the first click: the gallery keeps most of the room
            self.detail.show()
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([max(total - DETAIL_HEIGHT, total // 2), DETAIL_HEIGHT])
        self.job += 1
        self.shown_mistake = mistake
        if self.explainer is None:
            self.detail.clear(f"{self.said} No weights were kept from this run, so there "
                              "is nothing to explain it with.")  # fmt: skip
            return
        self.detail.clear(f"{self.said} Working out why…")
        main_thread_gc().hold()  # released when the thread ends
        sample = report.sample(mistake.index)
        background.start(self._explain, self.job, self.explainer, sample, mistake.predicted,
                         name="mistake-saliency")  # fmt: skip

    def _explain(self, job: int, explainer, sample, target: int) -> None:
        """In the background thread: the explanation, then ``explained``."""
        explanation, why = None, ""
        try:
            explanation = explainer.explain(sample, target)
        except DeepwireError as error:
            why = str(error)
        except Exception as error:  # whatever torch raises, the app goes on
            why = f"the saliency cannot be computed ({type(error).__name__}: {error})"
        finally:
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # the view is gone
                    self.explained.emit(job, explanation, why)
                with contextlib.suppress(RuntimeError):
                    main_thread_gc().release_requested.emit()

    def _on_explained(self, job: int, explanation, why: str) -> None:
        if job != self.job:
            return  # an older click, or another report
        if explanation is None:
            self.detail.clear(f"{self.said} {why}")
            return
        self.detail.text.setText(self.said if self.images else f"{self.said} {BARS}")
        if self.images:
            self.detail.show_images(self.report.sample(self.shown_mistake.index), explanation)
        else:
            self.detail.show_bars(explanation)
