"""The canvas driven like a user does: mouse drags between ports, keys, the popup."""

import itertools

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from engine.project import dumps
from nodeeditor import commands
from nodeeditor.canvas.scene import NetworkScene
from nodeeditor.canvas.view import FIT_MIN_ZOOM, NetworkView
from nodeeditor.document import Document

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


class Canvas:
    """A shown view on a fresh document, with helpers to act on it."""

    def __init__(self, qtbot, document=None):
        self.qtbot = qtbot
        self.doc = document or Document()
        self.scene = NetworkScene(self.doc)
        self.view = NetworkView(self.scene)
        self.view.resize(1100, 700)
        qtbot.addWidget(self.view)
        self.view.show()
        qtbot.waitExposed(self.view)
        self.view.centerOn(QPointF(450, 100))
        self.messages = []
        self.scene.message.connect(self.messages.append)

    @property
    def viewport(self):
        return self.view.viewport()

    def port(self, node_id, name, output):
        item = self.scene.node_item(node_id)
        port = (item.outputs if output else item.inputs)[name]
        return self.view.mapFromScene(port.scenePos())

    def node_point(self, node_id):
        item = self.scene.node_item(node_id)
        return self.view.mapFromScene(item.mapToScene(item.body_rect().center()))

    def drag(self, start: QPoint, end: QPoint, modifier=NO_MOD):
        QTest.mousePress(self.viewport, LEFT, modifier, start)
        for k in range(1, 5):
            QTest.mouseMove(self.viewport, start + (end - start) * (k / 4))
        QTest.mouseRelease(self.viewport, LEFT, modifier, end)
        self.settle()

    def click(self, point: QPoint, modifier=NO_MOD):
        QTest.mouseClick(self.viewport, LEFT, modifier, point)

    def key(self, key, modifier=NO_MOD):
        QTest.keyClick(self.view, key, modifier)
        self.settle()

    def settle(self):
        """Let the document's coalesced analysis run."""
        self.qtbot.wait(1)

    def wire(self, src, dst, dst_port="in"):
        self.drag(self.port(src, "out", True), self.port(dst, dst_port, False))


@pytest.fixture
def canvas(qtbot):
    c = Canvas(qtbot)
    yield c
    c.scene.detach()


def mlp_nodes(doc):
    return [
        commands.add_node(doc, "Input", (0, 0), {"shape": [64]}),
        commands.add_node(doc, "Linear", (230, 0)),
        commands.add_node(doc, "ReLU", (460, 0)),
        commands.add_node(doc, "Linear", (690, 0), {"out_features": 10}),
        commands.add_node(doc, "Output", (920, 0)),
    ]


def test_draw_the_mlp_with_the_mouse_then_undo_and_redo_everything(canvas):
    empty = dumps(canvas.doc.project)
    ids = mlp_nodes(canvas.doc)
    stack = canvas.doc.undo_stack
    for src, dst in itertools.pairwise(ids):
        canvas.wire(src, dst)
    assert stack.count() == 5 + 4
    drawn = dumps(canvas.doc.project)
    assert len(canvas.doc.network.wires) == 4
    assert canvas.doc.analysis.ok
    assert canvas.scene.wire_item(canvas.doc.network.wires[0]) is not None
    assert canvas.scene.node_item(ids[3]).shape_text == "(10,)"
    labels = {w.src: canvas.scene.wire_item(w).label for w in canvas.doc.network.wires}
    assert labels[ids[1]] == "(32,)"  # shapes leave the batch out
    texts = []
    while stack.canUndo():
        texts.append(dumps(canvas.doc.project))
        stack.undo()
    assert not canvas.doc.network.nodes and not canvas.scene.items()
    assert dumps(canvas.doc.project) == empty
    for expected in reversed(texts):
        stack.redo()
        assert dumps(canvas.doc.project) == expected
    assert dumps(canvas.doc.project) == drawn
    assert len(canvas.scene.node_items()) == 5


