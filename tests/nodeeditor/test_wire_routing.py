"""Wires go around nodes, not behind them: the routes of nodeeditor.canvas.routing on
networks laid out by engine.layout, in both directions, and on the canvas."""

import itertools

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QPainterPathStroker

from benchmarks.networks import flat_resnet50
from engine.layout import NODE_HEIGHT, NODE_WIDTH, layered_positions
from engine.project import Project
from nodeeditor import commands
from nodeeditor.canvas import routing, style
from nodeeditor.canvas.node_item import port_position
from nodeeditor.canvas.wire_item import wire_region
from nodeeditor.document import Document
from tests.engine.builders import graph
from tests.nodeeditor.test_canvas import Canvas


def residual_block():
    """x -> fc1 -> act -> fc2 -> add.in1, and the skip x -> add.in2, then out."""
    return graph(
        [
            ("x", "Input", {"shape": [8]}),
            ("fc1", "Linear", {"out_features": 8}),
            ("act", "ReLU", {}),
            ("fc2", "Linear", {"out_features": 8}),
            ("add", "Add", {}),
            ("out", "Output", {}),
        ],
        ["x->fc1", "fc1->act", "act->fc2", "fc2->add.in1", "x->add.in2", "add->out"],
    )


def port_y(node, port: str, output: bool) -> float:
    """A port's height in its node (as nodeeditor.canvas.node_item places it)."""
    ports = node.output_ports() if output else node.input_ports()
    return style.HEADER_HEIGHT + 14 + ports.index(port) * style.PORT_SPACING


def routes(network, positions, vertical=False):
    """``{wire: (its line as points, whether routed)}`` and the nodes' rectangles, as
    the canvas computes them (nodes with up to three ports are NODE_HEIGHT high); with
    ``vertical``, ports on the top and bottom edges (a network drawn top to bottom)."""
    rects = {
        node_id: (x, y, x + NODE_WIDTH, y + NODE_HEIGHT) for node_id, (x, y) in positions.items()
    }
    index = routing.RectIndex()
    for node_id, rect in rects.items():
        index.set(node_id, rect)
    lines = {}
    for wire in network.wires:
        source, target = rects[wire.src], rects[wire.dst]
        if vertical:
            start = port_at(network.node(wire.src), wire.src_port, True, source)
            end = port_at(network.node(wire.dst), wire.dst_port, False, target)
        else:
            start = (source[2], source[1] + port_y(network.node(wire.src), wire.src_port, True))
            end = (target[0], target[1] + port_y(network.node(wire.dst), wire.dst_port, False))
        region = wire_region(source, target)
        others = [r for key, r in index.near(region) if key not in (wire.src, wire.dst)]
        corners = routing.route(start, end, source, target, others, region, vertical)
        line = routing.curve_points(start, end, vertical=vertical) if corners is None else corners
        lines[wire] = (line, corners is not None)
    return lines, rects, index


def port_at(node, port: str, output: bool, rect) -> tuple[float, float]:
    """A port's scene point on the top or bottom edge of ``rect`` (a vertical node)."""
    ports = node.output_ports() if output else node.input_ports()
    size = (rect[2] - rect[0], rect[3] - rect[1])
    x, y = port_position(ports.index(port), len(ports), output, size, True)
    return rect[0] + x, rect[1] + y


def crossed(line, wire, rects, index) -> list[str]:
    """The nodes ``line`` passes through: any other node, or the inside of its own two
    (beyond touching them at their ports)."""
    xs, ys = [x for x, _ in line], [y for _, y in line]
    near = index.near((min(xs) - 1, min(ys) - 1, max(xs) + 1, max(ys) + 1))
    hits = [key for key, rect in near if key not in (wire.src, wire.dst) and hit(line, rect)]
    for key in (wire.src, wire.dst):
        left, top, right, bottom = rects[key]
        if hit(line, (left + 2, top + 2, right - 2, bottom - 2)):
            hits.append(key)
    return hits


