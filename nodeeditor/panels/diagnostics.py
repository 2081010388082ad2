"""The diagnostics list: the network's errors and warnings from the engine's analysis.

Each row shows one ``Diagnostic`` with an error or warning icon; clicking a row that is
about a node emits ``node_activated(node_id)`` so that the window selects the node and
centres the canvas on it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QVBoxLayout, QWidget

from engine.analysis import ERROR

NODE_ROLE = Qt.ItemDataRole.UserRole


class DiagnosticsPanel(QWidget):
    """The list of problems.

    Signals:
        node_activated(str): the user clicked a problem about this node.
    """

    node_activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setIconSize(QSize(16, 16))
        self.list.itemClicked.connect(self._on_item)
        self.list.itemActivated.connect(self._on_item)
        layout.addWidget(self.list)
        style = self.style()
        self._icons = {
            "error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
            "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning),
            "ok": style.standardIcon(QStyle.StandardPixmap.SP_DialogApplyButton),
        }

    def show_analysis(self, analysis) -> None:
        """Replace the rows with the diagnostics of ``analysis``."""
        self.list.clear()
        for diagnostic in analysis.diagnostics:
            kind = "error" if diagnostic.severity == ERROR else "warning"
            item = QListWidgetItem(self._icons[kind], diagnostic.message)
            item.setData(NODE_ROLE, diagnostic.node)
            item.setToolTip(f"{kind}: {diagnostic.message}")
            self.list.addItem(item)
        if not analysis.diagnostics:
            item = QListWidgetItem(self._icons["ok"], "No problems: the network can be trained.")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.list.addItem(item)

    def _on_item(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_activated.emit(node_id)