def test_ports_that_accept_a_dragged_wire_are_highlighted(canvas):
    _a, b, c = (
        commands.add_node(canvas.doc, t, (230 * k, 0))
        for k, t in enumerate(["Input", "ReLU", "Output"])
    )
    start = canvas.port(b, "out", True)
    QTest.mousePress(canvas.viewport, LEFT, NO_MOD, start)
    QTest.mouseMove(canvas.viewport, start + QPoint(40, 60))
    ports = [p for item in canvas.scene.node_items() for p in item.ports()]
    accepting = {(p.node_id, p.name) for p in ports if p.accepting}
    assert accepting == {(c, "in")}  # not b itself, not the Input
    QTest.mouseRelease(canvas.viewport, LEFT, NO_MOD, canvas.port(c, "in", False))
    assert [str(w) for w in canvas.doc.network.wires] == [f"{b}.out -> {c}.in"]
    assert not canvas.scene.node_item(c).inputs["in"].accepting


@pytest.mark.parametrize("target", ["same node", "an Input"])
def test_a_refused_wire_says_why_and_adds_nothing(canvas, target):
    a = commands.add_node(canvas.doc, "Input", (0, 0))
    b = commands.add_node(canvas.doc, "Linear", (300, 0))
    count = canvas.doc.undo_stack.count()
    end = canvas.port(b, "in", False) if target == "same node" else canvas.node_point(a)
    canvas.drag(canvas.port(b, "out", True), end)
    assert not canvas.doc.network.wires and canvas.doc.undo_stack.count() == count
    reason = "itself" if target == "same node" else "takes no input"
    assert any(reason in m for m in canvas.messages)


def test_dropping_on_a_wired_input_replaces_the_wire_in_one_step(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0))
    b = commands.add_node(canvas.doc, "Input", (0, 200))
    r = commands.add_node(canvas.doc, "ReLU", (300, 100))
    canvas.wire(a, r)
    count = canvas.doc.undo_stack.count()
    canvas.wire(b, r)
    assert canvas.doc.network.wire_into(r, "in").src == b
    assert len(canvas.scene.wire_items()) == 1 and canvas.doc.undo_stack.count() == count + 1


def test_a_shape_error_marks_the_node_until_it_is_fixed(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0), {"shape": [1, 8, 8]})
    fc = commands.add_node(canvas.doc, "Linear", (460, 0))
    canvas.wire(a, fc)
    item = canvas.scene.node_item(fc)
    assert item.mark == "error" and "Flatten" in item.toolTip()
    flat = commands.add_node(canvas.doc, "Flatten", (230, 200))
    canvas.wire(a, flat)
    canvas.wire(flat, fc)  # replaces input1 -> fc
    assert item.mark != "error" and item.shape_text == "(32,)"
    assert item.params_text == "2,080 params"


def test_tab_opens_the_search_and_enter_adds_the_layer(canvas):
    canvas.view.setFocus()
    canvas.key(Qt.Key.Key_Tab)
    assert canvas.view.popup.isVisible()
    QTest.keyClicks(canvas.view.popup.edit, "relu")
    assert canvas.view.popup.visible_types()[0] == "ReLU"
    assert "LeakyReLU" in canvas.view.popup.visible_types()
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Return)
    assert [n.type for n in canvas.doc.network.nodes] == ["ReLU"]
    assert not canvas.view.popup.isVisible()
    canvas.key(Qt.Key.Key_Tab)
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Escape)
    assert not canvas.view.popup.isVisible() and len(canvas.doc.network) == 1


def test_double_click_on_empty_canvas_opens_the_search_there(canvas):
    point = canvas.view.mapFromScene(QPointF(300, 300))
    QTest.mouseDClick(canvas.viewport, LEFT, NO_MOD, point)
    assert canvas.view.popup.isVisible()
    QTest.keyClicks(canvas.view.popup.edit, "dropout")
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Return)
    (node,) = canvas.doc.network.nodes
    assert node.type.startswith("Dropout") and node.pos == (300.0, 300.0)


def test_a_wire_dropped_on_empty_canvas_offers_only_fitting_layers(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0), {"shape": [1, 8, 8]})
    canvas.settle()
    canvas.drag(canvas.port(a, "out", True), canvas.view.mapFromScene(QPointF(500, 300)))
    offered = canvas.view.popup.visible_types()
    assert canvas.view.popup.isVisible()
    assert "Flatten" in offered and "ReLU" in offered
    assert "Linear" not in offered and "Input" not in offered  # (1, 8, 8) is not flat
    QTest.keyClicks(canvas.view.popup.edit, "flatten")
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Return)
    (wire,) = canvas.doc.network.wires
    assert wire.src == a and canvas.doc.network.node(wire.dst).type == "Flatten"
    count = canvas.doc.undo_stack.count()
    canvas.doc.undo_stack.undo()
    assert len(canvas.doc.network) == 1 and count == 2  # add + wire was one step


