"""The breadcrumb bar above the canvas while a block is entered.

It reads ``model › layer1_0 (BasicBlock) › ...``: each item but the last is a flat
button that goes back to that level (``level_clicked(depth)``, 0 being the network),
and a note at the right says what editing here changes and how to go back up (Esc on
the canvas with nothing selected, or Alt+Up). At the network's own level there is
nothing to show and the bar hides itself, so a project without blocks looks as before.
The current item's context menu renames the entered block's type (``rename_requested``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QWidget

SEPARATOR = "›"


class Breadcrumb(QWidget):
    """The path of entered blocks (see the module docstring).

    Signals:
        level_clicked(int): the item at this depth was clicked (0: the network).
        rename_requested(): "Rename Block Type…" on the current item.
    """

    level_clicked = Signal(int)
    rename_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.setAccessibleName("Entered blocks")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "#breadcrumb { background: palette(alternate-base);"
            " border-bottom: 1px solid palette(mid); }"
        )
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 8, 2)
        self._layout.setSpacing(2)
        self.items: list[QWidget] = []  # buttons, then the current level's label
        self.note = QLabel()
        self.note.setProperty("role", "muted")
        self.names: list[str] = []
        self.hide()

    def show_path(self, names: list[str], note: str = "") -> None:
        """Show the levels ``names`` (the network's name first) and a note."""
        if names == self.names and note == self.note.text():
            return
        self.names = list(names)
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None and widget is not self.note:
                widget.deleteLater()
        self.items = []
        for depth, name in enumerate(names):
            if depth:
                separator = QLabel(SEPARATOR)
                separator.setContentsMargins(3, 0, 3, 0)
                self._layout.addWidget(separator)
            self.items.append(self._item(depth, name, last=depth == len(names) - 1))
            self._layout.addWidget(self.items[-1])
        self._layout.addStretch(1)
        self.note.setText(note)
        self._layout.addWidget(self.note)
        self.setVisible(len(names) > 1)

    def _item(self, depth: int, name: str, last: bool) -> QWidget:
        if last:
            label = QLabel(name)
            font = label.font()
            font.setBold(True)
            label.setFont(font)
            if depth:
                label.setToolTip("Right-click to rename this block type")
                label.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                label.customContextMenuRequested.connect(lambda p: self._menu(label, p))
            return label
        button = QToolButton()
        button.setText(name)
        button.setAutoRaise(True)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setToolTip(f"Back to {name}")
        button.clicked.connect(lambda checked=False, d=depth: self.level_clicked.emit(d))
        return button

    def _menu(self, label: QLabel, point) -> None:
        menu = QMenu(self)
        menu.addAction("Rename Block Type…", self.rename_requested.emit)
        menu.exec(label.mapToGlobal(point))
        menu.deleteLater()
