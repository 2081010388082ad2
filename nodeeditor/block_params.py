"""Exposing an inner layer's parameter as a block parameter, from the Inspector.

Inside an entered block, each parameter row of the Inspector has a context menu (a
right-click on its name or its field). "Expose as Block Parameter…" asks the name of
the block parameter it should read (by default the parameter's own name; an existing
block parameter of the same kind may be chosen, to share it): the block then has that
parameter, with the layer's value as its default, and each instance sets it in its
own Inspector one level up. A row bound so (``out_channels ← channels``) offers "Stop
Exposing" instead. Each is one undo step, planned by ``engine.edits.blocks``
(``plan_expose``, ``plan_unexpose``) and pushed on the page's undo stack: these edits
reach the block type through the project's library, so they need no ``InsideBlock``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMenu,
    QVBoxLayout,
)

from engine.edits.blocks import plan_expose, plan_unexpose
from engine.errors import DeepwireError
from nodeeditor import commands
from nodeeditor.panels.param_widgets import format_value

EXPOSE = "Expose as Block Parameter…"
STOP = "Stop Exposing"
ROW_PROPERTY = "deepwire_param"  # the parameter a widget of an Inspector row edits


class RowMenus(QObject):
    """The context menus of an Inspector's parameter rows (an event filter on the
    row's name label, its field and the field's editor)."""

    def __init__(self, inspector):
        super().__init__(inspector)
        self.inspector = inspector

    def attach(self, name: str, *widgets) -> None:
        """Give ``widgets`` (of the row of parameter ``name``) the row's menu."""
        for widget in widgets:
            widget.setProperty(ROW_PROPERTY, name)
            widget.installEventFilter(self)
            line = _line_edit(widget)
            if line is not None and line is not widget:
                line.setProperty(ROW_PROPERTY, name)
                line.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.ContextMenu:
            return False
        name = watched.property(ROW_PROPERTY)
        menu = row_menu(self.inspector, name, watched) if name else None
        if menu is None:
            return False  # outside a block: the field's own menu
        menu.exec(event.globalPos())
        menu.deleteLater()
        return True


def _line_edit(widget) -> QLineEdit | None:
    if isinstance(widget, QLineEdit):
        return widget
    editor = getattr(widget, "editor", widget)
    line = getattr(editor, "lineEdit", None)
    return line() if callable(line) else (editor if isinstance(editor, QLineEdit) else None)


def row_menu(inspector, name: str, widget=None) -> QMenu | None:
    """The menu of parameter ``name``'s row: expose or stop exposing it (with the
    field's own editing entries when it is a text field); None outside a block."""
    document = inspector.document
    node = inspector._node()
    if node is None or document is None or document.network.owner is None:
        return None
    line = _line_edit(widget) if widget is not None else None
    if line is not None and line.isEnabled():
        menu = line.createStandardContextMenu()
        first = menu.actions()[0] if menu.actions() else None
    else:
        menu, first = QMenu(inspector), None
    menu.setToolTipsVisible(True)
    source = node.bind.get(name)
    if source is not None:
        action = menu.addAction(STOP, lambda: unexpose(inspector, name))
        action.setToolTip(f"{name} reads the block's parameter {source}; let it keep its own value")
    else:
        action = menu.addAction(EXPOSE, lambda: expose(inspector, name))
        refusal = _refusal(document.network, node.id, name)
        action.setEnabled(refusal is None)
        action.setToolTip(refusal or "Let each instance of the block set this value")
    action.setEnabled(action.isEnabled() and not inspector.locked)
    if first is not None:  # ours first, then cut, copy, paste...
        menu.removeAction(action)
        menu.insertAction(first, action)
        menu.insertSeparator(first)
    return menu


def _refusal(inside, node_id: str, param: str) -> str | None:
    """Why ``param`` of ``node_id`` cannot be exposed under any name (a shape, say)."""
    taken = {p.name for p in inside.owner.params}
    free = next(f"{param}_{i}" for i in range(len(taken) + 1) if f"{param}_{i}" not in taken)
    try:
        plan_expose(inside, node_id, param, free)
    except DeepwireError as error:
        return str(error)
    return None


def _page(document):
    """The network page whose undo stack holds the edits of ``document`` (a level)."""
    return getattr(document, "page", document)


