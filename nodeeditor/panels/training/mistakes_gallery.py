"""The Mistakes tab's lists: per-class accuracy, and the wrong samples as thumbnails or rows.

``ClassTable`` shows each class's accuracy, right answers and samples in a column;
``Gallery`` holds one row per wrong sample in a model that a header sorts (sample, true
class, predicted class, confidence, the true class's probability) and a class filters,
shown as a grid of thumbnails for images or a table with the feature values otherwise.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QIcon, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QListView,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from nodeeditor.pictures import rgb_image

THUMB = 56  # px of a thumbnail's longer side
FEATURES = 12  # feature columns shown for non-image data
KEY = Qt.ItemDataRole.UserRole  # what a column sorts by
MISTAKE = Qt.ItemDataRole.UserRole + 1  # the row's Mistake, on its first column
COLUMNS = ("Sample", "True", "Predicted", "Confidence", "P(true)")
SAMPLE, TRUE, PREDICTED, CONFIDENCE, TRUE_PROBABILITY = range(5)


def pixmap(rgb: np.ndarray, side: int) -> QPixmap:
    """An ``(H, W, 3)`` uint8 picture scaled (nearest neighbour) so its longer side is
    ``side`` pixels."""
    return QPixmap.fromImage(rgb_image(rgb)).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
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
        first.setData(mistake, MISTAKE)
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
        return [self.proxy.index(row, SAMPLE).data(MISTAKE)
                for row in range(self.proxy.rowCount())]  # fmt: skip
