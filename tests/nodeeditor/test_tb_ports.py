"""A network drawn top to bottom has its inputs on the nodes' top edges and outputs on
their bottom edges: wires run down, skip connections go down a lane beside the column,
undo of the Auto-layout puts the ports back on the sides, and wiring by mouse works
from the bottom of one node to the top of another."""

import itertools

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from benchmarks.networks import flat_resnet50
from engine import project as project_file
from engine.layout import layered_positions
from engine.project import Project
from nodeeditor import commands
from nodeeditor.block_actions import set_expanded
from nodeeditor.canvas.block_item import BlockItem
from nodeeditor.document import Document
from tests.engine.builders import graph
from tests.nodeeditor.test_blocks_ui import blocks_project
from tests.nodeeditor.test_canvas import Canvas
from tests.nodeeditor.test_wire_routing import body, crossed, residual_block, routes, stroke_crosses


def laid_out(qtbot, network, direction="TB"):
    canvas = Canvas(qtbot, Document(Project({"model": network})))
    canvas.view.auto_layout(direction)
    return canvas


def edge_of(port) -> str:
    """Which edge of its node a port is on: "top", "bottom", "left", "right" or ""."""
    node = port.parentItem()
    rect = node.mapRectToScene(node.body_rect())
    p = port.scenePos()
    inside_x = rect.left() < p.x() < rect.right()
    inside_y = rect.top() < p.y() < rect.bottom()
    if inside_x and abs(p.y() - rect.top()) < 0.01:
        return "top"
    if inside_x and abs(p.y() - rect.bottom()) < 0.01:
        return "bottom"
    if inside_y and abs(p.x() - rect.left()) < 0.01:
        return "left"
    if inside_y and abs(p.x() - rect.right()) < 0.01:
        return "right"
    return ""


def edges(canvas) -> set[tuple[bool, str]]:
    """``(is_output, edge)`` of every port of the canvas."""
    items = [canvas.scene.node_item(n.id) for n in canvas.doc.network.nodes]
    return {(port.is_output, edge_of(port)) for item in items for port in item.ports()}


def end_tangents(path) -> tuple[QPointF, QPointF]:
    """The direction a wire leaves its start and enters its end."""
    count = path.elementCount()
    first, second = path.elementAt(0), path.elementAt(1)
    before, last = path.elementAt(count - 2), path.elementAt(count - 1)
    return QPointF(second.x - first.x, second.y - first.y), QPointF(
        last.x - before.x, last.y - before.y
    )


def test_after_auto_layout_top_to_bottom_ports_are_on_top_and_bottom_edges(qtbot):
    canvas = laid_out(qtbot, residual_block())
    assert canvas.doc.network.direction == "TB"
    assert edges(canvas) == {(False, "top"), (True, "bottom")}
    add = canvas.scene.node_item("add")
    xs = sorted(p.scenePos().x() for p in add.inputs.values())
    assert xs[1] - xs[0] >= 30  # two inputs spread apart along the top
    for wire in canvas.doc.network.wires:
        leave, enter = end_tangents(canvas.scene.wire_item(wire).path())
        assert abs(leave.x()) < 1e-6 and leave.y() > 0, wire  # straight down out of it
        assert abs(enter.x()) < 1e-6 and enter.y() > 0, wire  # straight down into it
    canvas.scene.detach()


def test_a_skip_in_a_top_to_bottom_drawing_goes_down_a_lane_beside_the_column(qtbot):
    canvas = laid_out(qtbot, residual_block())
    skip = canvas.doc.network.wire_into("add", "in2")
    item = canvas.scene.wire_item(skip)
    assert item.routed
    for node_id in ("fc1", "act", "fc2", "out"):
        assert not stroke_crosses(item.path(), body(canvas, node_id)), node_id
    for node_id in ("x", "add"):  # only to its ports, not through its own nodes
        assert not stroke_crosses(item.path(), body(canvas, node_id).adjusted(2, 8, -2, -8))
    _, enter = end_tangents(item.path())
    assert abs(enter.x()) < 1e-6 and enter.y() > 0  # from above into the top of add
    lane = item.path().boundingRect()
    assert lane.right() > body(canvas, "act").right()  # beside the column, not across it
    canvas.scene.detach()


def test_no_wire_of_a_resnet50_drawn_top_to_bottom_passes_behind_a_node():
    network = flat_resnet50()
    positions = layered_positions(network, direction="TB")
    lines, rects, index = routes(network, positions, vertical=True)
    behind = {str(w): crossed(line, w, rects, index) for w, (line, _) in lines.items()}
    assert {w: nodes for w, nodes in behind.items() if nodes} == {}
    assert sum(routed for _, routed in lines.values()) >= 16  # a skip per block at least


