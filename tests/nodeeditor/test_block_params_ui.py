"""Block parameters and block types in the window, driven like a user: the context
menus of the Inspector's rows inside a block (expose, stop exposing), renaming a block
type from the palette, the canvas and the breadcrumb, blocks in the Tab search, nudges
inside a block, and a block type that loses a port a wire still ends on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from nodeeditor import block_params
from tests.nodeeditor.app_helpers import close_window
from tests.nodeeditor.test_blocks_ui import (
    answer_name_dialog,
    click,
    double_click,
    dumps,
    key,
    menu_action,
    open_blocks_window,
    settle,
    shape_on,
)

RIGHT, NO_MOD = Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    """input -> r1 (Widen) -> r2 (Widen) -> p (Pair of two Widens) -> ... -> output."""
    window = open_blocks_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


# ----------------------------------------------------------------- helpers
def choose_in_menu(text: str, seen: list | None = None):
    """When a context menu pops up, note its entries in ``seen`` and choose ``text``
    with the keyboard (or close it when ``text`` is None or disabled)."""

    def pick():
        menu = QApplication.activePopupWidget()
        if menu is None:
            QTimer.singleShot(10, pick)
            return
        actions = {a.text().split("\t")[0]: a for a in menu.actions() if a.text()}
        if seen is not None:
            seen.append({name: a.isEnabled() for name, a in actions.items()})
        action = actions.get(text)
        if action is None or not action.isEnabled():
            menu.close()
            return
        menu.setActiveAction(action)
        QTest.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(0, pick)


def right_click(qtbot, widget, text: str | None, point: QPoint | None = None) -> dict:
    """Right-click ``widget`` like a user and choose ``text`` in the menu; returns the
    menu's entries (name: enabled)."""
    seen: list = []
    choose_in_menu(text, seen)
    point = point or widget.rect().center()
    QTest.mouseClick(widget, RIGHT, NO_MOD, point)  # QTest leaves out the menu event
    menu_event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, widget.mapToGlobal(point))
    QApplication.sendEvent(widget, menu_event)
    settle(qtbot)
    assert seen, "no context menu opened"
    return seen[0]


def inspect(qtbot, window, node_id):
    click(window, node_id)
    qtbot.waitUntil(lambda: window.inspector.node_id == node_id)
    return window.inspector


def type_into(qtbot, field, text: str):
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)


def steps(window) -> int:
    return window.document.undo_stack.count()


def block_param_names(window, type_name="Widen") -> list[str]:
    return [p.name for p in window.document.project.blocks.get(type_name).params]


# ----------------------------------------------------------------- expose
def test_exposing_an_inner_parameter_lets_each_instance_set_it(window, qtbot):
    before, count = dumps(window), steps(window)
    double_click(qtbot, window, "r1")
    inspector = inspect(qtbot, window, "conv")
    answer_name_dialog("channels")
    field = inspector.fields["out_channels"].editor
    entries = right_click(qtbot, field.lineEdit(), block_params.EXPOSE)
    assert entries[block_params.EXPOSE] and "Copy" in "".join(entries)  # the field's own too
    assert block_param_names(window) == ["channels"]
    assert window.document.project.blocks.get("Widen").param("channels").default == 8
    assert steps(window) == count + 1
    assert inspector.name_labels["out_channels"].text() == "out_channels ← channels"
    assert not field.isEnabled()
    key(qtbot, window, Qt.Key.Key_Escape)
    key(qtbot, window, Qt.Key.Key_Escape)  # back up to the network
    inspector = inspect(qtbot, window, "r1")
    assert list(inspector.fields) == ["channels"]
    type_into(qtbot, inspector.fields["channels"].editor, "5")
    assert shape_on(window, "r1") == "(5, 6, 6)"
    assert shape_on(window, "r2") == "(8, 6, 6)"  # the other instance keeps its own
    assert steps(window) == count + 2
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dumps(window) == before
    assert list(inspector.fields) == []  # the Inspector follows the type's parameters


def test_stop_exposing_from_the_greyed_field_gives_the_layer_its_own_value(window, qtbot):
    window.palette_panel.add_requested.emit("ConvBNReLU")  # its conv reads channels
    settle(qtbot)
    placed = window.document.network.nodes[-1].id
    double_click(qtbot, window, placed)
    inspector = inspect(qtbot, window, "conv")
    count = steps(window)
    label = inspector.name_labels["out_channels"]
    assert label.text() == "out_channels ← channels"
    field = inspector.fields["out_channels"].editor
    assert not field.isEnabled()
    entries = right_click(qtbot, field.lineEdit(), block_params.STOP)
    assert block_params.EXPOSE not in entries
    assert "channels" not in block_param_names(window, "ConvBNReLU")  # nothing else read it
    assert "out_channels" not in window.scene.network.node("conv").bind
    assert steps(window) == count + 1
    assert label.text() == "out_channels"
    assert field.isEnabled()
    assert inspector.fields["out_channels"].editor.text() == "64"  # the block's default