def test_delete_a_node_with_its_wires_then_undo(canvas):
    ids = mlp_nodes(canvas.doc)
    for src, dst in itertools.pairwise(ids):
        commands.connect(canvas.doc, src, "out", dst, "in")
    before = dumps(canvas.doc.project)
    canvas.click(canvas.node_point(ids[2]))
    assert canvas.scene.selected_node_ids() == [ids[2]]
    canvas.key(Qt.Key.Key_Delete)
    assert ids[2] not in canvas.doc.network and len(canvas.doc.network.wires) == 2
    assert canvas.scene.node_item(ids[2]) is None and len(canvas.scene.wire_items()) == 2
    canvas.doc.undo_stack.undo()
    assert dumps(canvas.doc.project) == before and len(canvas.scene.wire_items()) == 4


def test_clicking_a_wire_selects_it_and_delete_removes_it(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0))
    b = commands.add_node(canvas.doc, "ReLU", (400, 200))
    wire = commands.connect(canvas.doc, a, "out", b, "in")
    item = canvas.scene.wire_item(wire)
    middle = item.path().pointAtPercent(0.5)
    canvas.click(canvas.view.mapFromScene(middle))
    assert canvas.scene.selected_wires() == [wire]
    canvas.key(Qt.Key.Key_Delete)
    assert not canvas.doc.network.wires and len(canvas.doc.network) == 2


