"""The inspector: the selected layer's id, type, help, trainable switch and parameters.

Its parameter editors are generated from the layer's ``LayerSpec`` (param_widgets), so a
new layer type needs no inspector code. Every committed edit is one undoable command
(``commands.set_params``, ``rename_node``, ``set_trainable``); a value the engine refuses
is never stored and its message appears under the field. The inspector follows the
network through the document's ``analysis_changed``, so undo and redo show up here too.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.analysis import ERROR
from engine.errors import DeepwireError
from engine.layers.rules import fmt
from nodeeditor import theme
from nodeeditor.block_params import RowMenus
from nodeeditor.panels.param_widgets import ParamField, make_field

EMPTY_TEXT = "Select a layer on the canvas to see its settings."


def _label(text: str = "", role: str | None = None, wrap: bool = False) -> QLabel:
    label = QLabel(text)
    if role:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class Inspector(QWidget):
    """Shows and edits one node. ``set_document`` then ``set_node(id or None)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.document = None
        self.node_id: str | None = None
        self.locked = False
        self.fields: dict[str, ParamField] = {}
        self.errors: dict[str, QLabel] = {}
        self.name_labels: dict[str, QLabel] = {}
        self._shown_type: str | None = None
        self._row_menus = RowMenus(self)  # inside a block: expose a parameter
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        self._body = QWidget()
        scroll.setWidget(self._body)
        self._layout = QVBoxLayout(self._body)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._empty = _label(EMPTY_TEXT, "muted", True)
        self._layout.addWidget(self._empty)
        self._build_header()

    # ----------------------------------------------------------------- building
    def _build_header(self) -> None:
        self._header = QWidget()
        layout = QVBoxLayout(self._header)
        layout.setContentsMargins(0, 0, 0, 0)
        self.type_label = _label(role="heading")
        self.help_label = _label(role="muted", wrap=True)
        form = QFormLayout()
        self.id_edit = QLineEdit()
        self.id_edit.setToolTip("The layer's name: letters, digits and underscores.")
        self.id_edit.editingFinished.connect(self._on_id_edited)
        self.id_error = _label(role="error", wrap=True)
        self.id_error.hide()
        self.trainable_box = QCheckBox("update its weights during training")
        self.trainable_box.clicked.connect(self._on_trainable_clicked)
        form.addRow("id", self.id_edit)
        form.addRow("", self.id_error)
        form.addRow("trainable", self.trainable_box)
        self.form = form
        self.result_label = _label(role="muted", wrap=True)
        self.problems_label = _label(wrap=True)
        self.problems_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.type_label)
        layout.addWidget(self.help_label)
        layout.addLayout(form)
        layout.addWidget(self.result_label)
        layout.addWidget(self.problems_label)
        self._params_box = QWidget()
        box_layout = QVBoxLayout(self._params_box)
        box_layout.setContentsMargins(0, 8, 0, 0)
        box_layout.addWidget(_label("Parameters", "heading"))
        self._params_form = QFormLayout()
        box_layout.addLayout(self._params_form)
        layout.addWidget(self._params_box)
        self._layout.addWidget(self._header)
        self._header.hide()

    def _rebuild_params(self, node) -> None:
        while self._params_form.rowCount():
            self._params_form.removeRow(0)
        self.fields.clear()
        self.errors.clear()
        self.name_labels.clear()
        for param in node.spec.params:
            field = make_field(param)
            error = _label(role="error", wrap=True)
            error.hide()
            field.commit_requested.connect(lambda value, name=param.name: self._commit(name, value))
            field.rejected.connect(lambda message, name=param.name: self._refuse(name, message))
            name_label = QLabel(param.name)
            name_label.setToolTip(param.help)
            self.name_labels[param.name] = name_label
            self._params_form.addRow(name_label, field)
            self._params_form.addRow("", error)
            self._row_menus.attach(param.name, name_label, field, field.editor)
            self.fields[param.name] = field
            self.errors[param.name] = error
        self._params_box.setVisible(bool(node.spec.params))
        self._shown_type = node.type

    # ----------------------------------------------------------------- public
    def set_document(self, document) -> None:
        """Follow ``document`` (a nodeeditor.document.Document); shows nothing selected."""
        if self.document is not None:
            self.document.analysis_changed.disconnect(self._on_analysis_changed)
        self.document = document
        document.analysis_changed.connect(self._on_analysis_changed)
        self.set_node(None)

    def set_node(self, node_id: str | None) -> None:
        """Show the node called ``node_id``, or the empty state for None."""
        if node_id != self.node_id:
            self._shown_type = None
        self.node_id = node_id
        self.refresh()

    def set_selection(self, ids: list[str]) -> None:
        """Show the one selected node, or say how many are selected."""
        self.set_node(ids[0] if len(ids) == 1 else None)
        if len(ids) > 1:
            self._empty.setText(f"{len(ids)} layers selected: select one to see its settings.")
        else:
            self._empty.setText(EMPTY_TEXT)

    def set_locked(self, locked: bool) -> None:
        """Forbid (True) or allow editing, e.g. while the network trains."""
        self.locked = locked
        self.refresh()

    def refresh(self) -> None:
        """Show the current state of the node from the network."""
        node = self._node()
        self._empty.setVisible(node is None)
        self._header.setVisible(node is not None)
        if node is None:
            self.node_id = None
            return
        names = [p.name for p in node.spec.params]  # a block's change with its type
        if node.type != self._shown_type or names != list(self.fields):
            self._rebuild_params(node)
            for label in (*self.errors.values(), self.id_error):
                label.hide()
        spec = node.spec
        self.type_label.setText(f"{spec.name}  ·  {spec.family}")
        self.help_label.setText(spec.help)
        if not self.id_edit.hasFocus() or self.id_edit.text() == "":
            self.id_edit.setText(node.id)
        self.trainable_box.setChecked(node.trainable)
        for name, field in self.fields.items():
            field.set_value(node.params.get(name))
            field.set_read_only(self.locked)
        self._show_bound(node)
        self.id_edit.setReadOnly(self.locked)
        self.trainable_box.setEnabled(not self.locked and spec.role == "layer")
        analysis = self.document.analysis if self.document else None
        weighted = (
            analysis is not None and node.id in analysis.network and analysis.has_weights(node.id)
        )
        self.form.setRowVisible(self.trainable_box, weighted)  # ReLU, Flatten: nothing to freeze
        self._show_analysis(node.id)

    def _show_bound(self, node) -> None:
        """Inside a block, a parameter bound to the block's own shows the value the
        entered instance gives it, read-only (editing it here would change nothing)."""
        analysis = self.document.analysis if self.document else None
        resolved = analysis.network if analysis is not None else None
        for name, label in self.name_labels.items():
            source = node.bind.get(name)
            label.setText(f"{name} ← {source}" if source else name)
            self.fields[name].setToolTip(f"Set by the block's parameter {source}" if source else "")
            if source is None:
                continue
            self.fields[name].set_read_only(True)
            if resolved is not None and node.id in resolved:
                self.fields[name].set_value(resolved.node(node.id).params.get(name))

    def _show_analysis(self, node_id: str) -> None:
        analysis = self.document.analysis if self.document else None
        if analysis is None or node_id not in analysis.network:
            self.result_label.clear()
            self.problems_label.clear()
            return
        parts = []
        if node_id in analysis.shapes:
            parts.append(f"output {fmt(analysis.shapes[node_id])}")
        if analysis.params.get(node_id):
            parts.append(f"{analysis.params[node_id]:,} parameters")
        self.result_label.setText("  ·  ".join(parts))
        colors = theme.colors()
        lines = [
            f'<span style="color:{colors["error" if d.severity == ERROR else "warning"]}">'
            f"{html.escape(d.message)}</span>"
            for d in analysis.for_node(node_id)
        ]
        self.problems_label.setText("<br>".join(lines))
        self.problems_label.setVisible(bool(lines))

    # ----------------------------------------------------------------- edits
    def _node(self):
        if self.document is None or self.node_id is None:
            return None
        network = self.document.network
        return network.node(self.node_id) if self.node_id in network else None

    def _commit(self, name: str, value: Any) -> None:
        from nodeeditor import commands

        node = self._node()
        if node is None or self.locked:
            return
        try:
            node.spec.param(name).check(value)
            commands.set_params(self.document, node.id, {name: value})
        except DeepwireError as error:
            self._refuse(name, str(error))
            return
        self.errors[name].hide()
        self.refresh()

    def _refuse(self, name: str, message: str) -> None:
        error = self.errors.get(name)
        if error is not None:
            error.setText(message)
            error.show()
        node = self._node()
        if node is not None and name in self.fields:
            self.fields[name].set_value(node.params.get(name))

    def _on_id_edited(self) -> None:
        from nodeeditor import commands

        node = self._node()
        new_id = self.id_edit.text().strip()
        if node is None or self.locked or new_id == node.id:
            self.id_error.hide()
            return
        try:
            commands.rename_node(self.document, node.id, new_id)
        except DeepwireError as error:
            self.id_error.setText(str(error))
            self.id_error.show()
            self.id_edit.setText(node.id)
            return
        self.id_error.hide()
        self.node_id = new_id
        self.refresh()

    def _on_trainable_clicked(self, checked: bool) -> None:
        from nodeeditor import commands

        node = self._node()
        if node is not None and not self.locked:
            commands.set_trainable(self.document, node.id, bool(checked))

    def _on_analysis_changed(self, analysis) -> None:
        if self.node_id is not None and self.document is not None:
            if self.node_id not in self.document.network:
                self.node_id = None
            self.refresh()
