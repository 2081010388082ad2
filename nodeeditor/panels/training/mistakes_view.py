"""The Mistakes tab: the validation samples a trained classifier gets wrong, and why.

``MistakesView.show_report(report, network, state)`` takes the
``engine.insight.mistakes.MistakesReport`` that the run's evaluation made in the
training thread (the same pass as the confusion matrix), the network the run trained
and its kept weights:

- a per-class table (samples, right, accuracy); clicking a class shows its mistakes
  only, "All classes" shows them all again;
- the wrong samples, the most confident mistakes first: a grid of thumbnails for
  images, a row of feature values for other data; the header sorts them (sample, true
  class, predicted class, confidence, the true class's probability);
- clicking a sample shows it large with its gradient saliency and Grad-CAM maps laid
  over it (``engine.insight.saliency``), or for other data a bar per input number.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import DeepwireError
from nodeeditor import background, theme
from nodeeditor.training_thread import main_thread_gc

WAITING = "After a classifier's run, the validation samples it gets wrong appear here."
MAX_SHOWN = 1000  # mistakes in the gallery (the most confident ones)
THUMB = 56  # px of a thumbnail's longer side
LARGE = 96  # px of the clicked sample's pictures
DETAIL_HEIGHT = LARGE + 30  # px: the clicked sample's captions and pictures
BARS = "Bars: how strongly each input number moves the predicted class's score."
FEATURES = 12  # feature columns shown for non-image data
KEY = Qt.ItemDataRole.UserRole  # what a column sorts by
COLUMNS = ("Sample", "True", "Predicted", "Confidence", "P(true)")
SAMPLE, TRUE, PREDICTED, CONFIDENCE, TRUE_PROBABILITY = range(5)


def pixmap(rgb: np.ndarray, side: int) -> QPixmap:
    """An ``(H, W, 3)`` uint8 picture scaled (nearest neighbour) so its longer side is
    ``side`` pixels."""
    rgb = np.ascontiguousarray(rgb, np.uint8)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.FastTransformation)  # fmt: skip


def _item(text: str, key) -> QStandardItem:
    item = QStandardItem(text)
    item.setData(key, KEY)
    item.setEditable(False)
    return item


class ClassTable(QTableWidget):
    """Per-class accuracy, a column per class (accuracy, right, samples); clicking a
    column picks its class."""

    ROWS = ("Accuracy %", "Right", "Samples")

    def __init__(self, parent=None):
        super().__init__(len(self.ROWS), 0, parent)
        self.setObjectName("per_class_accuracy")
        self.setVerticalHeaderLabels(list(self.ROWS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectColumns)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setToolTip("Accuracy per class on the validation part; click a class to see "
                        "only its mistakes")  # fmt: skip

    def show_classes(self, classes) -> None:
        """Fill the table from ``ClassAccuracy`` rows, one column each."""
        self.clearSelection()
        self.setColumnCount(len(classes))
        self.setHorizontalHeaderLabels([entry.name for entry in classes])
        for col, entry in enumerate(classes):
            accuracy = entry.accuracy
            cells = ("–" if accuracy is None else f"{accuracy * 100:.0f}",
                     str(entry.correct), str(entry.count))  # fmt: skip
            for row, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(KEY, entry.label)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if row == 0 and accuracy is not None and accuracy < 1:
                    shade = QColor("#ef4444")  # the more wrong, the redder
                    shade.setAlphaF(min(1.0, (1 - accuracy) * 3) * 0.85)
                    item.setBackground(shade)
                self.setItem(row, col, item)
        mode, policy = QHeaderView.ResizeMode, Qt.ScrollBarPolicy
        few = len(classes) <= 12  # they fit side by side; more scroll sideways
        self.horizontalHeader().setSectionResizeMode(mode.Stretch if few else mode.ResizeToContents)
        self.setHorizontalScrollBarPolicy(
            policy.ScrollBarAlwaysOff if few else policy.ScrollBarAsNeeded
        )
        self.resizeRowsToContents()
        self.setFixedHeight(self._height())

    def _height(self) -> int:
        rows = sum(self.rowHeight(row) for row in range(self.rowCount()))
        off = self.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        scroll = 0 if off else self.horizontalScrollBar().sizeHint().height()
        return self.horizontalHeader().sizeHint().height() + rows + scroll + 2 * self.frameWidth()

    def label_at(self, column: int) -> int:
        """The class shown in ``column``."""
        return self.item(0, column).data(KEY)


class Gallery(QStackedWidget):
    """The wrong samples over one sortable, filterable model: a thumbnail grid under a
    header (images), or a table (other data)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(KEY)
        self.proxy.setFilterRole(KEY)
        self.proxy.setFilterKeyColumn(TRUE)
        self.grid = QListView()
        self.grid.setObjectName("mistakes_grid")
        self.grid.setModel(self.proxy)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(THUMB, THUMB))
        self.grid.setGridSize(QSize(THUMB + 40, THUMB + 24))  # one line of caption
        self.grid.setSpacing(4)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.header = QHeaderView(Qt.Orientation.Horizontal)
        self.header.setObjectName("mistakes_sort_header")
        self.header.setModel(self.proxy)
        self.header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.header.setFixedHeight(self.header.sizeHint().height())
        self._sortable(self.header)
        images = QWidget()
        column = QVBoxLayout(images)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(self.grid, 1)
        self.table = QTableView()
        self.table.setObjectName("mistakes_table")
        self.table.setModel(self.proxy)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self._sortable(self.table.horizontalHeader())
        self.images_page = images
        self.addWidget(images)
        self.addWidget(self.table)

    def _sortable(self, header: QHeaderView) -> None:
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(CONFIDENCE, Qt.SortOrder.DescendingOrder)
        header.sortIndicatorChanged.connect(self.proxy.sort)

    def view(self) -> QAbstractItemView:
        """The view that shows the samples now: the grid or the table."""
        return self.grid if self.currentWidget() is self.images_page else self.table

    def sort_header(self) -> QHeaderView:
        """The header a user clicks to sort."""
        return self.header if self.currentWidget() is self.images_page else (
            self.table.horizontalHeader())  # fmt: skip

    def fill(self, report, mistakes, images: bool) -> None:
        """One row per mistake; thumbnails for ``images``, else feature columns."""
        features = 0 if images else min(FEATURES, int(np.prod(report.inputs.shape[1:])))
        self.model.clear()
        self.model.setColumnCount(len(COLUMNS) + features)
        self.model.setHorizontalHeaderLabels([*COLUMNS, *(f"x{i}" for i in range(features))])
        for column in range(self.model.columnCount()):  # a first click: classes go up
            first = Qt.SortOrder.DescendingOrder if column == CONFIDENCE else (
                Qt.SortOrder.AscendingOrder)  # fmt: skip
            self.model.setHeaderData(column, Qt.Orientation.Horizontal, first,
                                     Qt.ItemDataRole.InitialSortOrderRole)  # fmt: skip
        for mistake in mistakes:
            self.model.appendRow(self._row(report, mistake, images, features))
        self.setCurrentWidget(self.images_page if images else self.table)
        header = self.sort_header()
        header.setSortIndicator(CONFIDENCE, Qt.SortOrder.DescendingOrder)
        self.proxy.sort(CONFIDENCE, Qt.SortOrder.DescendingOrder)
        if not images:
            self.table.resizeColumnsToContents()

    def _row(self, report, mistake, images: bool, features: int) -> list[QStandardItem]:
        true, predicted = report.name(mistake.true), report.name(mistake.predicted)
        first = _item(f"{true}→{predicted} {mistake.confidence * 100:.0f}%"
                      if images else f"#{mistake.index}", mistake.index)  # fmt: skip
        first.setData(mistake, Qt.ItemDataRole.UserRole + 1)
        first.setToolTip(
            f"validation sample {mistake.index}: true {true}, predicted {predicted} with "
            f"{mistake.confidence * 100:.1f} %; the true class got "
            f"{mistake.true_probability * 100:.1f} %"
        )
        sample = report.sample(mistake.index)
        if images:
            from engine.insight.render import image

            first.setIcon(QIcon(pixmap(image(sample), THUMB)))
        row = [first, _item(true, mistake.true), _item(predicted, mistake.predicted),
               _item(f"{mistake.confidence * 100:.1f} %", mistake.confidence),
               _item(f"{mistake.true_probability * 100:.1f} %", mistake.true_probability)]  # fmt: skip
        values = report.sample(mistake.index, units=True).reshape(-1)[:features]
        row += [_item(f"{float(v):.3g}", float(v)) for v in values]
        return row

    def show_class(self, label: int | None) -> None:
        """Keep only the mistakes of true class ``label`` (None: all)."""
        self.proxy.setFilterRegularExpression("" if label is None else f"^{int(label)}$")

    def shown(self) -> list:
        """The ``Mistake`` of each row, in the order shown."""
        return [self.proxy.index(row, SAMPLE).data(Qt.ItemDataRole.UserRole + 1)
                for row in range(self.proxy.rowCount())]  # fmt: skip


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
        mistake = self.gallery.proxy.index(index.row(), SAMPLE).data(Qt.ItemDataRole.UserRole + 1)
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