def test_copy_and_paste_between_two_windows_through_the_clipboard(canvas, qtbot):
    ids = mlp_nodes(canvas.doc)
    commands.connect(canvas.doc, ids[1], "out", ids[2], "in")
    canvas.scene.select_nodes(ids[1:3])
    canvas.key(Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    other = Canvas(qtbot)
    commands.add_node(other.doc, "Linear", (0, 0))  # takes the id linear1
    other.key(Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    types = sorted(n.type for n in other.doc.network.nodes)
    assert types == ["Linear", "Linear", "ReLU"]
    assert len({n.id for n in other.doc.network.nodes}) == 3
    (wire,) = other.doc.network.wires
    assert set(other.scene.selected_node_ids()) == {wire.src, wire.dst}
    assert other.doc.undo_stack.count() == 2
    other.scene.detach()


def test_ctrl_d_duplicates_the_selection(canvas):
    ids = mlp_nodes(canvas.doc)
    canvas.scene.select_nodes(ids[:2])
    canvas.key(Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(canvas.doc.network) == 7 and len(canvas.scene.selected_node_ids()) == 2


def test_moving_several_nodes_is_one_undo_step(canvas):
    ids = mlp_nodes(canvas.doc)
    for node_id in ids[:3]:
        canvas.click(canvas.node_point(node_id), Qt.KeyboardModifier.ControlModifier)
    assert canvas.scene.selected_node_ids() == ids[:3]
    count = canvas.doc.undo_stack.count()
    start = canvas.node_point(ids[1])
    canvas.drag(start, start + QPoint(0, 150))
    assert canvas.doc.undo_stack.count() == count + 1
    moved = [canvas.doc.network.node(i).pos[1] for i in ids]
    assert moved[0] == moved[1] == moved[2] > 100 and moved[3] == 0
    canvas.doc.undo_stack.undo()
    assert [canvas.doc.network.node(i).pos[1] for i in ids] == [0] * 5
    assert canvas.scene.node_item(ids[0]).pos().y() == 0


def test_rubber_band_selects_the_nodes_inside_it(canvas):
    ids = mlp_nodes(canvas.doc)
    top_left = canvas.view.mapFromScene(QPointF(-30, -60))
    bottom_right = canvas.view.mapFromScene(QPointF(430, 160))
    canvas.drag(top_left, bottom_right)
    assert canvas.scene.selected_node_ids() == ids[:2]


def test_a_node_dropped_onto_a_wire_is_inserted_into_it(canvas):
    ids = mlp_nodes(canvas.doc)
    for src, dst in itertools.pairwise(ids):
        commands.connect(canvas.doc, src, "out", dst, "in")
    drop = commands.add_node(canvas.doc, "Dropout", (230, 300))
    count = canvas.doc.undo_stack.count()
    wire_item = canvas.scene.wire_item(canvas.doc.network.wire_into(ids[2], "in"))
    target = canvas.view.mapFromScene(wire_item.path().pointAtPercent(0.5))
    start = canvas.node_point(drop)
    QTest.mousePress(canvas.viewport, LEFT, NO_MOD, start)
    QTest.mouseMove(canvas.viewport, start + (target - start) / 2)
    QTest.mouseMove(canvas.viewport, target)
    assert wire_item.highlighted  # shows where the node would go
    QTest.mouseRelease(canvas.viewport, LEFT, NO_MOD, target)
    assert not wire_item.highlighted
    assert canvas.doc.network.wire_into(drop, "in").src == ids[1]
    assert canvas.doc.network.wire_into(ids[2], "in").src == drop
    assert canvas.doc.undo_stack.count() == count + 1


def test_a_layer_dropped_from_the_palette_is_added_there(canvas):
    drop_layer(canvas, "Tanh", QPointF(200, 200))
    (node,) = canvas.doc.network.nodes
    assert node.type == "Tanh"
    item = canvas.scene.node_item(node.id)
    assert item.mapRectToScene(item.body_rect()).contains(QPointF(200, 200))


def test_zoom_fit_and_minimap_move_the_view(canvas):
    for k in range(12):
        commands.add_node(canvas.doc, "ReLU", (k * 600, (k % 3) * 400))
    canvas.view.resetTransform()
    canvas.view.centerOn(QPointF(0, 0))
    canvas.settle()
    minimap = canvas.view.minimap
    assert minimap.isVisible()
    before = canvas.view.visible_scene_rect().center()
    QTest.mouseClick(minimap, LEFT, NO_MOD, QPoint(minimap.width() - 10, minimap.height() // 2))
    after = canvas.view.visible_scene_rect().center()
    assert after.x() > before.x() + 1000
    zoom = canvas.view.zoom()
    canvas.view.zoom_in()
    assert canvas.view.zoom() > zoom
    canvas.key(Qt.Key.Key_F)  # too wide to fit at a readable zoom: shown from its start
    assert canvas.view.zoom() == pytest.approx(FIT_MIN_ZOOM)
    shown = canvas.view.visible_scene_rect()
    assert shown.contains(
        canvas.scene.node_item(canvas.doc.network.nodes[0].id).sceneBoundingRect()
    )
    assert minimap.isVisible()
    for node in canvas.doc.network.nodes[2:]:
        commands.remove_nodes(canvas.doc, [node.id])
    canvas.key(Qt.Key.Key_F)
    assert canvas.view.visible_scene_rect().contains(canvas.scene.itemsBoundingRect())
    assert not minimap.isVisible()


def test_auto_layout_is_one_step_and_orders_the_flow(canvas):
    ids = mlp_nodes(canvas.doc)
    for k, node_id in enumerate(reversed(ids)):
        commands.move_nodes(canvas.doc, {node_id: (k * 50, k * 80)})
    for src, dst in itertools.pairwise(ids):
        commands.connect(canvas.doc, src, "out", dst, "in")
    count = canvas.doc.undo_stack.count()
    canvas.view.auto_layout()
    xs = [canvas.scene.node_item(i).pos().x() for i in ids]
    assert xs == sorted(xs) and canvas.doc.undo_stack.count() == count + 1


def test_locked_canvas_refuses_edits_and_says_so(canvas):
    ids = mlp_nodes(canvas.doc)
    count = canvas.doc.undo_stack.count()
    canvas.scene.set_locked(True)
    canvas.scene.select_nodes(ids[:1])
    canvas.key(Qt.Key.Key_Delete)
    canvas.drag(canvas.port(ids[0], "out", True), canvas.port(ids[1], "in", False))
    start = canvas.node_point(ids[2])
    canvas.drag(start, start + QPoint(0, 100))
    assert canvas.doc.undo_stack.count() == count and len(canvas.doc.network) == 5
    assert any("locked" in m for m in canvas.messages)
    canvas.scene.set_locked(False)
    canvas.wire(ids[0], ids[1])
    assert len(canvas.doc.network.wires) == 1


def test_frozen_and_renamed_nodes_follow_the_network(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0))
    b = commands.add_node(canvas.doc, "Linear", (300, 0))
    commands.connect(canvas.doc, a, "out", b, "in")
    commands.set_trainable(canvas.doc, b, False)
    assert not canvas.scene.node_item(b).trainable
    commands.rename_node(canvas.doc, b, "head")
    assert canvas.scene.node_item(b) is None and canvas.scene.node_item("head") is not None
    (wire,) = canvas.doc.network.wires
    assert canvas.scene.wire_item(wire).dst_port.node_id == "head"
    canvas.doc.undo_stack.undo()
    assert canvas.scene.node_item(b) is not None


def drop_layer(canvas, type_name: str, scene_point: QPointF) -> None:
    """What the palette's drag does at the end: enter, then drop, with the layer mime."""
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setData("application/x-deepwire-layer", type_name.encode())
    point = canvas.view.mapFromScene(scene_point)
    copy = Qt.DropAction.CopyAction
    QApplication.sendEvent(canvas.viewport, QDragEnterEvent(point, copy, mime, LEFT, NO_MOD))
    QApplication.sendEvent(canvas.viewport, QDropEvent(QPointF(point), copy, mime, LEFT, NO_MOD))
    canvas.settle()


def test_a_layer_dropped_from_the_palette_onto_a_wire_goes_into_it(canvas):
    a = commands.add_node(canvas.doc, "Input", (0, 0))
    b = commands.add_node(canvas.doc, "Output", (600, 0))
    wire = commands.connect(canvas.doc, a, "out", b, "in")
    count = canvas.doc.undo_stack.count()
    drop_layer(canvas, "ReLU", canvas.scene.wire_item(wire).path().pointAtPercent(0.5))
    (relu,) = [n.id for n in canvas.doc.network.nodes if n.type == "ReLU"]
    assert canvas.doc.network.wire_into(relu, "in").src == a
    assert canvas.doc.network.wire_into(b, "in").src == relu
    assert canvas.doc.undo_stack.count() == count + 1


def test_a_wire_dragged_back_from_an_input_adds_a_feeding_layer(canvas):
    out = commands.add_node(canvas.doc, "Output", (600, 0))
    start = canvas.port(out, "in", False)
    canvas.drag(start, canvas.view.mapFromScene(QPointF(200, 250)))
    offered = canvas.view.popup.visible_types()
    assert "Input" in offered and "Output" not in offered
    QTest.keyClicks(canvas.view.popup.edit, "input")
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Return)
    (wire,) = canvas.doc.network.wires
    assert wire.dst == out and canvas.doc.network.node(wire.src).type == "Input"


def test_middle_drag_pans_and_the_wheel_zooms_around_the_cursor(canvas):
    commands.add_node(canvas.doc, "ReLU", (0, 0))
    before = canvas.view.visible_scene_rect().center()
    vp = canvas.viewport
    middle = Qt.MouseButton.MiddleButton
    QTest.mousePress(vp, middle, NO_MOD, QPoint(500, 300))
    QTest.mouseMove(vp, QPoint(400, 250))
    QTest.mouseRelease(vp, middle, NO_MOD, QPoint(400, 250))
    after = canvas.view.visible_scene_rect().center()
    assert after.x() - before.x() == pytest.approx(100, abs=2)
    assert after.y() - before.y() == pytest.approx(50, abs=2)
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    cursor = QPointF(300, 200)
    under = canvas.view.mapToScene(cursor.toPoint())
    QTest.mouseMove(vp, cursor.toPoint())
    wheel = QWheelEvent(
        cursor,
        QPointF(vp.mapToGlobal(cursor.toPoint())),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        NO_MOD,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    zoom = canvas.view.zoom()
    QApplication.sendEvent(vp, wheel)
    assert canvas.view.zoom() > zoom
    moved = canvas.view.mapToScene(cursor.toPoint()) - under
    assert abs(moved.x()) < 3 and abs(moved.y()) < 3


def test_the_context_menu_freezes_the_selected_nodes_in_one_step(canvas):
    ids = mlp_nodes(canvas.doc)
    canvas.scene.select_nodes(ids[1:4])
    item = canvas.scene.node_item(ids[1])
    menu = canvas.view.context_menu(item.mapToScene(item.body_rect().center()))
    actions = {a.text(): a for a in menu.actions()}
    assert {"Duplicate", "Delete", "Freeze weights"} <= set(actions)
    count = canvas.doc.undo_stack.count()
    actions["Freeze weights"].trigger()  # the two Linears; the ReLU has no weights
    assert [canvas.doc.network.node(i).trainable for i in ids] == [True, False, True, False, True]
    assert canvas.doc.undo_stack.count() == count + 1
    empty = canvas.view.context_menu(QPointF(300, 900))
    assert "Add layer…" in [a.text() for a in empty.actions()]
    assert canvas.scene.selected_node_ids() == ids[1:4]  # empty canvas keeps the selection
    canvas.scene.select_nodes([ids[2]])
    relu = canvas.view.context_menu(canvas.scene.node_item(ids[2]).scenePos())
    assert not any("reeze" in a.text() for a in relu.actions())


def test_paste_into_a_view_far_from_the_originals_lands_in_sight(canvas, qtbot):
    ids = mlp_nodes(canvas.doc)
    canvas.scene.select_nodes(ids[:2])
    canvas.view.copy_selection()
    other = Canvas(qtbot)
    other.view.centerOn(QPointF(5000, 3000))
    new = other.view.paste()
    for node_id in new:
        item = other.scene.node_item(node_id)
        assert other.view.visible_scene_rect().intersects(item.sceneBoundingRect())
    other.scene.detach()


def test_space_and_drag_pans_instead_of_selecting(canvas):
    ids = mlp_nodes(canvas.doc)
    before = canvas.view.visible_scene_rect().center()
    canvas.view.setFocus()
    QTest.keyPress(canvas.view, Qt.Key.Key_Space)
    start = canvas.node_point(ids[2])  # on a node: it must not move
    canvas.drag(start, start - QPoint(100, 0))
    QTest.keyRelease(canvas.view, Qt.Key.Key_Space)
    after = canvas.view.visible_scene_rect().center()
    assert after.x() - before.x() == pytest.approx(100, abs=2)
    assert not canvas.scene.selected_node_ids()
    assert canvas.doc.network.node(ids[2]).pos == (460.0, 0.0)


def test_clicking_a_listed_layer_in_the_search_adds_it(canvas):
    canvas.view.open_search_popup(QPointF(100, 100))
    popup = canvas.view.popup
    QTest.keyClicks(popup.edit, "activation")  # a family name matches too
    names = popup.visible_types()
    assert "ReLU" in names and "Linear" not in names
    row = names.index("Tanh")
    rect = popup.list.visualItemRect(popup.list.item(row))
    QTest.mouseClick(popup.list.viewport(), LEFT, NO_MOD, rect.center())
    assert [n.type for n in canvas.doc.network.nodes] == ["Tanh"]


def test_ports_hide_when_zoomed_too_far_out_to_hit_them(canvas):
    (node_id,) = [commands.add_node(canvas.doc, "ReLU", (0, 0))]
    port = canvas.scene.node_item(node_id).inputs["in"]
    for _ in range(12):
        canvas.view.zoom_out()
    assert not port.isVisible()
    later = canvas.scene.node_item(commands.add_node(canvas.doc, "Tanh", (300, 0)))
    assert not later.inputs["in"].isVisible()
    for _ in range(12):
        canvas.view.zoom_in()
    assert port.isVisible() and later.inputs["in"].isVisible()


def test_arrow_keys_nudge_the_selection_and_repeated_nudges_are_one_step(canvas):
    ids = mlp_nodes(canvas.doc)
    canvas.scene.select_nodes(ids[:2])
    count = canvas.doc.undo_stack.count()
    canvas.view.setFocus()
    for _ in range(3):
        canvas.key(Qt.Key.Key_Right)
    canvas.key(Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert canvas.doc.network.node(ids[0]).pos == (30.0, 50.0)
    assert canvas.scene.node_item(ids[1]).pos() == QPointF(260, 50)
    assert canvas.doc.undo_stack.count() == count + 1
    canvas.doc.undo_stack.undo()
    assert canvas.doc.network.node(ids[0]).pos == (0.0, 0.0)
    canvas.scene.select_nodes(ids[2:3])
    canvas.key(Qt.Key.Key_Left)  # other nodes: a new step
    assert canvas.doc.undo_stack.count() == count + 1


def test_double_clicking_a_node_activates_it_without_opening_the_search(canvas):
    node_id = commands.add_node(canvas.doc, "Linear", (0, 0))
    activated = []
    canvas.scene.node_activated.connect(activated.append)
    QTest.mouseDClick(canvas.viewport, LEFT, NO_MOD, canvas.node_point(node_id))
    assert activated == [node_id] and not canvas.view.popup.isVisible()
