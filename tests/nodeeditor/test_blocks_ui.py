"""Blocks in the window, driven like a user: select, Ctrl+G, double-click to enter,
edit inside, the breadcrumb and Esc to go back, Ctrl+Shift+G, the context menu, the
palette's Blocks group."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from engine import project as project_file
from nodeeditor import block_library, commands
from nodeeditor.canvas.block_item import TOGGLE, BlockItem
from nodeeditor.document import Document
from tests.nodeeditor.app_helpers import ROOT, close_window, drop_on_view, open_window

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
RESIDUAL = ["conv_a", "bn_a", "act_a", "conv_b", "bn_b", "skip", "act"]


def node(node_id, type_name, params, x, y=0, **extra):
    return {"id": node_id, "type": type_name, "params": params, "pos": [x, y], **extra}


def edge(src, dst, port="in"):
    return {"from": [src, "out"], "to": [dst, port]}


WIDEN = {  # a block: x -> conv -> relu -> out; its conv sets the channels
    "help": "Conv and ReLU",
    "params": [],
    "nodes": [
        node("x", "Input", {"shape": [4, 6, 6]}, 0),
        node("conv", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}, 250),
        node("relu", "ReLU", {}, 500),
        node("out", "Output", {}, 750),
    ],
    "edges": [edge("x", "conv"), edge("conv", "relu"), edge("relu", "out")],
}
PAIR = {  # a block holding two Widen blocks
    "params": [],
    "nodes": [
        node("x", "Input", {"shape": [4, 6, 6]}, 0),
        node("w1", "Widen", {}, 250),
        node("w2", "Widen", {}, 500),
        node("out", "Output", {}, 750),
    ],
    "edges": [edge("x", "w1", "x"), edge("w1", "w2", "x"), edge("w2", "out")],
}


def blocks_project(tmp_path):
    """input -> r1 (Widen) -> r2 (Widen) -> p (Pair) -> flat -> fc -> output."""
    data = {
        "format": "deepwire",
        "version": 2,
        "blocks": {"Widen": WIDEN, "Pair": PAIR},
        "networks": {
            "model": {
                "nodes": [
                    node("input", "Input", {"shape": [4, 6, 6]}, 0),
                    node("r1", "Widen", {}, 250),
                    node("r2", "Widen", {}, 500),
                    node("p", "Pair", {}, 750),
                    node("flat", "Flatten", {}, 1000),
                    node("fc", "Linear", {"out_features": 3}, 1250),
                    node("output", "Output", {}, 1500),
                ],
                "edges": [
                    edge("input", "r1", "x"),
                    edge("r1", "r2", "x"),
                    edge("r2", "p", "x"),
                    edge("p", "flat"),
                    edge("flat", "fc"),
                    edge("fc", "output"),
                ],
            }
        },
    }
    path = tmp_path / "blocks.dwire"
    path.write_text(json.dumps(data))
    return path


def open_blocks_window(qtbot, monkeypatch, tmp_path, path=None):
    """A fitted window on ``path`` (by default ``blocks_project``), with the user's
    block library in ``tmp_path``."""
    monkeypatch.setattr(block_library, "user_blocks_dir", lambda: tmp_path / "my_blocks")
    window = open_window(qtbot, monkeypatch, tmp_path, path or blocks_project(tmp_path))
    window.view.fit()
    return window


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_blocks_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


@pytest.fixture
def resnet(qtbot, monkeypatch, tmp_path):
    """A window on the bundled digits ResNet (one residual step, no blocks yet)."""
    path = ROOT / "resources/examples/digits_resnet.dwire"
    window = open_blocks_window(qtbot, monkeypatch, tmp_path, path)
    yield window
    close_window(window)


# ----------------------------------------------------------------- helpers
def point_of(window, node_id, where=None) -> QPoint:
    item = window.scene.node_item(node_id)
    local = item.body_rect().center() if where is None else where
    window.view.ensureVisible(item, 10, 10)
    return window.view.mapFromScene(item.mapToScene(local))


def click(window, node_id, modifier=NO_MOD, where=None):
    QTest.mouseClick(window.view.viewport(), LEFT, modifier, point_of(window, node_id, where))


def double_click(qtbot, window, node_id):
    point = point_of(window, node_id)
    QTest.mouseClick(window.view.viewport(), LEFT, NO_MOD, point)
    QTest.mouseDClick(window.view.viewport(), LEFT, NO_MOD, point)
    QTest.mouseRelease(window.view.viewport(), LEFT, NO_MOD, point)  # QTest leaves it down
    settle(qtbot)


def key(qtbot, window, key, modifier=NO_MOD):
    if not window.isActiveWindow():  # the menus' shortcuts need it (a dialog was active)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow)
    QTest.keyClick(window.view, key, modifier)
    settle(qtbot)


def settle(qtbot):
    """Let the coalesced analysis and the block refresh run."""
    qtbot.wait(5)


def answer_name_dialog(name: str):
    """When the block name dialog opens, type ``name`` and press Enter."""

    def answer():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, answer)
            return
        edit = dialog.findChild(QLineEdit)
        edit.selectAll()
        QTest.keyClicks(edit, name)
        QTest.keyClick(edit, Qt.Key.Key_Return)

    QTimer.singleShot(0, answer)


def menu_action(window, node_id, text):
    item = window.scene.node_item(node_id)
    menu = window.view.context_menu(item.mapToScene(item.body_rect().center()))
    actions = {a.text().split("\t")[0]: a for a in menu.actions()}
    return actions[text]


def dumps(window) -> str:
    return project_file.dumps(window.document.project)


def shape_on(window, node_id) -> str:
    return window.scene.node_item(node_id).shape_text


# ----------------------------------------------------------------- tests
def test_ctrl_click_then_ctrl_g_groups_in_one_step_and_ctrl_z_gives_back_the_file(resnet, qtbot):
    window = resnet
    before = dumps(window)
    click(window, RESIDUAL[0])
    for node_id in RESIDUAL[1:]:
        click(window, node_id, CTRL)
    assert window.scene.selected_node_ids() == RESIDUAL
    count = window.document.undo_stack.count()
    answer_name_dialog("Residual")
    key(qtbot, window, Qt.Key.Key_G, CTRL)
    network = window.document.network
    assert [n.type for n in network.nodes][3:6] == ["ReLU", "Residual", "AdaptiveAvgPool2d"]
    assert window.document.undo_stack.count() == count + 1
    item = window.scene.node_item("residual")
    assert isinstance(item, BlockItem) and item.isSelected()
    assert item.shape_text == "(16, 8, 8)" and item.params_text == "4,704 params"
    assert item.layer_count == 7
    assert "Residual" in [i.text(0) for i in window.palette_panel.block_items()]
    grouped = dumps(window)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dumps(window) == before
    assert window.scene.node_item("residual") is None
    qtbot.waitUntil(
        lambda: "Residual" not in [i.text(0) for i in window.palette_panel.block_items()]
    )
    key(qtbot, window, Qt.Key.Key_Y, CTRL)  # redo (Ctrl+Y on every platform)
    assert dumps(window) == grouped


def test_a_refused_group_says_why_and_asks_nothing(resnet, qtbot):
    window = resnet
    messages = []
    window.scene.message.connect(messages.append)
    click(window, "conv_a")
    click(window, "act", CTRL)  # bn_a, act_a... lie between them
    key(qtbot, window, Qt.Key.Key_G, CTRL)
    assert "lies on a path between the selected nodes" in messages[-1]
    assert window.document.undo_stack.count() == 0


def test_double_click_enters_and_an_edit_inside_changes_every_instance(window, qtbot):
    assert shape_on(window, "r1") == shape_on(window, "r2") == "(8, 6, 6)"
    double_click(qtbot, window, "r1")
    assert window.breadcrumb.isVisible()
    assert window.breadcrumb.names == ["model", "r1 (Widen)"]
    assert "every Widen (4 uses)" in window.breadcrumb.note.text()  # r1, r2, and two in Pair
    assert [n.id for n in window.scene.network.nodes] == ["x", "conv", "relu", "out"]
    assert shape_on(window, "conv") == "(8, 6, 6)"
    click(window, "conv")
    qtbot.waitUntil(lambda: window.inspector.node_id == "conv")
    field = window.inspector.fields["out_channels"].editor
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, "5")
    QTest.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)
    assert shape_on(window, "conv") == "(5, 6, 6)"
    assert window.document.undo_stack.text(window.document.undo_stack.index() - 1).endswith(
        "(in Widen)"
    )
    QTest.mouseClick(window.breadcrumb.items[0], LEFT)  # "model": back up
    settle(qtbot)
    assert not window.breadcrumb.isVisible()
    assert window.scene.network is window.document.network
    assert window.scene.selected_node_ids() == ["r1"]  # the block just left
    assert shape_on(window, "r1") == shape_on(window, "r2") == "(5, 6, 6)"
    assert window.document.analysis.shapes["p"] == (5, 6, 6)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # undo the edit made inside, from outside
    assert shape_on(window, "r1") == shape_on(window, "r2") == "(8, 6, 6)"


def test_an_error_inside_marks_the_block_and_its_inner_node(window, qtbot):
    double_click(qtbot, window, "r1")
    click(window, "relu")
    key(qtbot, window, Qt.Key.Key_Delete)  # conv no longer reaches the Output
    assert window.scene.node_item("out").mark == "error"
    key(qtbot, window, Qt.Key.Key_Escape)  # nothing selected: back up
    assert window.scene.node_item("r1").mark == "error"
    assert window.scene.node_item("r2").shape_text == ""  # nothing known after an error
    assert "inside Widen" in window.scene.node_item("r1").toolTip()


def test_nested_blocks_grow_the_breadcrumb_and_escape_goes_back_up(window, qtbot):
    double_click(qtbot, window, "p")
    assert window.breadcrumb.names == ["model", "p (Pair)"]
    double_click(qtbot, window, "w2")
    assert window.breadcrumb.names == ["model", "p (Pair)", "w2 (Widen)"]
    assert [n.id for n in window.scene.network.nodes] == ["x", "conv", "relu", "out"]
    assert shape_on(window, "x") == "(8, 6, 6)"  # what w1 hands to w2, not the example shape
    click(window, "conv")
    key(qtbot, window, Qt.Key.Key_Escape)  # the first Esc clears the selection
    assert window.breadcrumb.names[-1] == "w2 (Widen)"
    key(qtbot, window, Qt.Key.Key_Escape)
    assert window.breadcrumb.names == ["model", "p (Pair)"]
    assert window.scene.selected_node_ids() == ["w2"]
    key(qtbot, window, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert not window.breadcrumb.isVisible()
    assert window.scene.selected_node_ids() == ["p"]


def test_ctrl_shift_g_ungroups_and_ctrl_z_groups_again(window, qtbot):
    before = dumps(window)
    click(window, "r2")
    key(qtbot, window, Qt.Key.Key_G, CTRL | SHIFT)
    ids = [n.id for n in window.document.network.nodes]
    assert ids[:5] == ["input", "r1", "r2_conv", "r2_relu", "p"]
    assert window.scene.selected_node_ids() == ["r2_conv", "r2_relu"]
    assert window.document.analysis.shapes["p"] == (8, 6, 6)
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dumps(window) == before


def test_context_menu_makes_a_block_unique_and_opens_it_in_place(window, qtbot):
    before = dumps(window)
    menu_action(window, "r2", "Make Unique").trigger()
    settle(qtbot)
    assert window.document.network.node("r2").type == "Widen2"
    assert window.document.network.node("r1").type == "Widen"
    double_click(qtbot, window, "r2")
    assert "the one Widen2" in window.breadcrumb.note.text()
    key(qtbot, window, Qt.Key.Key_Escape)
    item = window.scene.node_item("r1")
    collapsed = item.body_rect()
    menu_action(window, "r1", "Expand in Place").trigger()
    settle(qtbot)
    assert window.document.network.node("r1").expanded
    assert item.mini is not None and len(item.mini.boxes) == 4 and len(item.mini.wires) == 3
    assert item.body_rect().width() > collapsed.width()
    assert item.outputs["out"].pos().x() == item.body_rect().width()  # wires follow
    right = item.sceneBoundingRect().right()  # the nodes after it made room, in one step
    assert window.scene.node_item("r2").sceneBoundingRect().left() > right
    assert window.document.network.node("input").pos == (0, 0)
    click(window, "r1", where=TOGGLE.center())  # the triangle closes it again
    settle(qtbot)
    assert not window.document.network.node("r1").expanded
    assert item.body_rect() == collapsed
    for _ in range(3):
        key(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert dumps(window) == before


def test_undoing_the_grouping_while_inside_goes_back_up(resnet, qtbot):
    window = resnet
    window.scene.select_nodes(RESIDUAL)
    answer_name_dialog("Res")
    key(qtbot, window, Qt.Key.Key_G, CTRL)
    double_click(qtbot, window, "res")
    assert window.breadcrumb.names == ["model", "res (Res)"]
    key(qtbot, window, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: not window.breadcrumb.isVisible())
    assert window.scene.network is window.document.network
    assert "res" not in window.document.network


def test_edits_inside_redo_onto_the_type_that_an_undone_grouping_rebuilt(resnet, qtbot):
    window = resnet
    window.scene.select_nodes(RESIDUAL)
    answer_name_dialog("Res")
    key(qtbot, window, Qt.Key.Key_G, CTRL)
    double_click(qtbot, window, "res")
    click(window, "act_a")
    key(qtbot, window, Qt.Key.Key_Right, SHIFT)  # move a node inside: one step
    key(qtbot, window, Qt.Key.Key_Escape)
    key(qtbot, window, Qt.Key.Key_Escape)
    edited = dumps(window)
    stack = window.document.undo_stack
    stack.undo()
    stack.undo()  # the grouping: the type is gone
    stack.redo()  # a new BlockType object, built from the file data
    stack.redo()  # the move inside must land on that one
    assert dumps(window) == edited


def test_palette_lists_blocks_and_places_them_by_double_click_and_drop(window, qtbot):
    palette = window.palette_panel
    names = [item.text(0) for item in palette.block_items()]
    assert names[:2] == ["Widen", "Pair"]
    assert "BasicBlock" in names  # a built-in one
    assert "Linear" not in names and "Widen" not in palette.visible_types()
    before = dumps(window)
    item = next(i for i in palette.block_items() if i.text(0) == "BasicBlock")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    QTest.mouseClick(palette.tree.viewport(), LEFT, NO_MOD, rect.center())
    QTest.mouseDClick(palette.tree.viewport(), LEFT, NO_MOD, rect.center())
    settle(qtbot)
    network = window.document.network
    placed = network.nodes[-1]
    assert placed.type == "BasicBlock" and placed.is_block
    assert "BasicBlock" in window.document.project.blocks
    assert window.scene.selected_node_ids() == [placed.id]
    key(qtbot, window, Qt.Key.Key_Z, CTRL)  # one step: the type goes with it
    assert dumps(window) == before
    widen = next(i for i in palette.block_items() if i.text(0) == "Widen")
    mime = palette.tree.mimeData([widen])
    drop_on_view(window.view, mime, QPoint(60, 60))
    settle(qtbot)
    assert window.document.network.nodes[-1].type == "Widen"


def test_a_block_cannot_be_placed_inside_itself(window, qtbot):
    double_click(qtbot, window, "p")
    window.add_layer_at_centre("Pair")
    assert "cannot be placed inside" in window.statusBar().currentMessage()
    assert [n.type for n in window.scene.network.nodes].count("Pair") == 0


def test_inspector_edits_a_blocks_parameters_and_shows_them_bound_inside(window, qtbot):
    window.palette_panel.add_requested.emit("ConvBNReLU")  # a built-in block
    settle(qtbot)
    placed = window.document.network.nodes[-1]
    qtbot.waitUntil(lambda: window.inspector.node_id == placed.id)
    inspector = window.inspector
    assert list(inspector.fields) == ["channels", "kernel_size", "stride", "padding"]
    assert "Blocks" in inspector.type_label.text()
    commands.connect(window.document.current, "r2", "out", placed.id, "x")  # (8, 6, 6) in
    click(window, placed.id)
    qtbot.waitUntil(lambda: inspector.node_id == placed.id)
    field = inspector.fields["channels"].editor
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, "5")
    QTest.keyClick(field, Qt.Key.Key_Return)
    settle(qtbot)
    assert window.document.network.node(placed.id).params["channels"] == 5
    assert "370 parameters" in inspector.result_label.text()  # 8*5*9 conv (no bias), 2*5 bn
    double_click(qtbot, window, placed.id)
    click(window, "conv")
    qtbot.waitUntil(lambda: inspector.node_id == "conv")
    assert inspector.name_labels["out_channels"].text() == "out_channels ← channels"
    assert inspector.fields["out_channels"].editor.text() == "5"  # this instance's value
    assert not inspector.fields["out_channels"].editor.isEnabled()
    assert inspector.fields["dilation"].editor.isEnabled()
    assert shape_on(window, "conv") == "(5, 6, 6)"


def test_save_block_to_my_library_lists_it_in_every_project(window, qtbot, tmp_path):
    menu_action(window, "r1", "Save Block to My Library").trigger()
    saved = tmp_path / "my_blocks" / "Widen.json"
    assert json.loads(saved.read_text())["nodes"][1]["id"] == "conv"
    (tmp_path / "my_blocks" / "Broken.json").write_text('{"nodes": [{"id": 1}]}')
    entries, problems = block_library.user_data()
    assert list(entries) == ["Widen"]
    assert problems and problems[0].startswith("Broken.json was left out")
    window.set_document(Document())  # another project: the palette offers the saved block
    names = [i.text(0) for i in window.palette_panel.block_items()]
    assert "Widen" in names
    window.add_layer_at_centre("Widen")
    assert "Widen" in window.document.project.blocks