def test_undo_of_the_auto_layout_puts_the_ports_back_on_the_sides_and_redo_again(qtbot):
    canvas = laid_out(qtbot, residual_block())
    left_to_right = {(False, "left"), (True, "right")}
    canvas.doc.undo_stack.undo()
    assert canvas.doc.network.direction == "LR"
    assert edges(canvas) == left_to_right
    for wire in canvas.doc.network.wires:  # the wires follow the ports
        item = canvas.scene.wire_item(wire)
        assert item.path().elementAt(0).x == item.src_port.scenePos().x()
        leave, _ = end_tangents(item.path())
        assert leave.x() > 0 and abs(leave.y()) < 1e-6, wire
    canvas.doc.undo_stack.redo()
    assert edges(canvas) == {(False, "top"), (True, "bottom")}
    canvas.scene.detach()


def test_a_merge_of_four_and_of_eight_keeps_its_ports_apart_on_the_top_edge(qtbot):
    network = graph(
        [("x", "Input", {"shape": [8]}), ("cat", "Concat", {"num_inputs": 4}),
         ("sum", "Add", {"num_inputs": 8})],
        ["x->cat.in1", "x->sum.in1"],
    )  # fmt: skip
    canvas = laid_out(qtbot, network)
    for node_id in ("cat", "sum"):
        item = canvas.scene.node_item(node_id)
        xs = sorted(p.scenePos().x() for p in item.inputs.values())
        assert min(b - a for a, b in itertools.pairwise(xs)) >= 30, node_id
        assert all(edge_of(p) == "top" for p in item.inputs.values())
    assert (
        canvas.scene.node_item("sum").body_rect().width()
        > canvas.scene.node_item("cat").body_rect().width()
    )
    canvas.scene.detach()


def test_dragging_from_a_bottom_output_to_a_top_input_makes_a_wire(qtbot):
    canvas = Canvas(qtbot)
    doc = canvas.doc
    a = commands.add_node(doc, "Input", (300, -100), {"shape": [8]})
    b = commands.add_node(doc, "ReLU", (500, 100))
    commands.auto_layout(doc, "TB")
    commands.move_nodes(doc, {a: (300, -100), b: (500, 100)})
    canvas.view.centerOn(QPointF(500, 50))
    assert edge_of(canvas.scene.node_item(a).outputs["out"]) == "bottom"
    canvas.drag(canvas.port(a, "out", True), canvas.port(b, "in", False))
    assert [str(w) for w in doc.network.wires] == [f"{a}.out -> {b}.in"]
    canvas.scene.detach()


def test_block_items_put_their_ports_on_top_and_bottom_open_or_closed(qtbot, tmp_path):
    canvas = Canvas(qtbot, Document(project_file.load(blocks_project(tmp_path))))
    canvas.view.auto_layout("TB")
    assert isinstance(canvas.scene.node_item("r1"), BlockItem)
    assert edges(canvas) == {(False, "top"), (True, "bottom")}
    set_expanded(canvas.scene, ["r1"], True)
    assert canvas.scene.node_item("r1").expanded
    assert edges(canvas) == {(False, "top"), (True, "bottom")}
    canvas.doc.undo_stack.undo()  # closed
    canvas.doc.undo_stack.undo()  # left to right
    assert edges(canvas) == {(False, "left"), (True, "right")}
    canvas.scene.detach()


def test_a_wire_dropped_above_an_input_puts_the_new_layer_above_it_with_its_port_there(qtbot):
    canvas = Canvas(qtbot)
    doc = canvas.doc
    b = commands.add_node(doc, "ReLU", (500, 300))
    commands.auto_layout(doc, "TB")
    commands.move_nodes(doc, {b: (500, 300)})
    canvas.view.centerOn(QPointF(500, 200))
    drop = QPointF(560, 120)
    canvas.drag(canvas.port(b, "in", False), canvas.view.mapFromScene(drop))
    QTest.keyClicks(canvas.view.popup.edit, "sigmoid")
    QTest.keyClick(canvas.view.popup.edit, Qt.Key.Key_Return)
    (wire,) = doc.network.wires
    new = canvas.scene.node_item(wire.src)
    out = new.outputs["out"].scenePos()
    assert abs(out.x() - drop.x()) < 1 and abs(out.y() - drop.y()) < 1  # where it was let go
    canvas.scene.detach()