def test_a_second_layer_can_share_a_block_parameter_of_the_same_kind(window, qtbot):
    double_click(qtbot, window, "r1")
    inspector = inspect(qtbot, window, "conv")
    block_params.expose(inspector, "kernel_size", "k")
    commands_add = window.add_layer_at_centre("Conv2d")
    inspector = inspect(qtbot, window, commands_add)
    shared = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, answer)
            return
        combo = dialog.combo
        shared["offered"] = [combo.itemText(i) for i in range(combo.count())]
        combo.setCurrentIndex(0)
        shared["note"] = dialog.note.text()
        edit = dialog.findChild(QLineEdit)
        QTest.keyClick(edit, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)
    right_click(qtbot, inspector.name_labels["kernel_size"], block_params.EXPOSE)
    assert shared["offered"] == ["k"]
    assert shared["note"] == "Shares Widen's parameter k (default 3)."
    assert block_param_names(window) == ["k"]
    assert inspector.name_labels["kernel_size"].text() == "kernel_size ← k"


def test_the_expose_dialog_says_why_a_name_is_refused(window, qtbot):
    double_click(qtbot, window, "r1")
    inspector = inspect(qtbot, window, "conv")
    block_params.expose(inspector, "bias", "use_bias")  # a bool
    dialog = block_params.ExposeDialog(inspector, window.scene.network, "conv", "out_channels")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert ok.isEnabled() and "Adds the parameter out_channels" in dialog.note.text()
    dialog.combo.setEditText("use_bias")
    assert not ok.isEnabled() and "cannot read it" in dialog.note.text()
    dialog.combo.setEditText("2x")
    assert not ok.isEnabled()
    assert [dialog.combo.itemText(i) for i in range(dialog.combo.count())] == []


def test_outside_a_block_and_for_a_shape_there_is_nothing_to_expose(window, qtbot):
    inspector = inspect(qtbot, window, "fc")
    assert block_params.row_menu(inspector, "out_features") is None
    double_click(qtbot, window, "r1")
    inspector = inspect(qtbot, window, "x")  # the block's Input: its shape is not a setting
    entries = right_click(qtbot, inspector.name_labels["shape"], None)
    assert entries[block_params.EXPOSE] is False


# ----------------------------------------------------------------- rename
def block_types_shown(window) -> dict[str, str]:
    return {n.id: window.scene.node_item(n.id).type_name for n in window.scene.network.nodes}


def test_renaming_a_block_type_from_the_palette_renames_every_instance(window, qtbot):
    before, count = dumps(window), steps(window)
    palette = window.palette_panel
    item = next(i for i in palette.block_items() if i.text(0) == "Widen")
    palette.tree.scrollToItem(item)
    answer_name_dialog("Wide")
    entries = right_click(
        qtbot,
        palette.tree.viewport(),
        "Rename Block Type…",
        palette.tree.visualItemRect(item).center(),
    )
    assert entries == {"Rename Block Type…": True}
    assert steps(window) == count + 1
    shown = block_types_shown(window)
    assert shown["r1"] == shown["r2"] == "Wide"
    pair = window.document.project.blocks.get("Pair").network
    assert [n.type for n in pair.nodes] == ["Input", "Wide", "Wide", "Output"]
    qtbot.waitUntil(lambda: [i.text(0) for i in palette.block_items()][:2] == ["Wide", "Pair"])
    assert shape_on(window, "r2") == "(8, 6, 6)"
    builtin = next(i for i in palette.block_items() if i.text(0) == "BasicBlock")
    assert palette.block_menu(builtin) is None  # only the project's own types rename
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dumps(window) == before
    assert block_types_shown(window)["r1"] == "Widen"


def test_renaming_from_an_instance_shows_the_new_name_inside_other_blocks(window, qtbot):
    menu_action(window, "p", "Expand in Place").trigger()  # p's miniature holds two Widens
    settle(qtbot)
    answer_name_dialog("Wide")
    menu_action(window, "r2", "Rename Block Type…").trigger()
    settle(qtbot)
    assert block_types_shown(window)["r1"] == "Wide"
    window.view.viewport().grab()  # the opened Pair draws its renamed inside
    double_click(qtbot, window, "p")
    assert block_types_shown(window)["w1"] == block_types_shown(window)["w2"] == "Wide"


def test_renaming_the_entered_block_from_the_breadcrumb_stays_inside(window, qtbot):
    double_click(qtbot, window, "r1")
    label = window.breadcrumb.items[-1]
    answer_name_dialog("Wide")
    right_click(qtbot, label, "Rename Block Type…")
    qtbot.waitUntil(lambda: window.breadcrumb.names == ["model", "r1 (Wide)"])
    assert window.scene.network is window.document.project.blocks.get("Wide").network
    click(window, "relu")
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)  # an edit inside reaches the renamed type
    assert window.scene.network.node("relu").pos == (550, 0)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # the rename: still inside, named as before
    qtbot.waitUntil(lambda: window.breadcrumb.names == ["model", "r1 (Widen)"])
    assert window.scene.network is window.document.project.blocks.get("Widen").network
    key(qtbot, window, Qt.Key.Key_Y, CTRL)
    key(qtbot, window, Qt.Key.Key_Y, CTRL)
    assert window.document.project.blocks.get("Wide").network.node("relu").pos == (550, 0)


