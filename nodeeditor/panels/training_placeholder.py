"""A placeholder for the Training dock until the training panel replaces it.

The window adds it under the name ``"training"``; the training panel takes its place
with ``MainWindow.set_dock_widget("training", panel)``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class TrainingPlaceholder(QWidget):
    """An empty Training panel with one line of text."""

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        label = QLabel("Training appears here: loss and accuracy curves while the network learns.")
        label.setProperty("role", "muted")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