def hit(line, rect) -> bool:
    return any(routing.segment_hits(a, b, rect) for a, b in itertools.pairwise(line))


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_a_resnet_skip_over_three_nodes_goes_around_them(direction):
    network = residual_block()
    lines, rects, index = routes(network, layered_positions(network, direction=direction))
    skip = network.wire_into("add", "in2")
    line, routed = lines[skip]
    assert routed
    assert hit(routing.curve_points(line[0], line[-1]), rects["act"])  # the curve would
    for wire, (line, _) in lines.items():
        assert crossed(line, wire, rects, index) == [], wire
    if direction == "LR":  # neighbours on one row keep their curve
        assert not lines[network.wire_into("act", "in")][1]


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_no_wire_of_an_auto_laid_out_resnet50_passes_behind_a_node(direction):
    network = flat_resnet50()
    lines, rects, index = routes(network, layered_positions(network, direction=direction))
    behind = {str(w): crossed(line, w, rects, index) for w, (line, _) in lines.items()}
    assert {w: nodes for w, nodes in behind.items() if nodes} == {}
    assert sum(routed for _, routed in lines.values()) >= 16  # a skip per block at least


def test_a_wire_takes_the_lane_beside_the_nodes_it_passes_not_a_far_one():
    source, target = (0, 0, 184, 77), (1200, 0, 1384, 77)
    others = [(300 * k, 0, 300 * k + 184, 77) for k in (1, 2, 3)]
    others += [(300 * k, 140, 300 * k + 184, 217) for k in (1, 2, 3)]  # a branch below
    corners = routing.route((184, 36), (1200, 54), source, target, others)
    lane = corners[2][1]
    assert 77 < lane < 140  # between the row and the branch, not below the branch
    assert corners[0] == (184, 36) and corners[-1] == (1200, 54)
    assert all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(corners))


def test_the_index_finds_the_rectangles_in_an_area_as_they_move():
    index = routing.RectIndex()
    index.set("a", (0, 0, 100, 50))
    index.set("b", (1000, 0, 1100, 50))
    assert [key for key, _ in index.near((-10, -10, 500, 500))] == ["a"]
    index.set("a", (2000, 2000, 2100, 2050))
    assert index.near((-10, -10, 500, 500)) == []
    assert {key for key, _ in index.near((900, -10, 2200, 2100))} == {"a", "b"}
    index.discard("b")
    assert [key for key, _ in index.near((900, -10, 2200, 2100))] == ["a"]
    assert len(index) == 1


# ----------------------------------------------------------------------------- canvas
def stroke_crosses(path, rect: QRectF) -> bool:
    stroker = QPainterPathStroker()
    stroker.setWidth(1.0)
    return stroker.createStroke(path).intersects(rect)


def body(canvas, node_id) -> QRectF:
    item = canvas.scene.node_item(node_id)
    return item.mapRectToScene(item.body_rect())


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_on_the_canvas_the_skip_of_an_auto_laid_out_block_goes_around(qtbot, direction):
    canvas = Canvas(qtbot, Document(Project({"model": residual_block()})))
    canvas.view.auto_layout(direction)
    skip = canvas.doc.network.wire_into("add", "in2")
    path = canvas.scene.wire_item(skip).path()
    for node_id in ("fc1", "act", "fc2", "out"):
        assert not stroke_crosses(path, body(canvas, node_id)), node_id
    for node_id in ("x", "add"):  # only to its ports, not through its own nodes
        assert not stroke_crosses(path, body(canvas, node_id).adjusted(8, 2, -8, -2))
    canvas.scene.detach()


def test_a_wire_goes_around_a_node_moved_into_its_way_and_back_when_it_leaves(qtbot):
    canvas = Canvas(qtbot)
    doc = canvas.doc
    a = commands.add_node(doc, "Input", (0, 0), {"shape": [8]})
    b = commands.add_node(doc, "ReLU", (700, 0))
    c = commands.add_node(doc, "ReLU", (350, 400))
    commands.connect(doc, a, "out", b, "in")
    item = canvas.scene.wire_item(doc.network.wires[0])
    assert not item.routed
    commands.move_nodes(doc, {c: (350, 0)})  # right on the wire's way
    assert item.routed and not stroke_crosses(item.path(), body(canvas, c))
    commands.move_nodes(doc, {c: (350, 400)})
    assert not item.routed  # the way is free again: the plain curve
    canvas.scene.detach()