# ----------------------------------------------------------------- Tab search
def test_tab_search_lists_blocks_and_places_them_in_one_step(window, qtbot):
    before, count = dumps(window), steps(window)
    view, popup = window.view, window.view.popup
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert popup.isVisible()
    QTest.keyClicks(popup.edit, "wid")
    assert popup.visible_types()[0] == "Widen"  # the project's block
    assert popup.list.item(0).text() == "Widen  · block"
    popup.edit.clear()
    QTest.keyClicks(popup.edit, "basicb")
    assert popup.visible_types()[0] == "BasicBlock"  # a built-in one
    QTest.keyClick(popup.edit, Qt.Key.Key_Return)
    settle(qtbot)
    placed = window.document.network.nodes[-1]
    assert placed.type == "BasicBlock" and placed.is_block
    assert window.scene.selected_node_ids() == [placed.id]
    assert steps(window) == count + 1
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # the type came with it and goes with it
    assert dumps(window) == before


def test_inside_a_block_tab_search_leaves_out_the_blocks_that_hold_it(window, qtbot):
    double_click(qtbot, window, "p")
    double_click(qtbot, window, "w1")  # inside Widen, inside Pair
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    offered = window.view.popup.visible_types()
    assert "Linear" in offered and "BasicBlock" in offered
    assert "Widen" not in offered and "Pair" not in offered
    window.view.popup.close_popup()
    key(qtbot, window, Qt.Key.Key_Escape)
    QTest.keyClick(window.view, Qt.Key.Key_Tab)  # inside Pair: Widen may go in
    offered = window.view.popup.visible_types()
    assert "Widen" in offered and "Pair" not in offered
    QTest.keyClicks(window.view.popup.edit, "Widen")
    QTest.keyClick(window.view.popup.edit, Qt.Key.Key_Return)
    settle(qtbot)
    assert [n.type for n in window.scene.network.nodes].count("Widen") == 3


# ----------------------------------------------------------------- nudges
def test_arrow_nudges_inside_a_block_are_one_undo_step(window, qtbot):
    double_click(qtbot, window, "r1")
    click(window, "relu")
    count = steps(window)
    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_Right)
    key(qtbot, window, Qt.Key.Key_Down, SHIFT)
    relu = window.scene.network.node("relu")
    assert relu.pos == (530, 50)
    assert steps(window) == count + 1
    assert window.document.undo_stack.undoText().endswith("(in Widen)")
    click(window, "conv")
    key(qtbot, window, Qt.Key.Key_Left)  # other nodes: a step of their own
    assert steps(window) == count + 2
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert relu.pos == (500, 0)


# ----------------------------------------------------------------- lost ports
def test_a_block_that_loses_ports_wires_still_end_on_keeps_them_drawn(window, qtbot):
    from nodeeditor import commands

    double_click(qtbot, window, "r1")
    inside = window.scene.document
    outs = []
    for i in range(4):  # four more outputs, each wired to a ReLU outside
        outs.append(commands.add_node(inside, "Output", (750, 150 * (i + 1))))
        commands.connect(inside, "conv", "out", outs[-1], "in")
    key(qtbot, window, Qt.Key.Key_Escape)
    page = window.document.current
    for i, port in enumerate(outs):
        relu = commands.add_node(page, "ReLU", (500, 300 + 150 * i))
        commands.connect(page, "r1", port, relu, "in")
    settle(qtbot)
    before = dumps(window)
    double_click(qtbot, window, "r1")
    window.scene.select_nodes(outs)
    key(qtbot, window, Qt.Key.Key_Delete)  # the type loses four ports; the wires stay
    key(qtbot, window, Qt.Key.Key_Escape)
    settle(qtbot)
    item = window.scene.node_item("r1")
    assert list(item.outputs) == ["out", *outs]
    assert all(p.pos().y() < item.body_rect().bottom() for p in item.outputs.values())
    stack = window.document.undo_stack
    for _ in range(3):  # undo and redo the deletion
        stack.undo()
        window.view.viewport().grab()
        stack.redo()
        settle(qtbot)
        window.view.viewport().grab()
    assert list(item.outputs) == ["out", *outs]
    menu_action(window, "r1", "Expand in Place").trigger()  # open, it still has them
    settle(qtbot)
    window.view.viewport().grab()
    assert list(item.outputs) == ["out", *outs] and item.mini is not None
    assert all(p.pos().y() < item.body_rect().bottom() for p in item.outputs.values())
    stack.undo()  # closed again
    stack.undo()  # the deletion: the ports are the type's again
    settle(qtbot)
    assert dumps(window) == before
    assert list(window.scene.node_item("r1").outputs) == ["out", *outs]