def _say(inspector, text: str) -> None:
    show = getattr(inspector.window(), "show_message", None)
    if show is not None:
        show(text)


def expose(inspector, name: str, exposed: str | None = None) -> bool:
    """Make parameter ``name`` of the inspected inner node read a block parameter
    (asked when ``exposed`` is None); one undo step. True when done."""
    document, node = inspector.document, inspector._node()
    if node is None or inspector.locked:
        return False
    inside = document.network
    if exposed is None:
        exposed = ask_exposed_name(inspector, inside, node.id, name)
        if exposed is None:
            return False
    try:
        commands.push(_page(document), plan_expose(inside, node.id, name, exposed))
    except DeepwireError as error:
        inspector._refuse(name, str(error))
        return False
    block = inside.owner.name
    _say(
        inspector, f"{node.id}.{name} now reads {block}'s parameter {exposed}: each {block} sets it"
    )
    return True


def unexpose(inspector, name: str) -> bool:
    """Let parameter ``name`` of the inspected inner node keep its own value again (the
    block parameter goes too when nothing else reads it); one undo step."""
    document, node = inspector.document, inspector._node()
    if node is None or inspector.locked:
        return False
    commands.push(_page(document), plan_unexpose(document.network, node.id, name))
    _say(inspector, f"{node.id}.{name} keeps its own value again")
    return True


# ----------------------------------------------------------------- the dialog
def ask_exposed_name(parent, inside, node_id: str, param: str) -> str | None:
    """Ask the name of the block parameter that ``node_id.param`` should read; None
    when cancelled."""
    dialog = ExposeDialog(parent, inside, node_id, param)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    name = dialog.name()
    dialog.deleteLater()
    return name if accepted else None


class ExposeDialog(QDialog):
    """The name of a block parameter: typed (a new one) or chosen among the block's
    parameters of the same kind (shared). What the choice does, or why the engine
    refuses it, is said under the field while typing; OK only for a name it accepts."""

    def __init__(self, parent, inside, node_id: str, param: str):
        super().__init__(parent)
        self.inside, self.node_id, self.param = inside, node_id, param
        block = inside.owner
        self.setWindowTitle("Expose as block parameter")
        self.setObjectName("expose_dialog")
        own = inside.node(node_id).spec.param(param)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for p in block.params:
            if p.kind == own.kind and p.choices == own.choices:
                self.combo.addItem(p.name)
        self.combo.setEditText(param)
        self.combo.lineEdit().selectAll()
        self.combo.lineEdit().returnPressed.connect(self.accept)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("expose_note")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        text = (
            f"{node_id}.{param} will read a parameter of {block.name}, which each "
            f"{block.name} then sets. Its name (or one of {block.name}'s, to share it):"
        )
        label = QLabel(text)
        label.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (label, self.combo, self.note, self.buttons):
            layout.addWidget(widget)
        self.combo.editTextChanged.connect(self._on_text)
        self._on_text(param)
        self.setMinimumWidth(400)

    def name(self) -> str:
        """The name typed or chosen, without surrounding spaces."""
        return self.combo.currentText().strip()

    def reason(self, name: str) -> str | None:
        """Why ``name`` is refused (the engine's sentence), or None."""
        if not name:
            return "Type a name."
        try:
            plan_expose(self.inside, self.node_id, self.param, name)
        except DeepwireError as error:
            text = str(error)
            return text[:1].upper() + text[1:]
        return None

    def _on_text(self, text: str) -> None:
        name = text.strip()
        reason = self.reason(name)
        block = self.inside.owner
        known = {p.name: p for p in block.params}
        if reason is not None:
            self.note.setText(reason)
        elif name in known:
            default = format_value(known[name], known[name].default)
            self.note.setText(f"Shares {block.name}'s parameter {name} (default {default}).")
        else:
            node = self.inside.node(self.node_id)
            value = format_value(node.spec.param(self.param), node.params.get(self.param))
            self.note.setText(f"Adds the parameter {name} to {block.name} (default {value}).")
        self.note.setProperty("role", "error" if reason else "muted")
        self.note.style().polish(self.note)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(reason is None)

    def accept(self) -> None:
        if self.reason(self.name()) is None:  # Return with a refused name does nothing
            super().accept()
