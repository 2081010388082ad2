"""The layer search popup: type a few letters, press Enter, the layer appears there.

Opened by double-clicking empty canvas, by Tab, or by dropping a dragged wire on empty
canvas (then it offers only the layers that accept that wire: ``fitting_types``). It
filters the catalogue by name, family and help text as the user types; Enter or a
click chooses, Esc closes. It is a frameless child of the view, not a window, so it
never steals the application's focus for long. Opened by Tab or a double-click, it
lists blocks too (the project's, the built-in ones, the user's: ``open(blocks=...)``),
after the layers that match as well, marked "block".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from engine.analysis import input_refusal
from engine.layers import CATALOGUE
from engine.layers.spec import LayerSpec

MAX_ROWS = 12
NAME_ROLE = Qt.ItemDataRole.UserRole
BLOCK_MARK = "  · block"


@dataclass(frozen=True)
class _BlockChoice:
    """A block offered by the popup, matched like a layer type (``matches``)."""

    name: str
    help: str
    family: str = "Blocks"


def fitting_types(analysis, node_id: str, port: str, is_output: bool) -> list[str]:
    """Layer types that can take a wire from ``node_id.port`` (``is_output``) or feed
    the input ``node_id.port``: their dtype and shape rule accept what flows there."""
    if not is_output:
        return [s.name for s in CATALOGUE.values() if s.outputs and s.role != "output"]
    shape = analysis.shapes.get(node_id)
    dtype = analysis.dtypes.get(node_id, "float")
    return [
        s.name
        for s in CATALOGUE.values()
        if _accepts(s, shape, dtype)
        and (shape is None or not input_refusal(analysis.network, analysis, s.name, node_id, shape))
    ]


def _accepts(spec: LayerSpec, shape, dtype: str) -> bool:
    params = spec.defaults()
    ports = spec.input_ports(params)
    if not ports or spec.role == "input":
        return False
    if spec.input_dtype not in ("any", dtype):
        return False
    if shape is None:
        return True
    try:
        out = spec.infer(spec.check_params(params), [tuple(shape)] * len(ports))
        return all(d >= 1 for d in out)
    except Exception:  # a shape error (or a rule's bug) means: does not fit
        return False


def matches(spec: LayerSpec, query: str) -> int | None:
    """How well ``spec`` matches ``query`` (lower is better), or None.

    A name that starts with the query comes first, then a name with a word that does
    (``pool`` finds MaxPool2d before ConvTranspose2d), then any part of the name, the
    family, and last the help text.
    """
    q = query.strip().lower()
    if not q:
        return 3
    name = spec.name.lower()
    if name.startswith(q):
        return 0
    if any(word.lower().startswith(q) for word in _WORD.findall(spec.name)):
        return 1
    if q in name:
        return 2
    if q in spec.family.lower():
        return 3
    if q in spec.help.lower():
        return 5
    return None


_WORD = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[a-z]+|\d+")


class SearchPopup(QFrame):
    """A line edit over a list of layer types.

    Signals:
        chosen(str): the user picked this layer type.
    """

    chosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Search layers…")
        self.list = QListWidget(self)
        self.list.setMinimumHeight(180)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.list)
        self.resize(240, 260)
        self.types: list[str] = list(CATALOGUE)
        self.blocks: list[_BlockChoice] = []
        self.edit.textChanged.connect(self._refilter)
        self.edit.returnPressed.connect(self._choose_current)
        self.list.itemClicked.connect(self._choose_item)
        self.list.itemActivated.connect(self._choose_item)
        self.edit.installEventFilter(self)
        self.hide()

    def open(self, at, types: list[str] | None = None, blocks=()) -> None:
        """Show at ``at`` (a point of the parent widget) offering ``types`` (all when
        None) and ``blocks`` (each with ``name`` and ``help``: block_library's
        BlockEntry), with an empty query and the keyboard focus."""
        self.types = list(CATALOGUE) if types is None else list(types)
        self.blocks = [_BlockChoice(b.name, b.help) for b in blocks]
        self.edit.clear()
        self._refilter("")
        parent = self.parentWidget()
        x = min(max(0, at.x()), max(0, parent.width() - self.width()))
        y = min(max(0, at.y()), max(0, parent.height() - self.height()))
        self.move(x, y)
        self.show()
        self.raise_()
        self.edit.setFocus()

    def visible_types(self) -> list[str]:
        """The layer types (and blocks) listed now, best match first."""
        return [self.list.item(i).data(NAME_ROLE) for i in range(self.list.count())]

    def _refilter(self, text: str) -> None:
        scored = []
        choices = [*(CATALOGUE[name] for name in self.types), *self.blocks]
        for index, spec in enumerate(choices):
            score = matches(spec, text)
            if score is not None:
                scored.append((score, index, spec))
        self.list.clear()
        for _, _, spec in sorted(scored, key=lambda s: s[:2]):
            block = isinstance(spec, _BlockChoice)
            item = QListWidgetItem(spec.name + (BLOCK_MARK if block else ""))
            item.setData(NAME_ROLE, spec.name)
            item.setToolTip(f"{spec.family}: {spec.help or 'a block of layers'}")
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _choose_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._choose_item(item)

    def _choose_item(self, item: QListWidgetItem) -> None:
        self.hide()
        self.chosen.emit(item.data(NAME_ROLE))

    def eventFilter(self, watched, event):
        if watched is self.edit and event.type() == event.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.close_popup()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.list.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = (self.list.currentRow() + step) % self.list.count()
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def close_popup(self) -> None:
        """Hide without choosing; the parent gets the focus back."""
        if self.isVisible():
            self.hide()
            if self.parentWidget() is not None:
                self.parentWidget().setFocus()
