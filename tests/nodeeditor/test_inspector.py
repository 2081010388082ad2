"""The inspector: parameters, id and trainable edited by typing into its widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from engine import project as project_file
from nodeeditor import commands
from tests.nodeeditor.app_helpers import close_window, open_window


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


def select(window, qtbot, node_id):
    window.scene.select_nodes([node_id])
    qtbot.waitUntil(lambda: window.inspector.node_id == node_id)
    return window.inspector


def type_into(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Backspace)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_selecting_a_node_shows_its_type_help_and_parameters(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    node = window.document.network.node("fc1")
    assert inspector.id_edit.text() == "fc1"
    assert "Linear" in inspector.type_label.text()
    assert inspector.help_label.text() == node.spec.help
    assert list(inspector.fields) == [p.name for p in node.spec.params]
    window.scene.select_nodes(["fc1", "fc2"])
    qtbot.waitUntil(lambda: inspector.node_id is None)
    assert inspector._empty.isVisibleTo(inspector)
    assert "2 layers selected" in inspector._empty.text()
    window.scene.select_nodes([])
    assert inspector._empty.isVisibleTo(inspector)
    assert "Select a layer" in inspector._empty.text()


def test_typing_a_valid_value_is_one_undoable_edit(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    stack = window.document.undo_stack
    before = stack.count()
    type_into(qtbot, inspector.fields["out_features"].editor, "32")
    assert window.document.network.node("fc1").params["out_features"] == 32
    assert stack.count() == before + 1
    assert not inspector.errors["out_features"].isVisibleTo(inspector)
    stack.undo()
    assert window.document.network.node("fc1").params["out_features"] == 64
    qtbot.waitUntil(lambda: inspector.fields["out_features"].editor.text() == "64")


def test_an_out_of_range_value_is_refused_with_a_message(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    before = project_file.dumps(window.document.project)
    count = window.document.undo_stack.count()
    type_into(qtbot, inspector.fields["out_features"].editor, "0")
    error = inspector.errors["out_features"]
    assert error.isVisibleTo(inspector)
    assert "out_features" in error.text() and "at least 1" in error.text()
    assert project_file.dumps(window.document.project) == before
    assert window.document.undo_stack.count() == count
    assert inspector.fields["out_features"].editor.text() == "64"


def test_letters_cannot_be_typed_into_a_number(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    before = project_file.dumps(window.document.project)
    type_into(qtbot, inspector.fields["out_features"].editor, "abc")
    assert project_file.dumps(window.document.project) == before


def test_a_shape_is_typed_as_comma_separated_sizes(window, qtbot):
    inspector = select(window, qtbot, "input")
    edit = inspector.fields["shape"].editor
    type_into(qtbot, edit, "1, 8, 8")
    assert window.document.network.node("input").params["shape"] == (1, 8, 8)
    type_into(qtbot, edit, "1, eight")
    assert window.document.network.node("input").params["shape"] == (1, 8, 8)
    assert "shape" in inspector.errors["shape"].text()
    assert inspector.errors["shape"].isVisibleTo(inspector)
    type_into(qtbot, edit, "0, 8")
    assert "at least 1" in inspector.errors["shape"].text()
    assert window.document.network.node("input").params["shape"] == (1, 8, 8)


def test_a_choice_is_picked_from_a_combo_box(window, qtbot):
    inspector = select(window, qtbot, "input")
    combo = inspector.fields["dtype"].editor
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert window.document.network.node("input").params["dtype"] == combo.currentData()
    assert combo.currentData() != "float32"


def test_a_bool_is_a_check_box(window, qtbot):
    inspector = select(window, qtbot, "fc2")
    box = inspector.fields["bias"].editor
    indicator = QPoint(8, box.height() // 2)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=indicator)
    assert window.document.network.node("fc2").params["bias"] is False


def test_rename_in_the_inspector(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    type_into(qtbot, inspector.id_edit, "hidden")
    network = window.document.network
    assert "hidden" in network and "fc1" not in network
    assert not inspector.id_error.isVisibleTo(inspector)
    assert inspector.id_edit.text() == "hidden"


@pytest.mark.parametrize("bad", ["fc2", "class", "2fast", "has space"])
def test_a_refused_rename_shows_why_and_keeps_the_id(window, qtbot, bad):
    inspector = select(window, qtbot, "fc1")
    before = project_file.dumps(window.document.project)
    type_into(qtbot, inspector.id_edit, bad)
    assert inspector.id_error.isVisibleTo(inspector)
    assert inspector.id_error.text()
    assert inspector.id_edit.text() == "fc1"
    assert project_file.dumps(window.document.project) == before


def test_trainable_check_box_freezes_a_layer(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    box = inspector.trainable_box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert window.document.network.node("fc1").trainable is False
    window.document.undo_stack.undo()
    assert window.document.network.node("fc1").trainable is True
    qtbot.waitUntil(lambda: inspector.trainable_box.isChecked())


def test_locked_inspector_refuses_edits(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    window.set_editing_locked(True)
    assert not inspector.fields["out_features"].editor.isEnabled()
    assert inspector.id_edit.isReadOnly()
    window.set_editing_locked(False)
    assert inspector.fields["out_features"].editor.isEnabled()


@pytest.fixture
def empty_window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    yield window
    close_window(window)


def test_floats_tuples_and_optional_values_are_typed_like_python(empty_window, qtbot):
    window, document = empty_window, empty_window.document
    conv = commands.add_node(document, "Conv2d", (0, 0))
    inspector = select(window, qtbot, conv)
    type_into(qtbot, inspector.fields["kernel_size"].editor, "3, 5")
    assert document.network.node(conv).params["kernel_size"] == (3, 5)
    type_into(qtbot, inspector.fields["kernel_size"].editor, "(1, 2, 3)")
    assert "kernel_size" in inspector.errors["kernel_size"].text()
    assert document.network.node(conv).params["kernel_size"] == (3, 5)

    drop = commands.add_node(document, "Dropout", (0, 200))
    inspector = select(window, qtbot, drop)
    type_into(qtbot, inspector.fields["p"].editor, "0.25")
    assert document.network.node(drop).params["p"] == 0.25
    type_into(qtbot, inspector.fields["p"].editor, "1.5")
    assert "at most 1" in inspector.errors["p"].text()
    assert document.network.node(drop).params["p"] == 0.25

    norm = commands.add_node(document, "BatchNorm2d", (0, 400))
    inspector = select(window, qtbot, norm)
    assert inspector.fields["eps"].editor.text() == "1e-05"
    type_into(qtbot, inspector.fields["eps"].editor, "1e-3")
    assert document.network.node(norm).params["eps"] == 0.001

    pool = commands.add_node(document, "MaxPool2d", (0, 600))
    inspector = select(window, qtbot, pool)
    type_into(qtbot, inspector.fields["stride"].editor, "2")
    assert document.network.node(pool).params["stride"] == 2
    type_into(qtbot, inspector.fields["stride"].editor, "")
    assert document.network.node(pool).params["stride"] is None


def test_leaving_a_field_commits_what_was_typed(window, qtbot):
    inspector = select(window, qtbot, "fc1")
    window.activateWindow()
    spin = inspector.fields["out_features"].editor
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "48")
    assert window.document.network.node("fc1").params["out_features"] == 64
    window.view.setFocus()
    qtbot.waitUntil(lambda: window.document.network.node("fc1").params["out_features"] == 48)
