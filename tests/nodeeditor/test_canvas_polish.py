"""What the canvas looks like: labels that fit their wires, wires that go around nodes,
headers that do not run into the id, a readable Fit, a minimap that leaves the nodes
in sight, no freeze switch where there is nothing to freeze, and an empty canvas that
says how to begin."""

import itertools
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QPainterPathStroker

from engine.layers import CATALOGUE
from engine.network import Network
from nodeeditor import commands
from nodeeditor.canvas import style
from nodeeditor.canvas.node_item import MARK_ROOM, TITLE_GAP, TITLE_LEFT, header_texts
from nodeeditor.canvas.view import FIT_MIN_ZOOM
from nodeeditor.canvas.wire_item import LABEL_MARGIN, LABEL_PAD, _metrics
from nodeeditor.document import Document
from tests.nodeeditor.test_canvas import Canvas

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture
def canvas(qtbot):
    c = Canvas(qtbot)
    yield c
    c.scene.detach()


def body(canvas, node_id) -> QRectF:
    item = canvas.scene.node_item(node_id)
    return item.mapRectToScene(item.body_rect())


def chain(canvas, types_and_positions) -> list[str]:
    ids = [commands.add_node(canvas.doc, t, pos, p) for t, pos, p in types_and_positions]
    for src, dst in itertools.pairwise(ids):
        commands.connect(canvas.doc, src, "out", dst, "in")
    canvas.settle()
    return ids


def test_a_label_never_covers_the_nodes_of_a_short_wire(canvas):
    full, short = (_metrics().horizontalAdvance(t) for t in ("(1024, 7, 7)", "1024×7×7"))
    gap = (full + short) / 2 + 2 * (LABEL_PAD + LABEL_MARGIN)  # room for the short form only
    x = style.NODE_WIDTH + gap
    ids = chain(canvas, [("Input", (0, 0), {"shape": [1024, 7, 7]}),
                         ("ReLU", (x, 0), {}), ("ReLU", (x + 200, 0), {})])  # fmt: skip
    roomy, tight = (canvas.scene.wire_item(w) for w in canvas.doc.network.wires)
    assert roomy.shown_label == "1024×7×7"
    assert tight.shown_label == ""  # 16 px between the nodes: no label, the node shows it
    assert "(1024, 7, 7)" in tight.toolTip()
    for wire in (roomy, tight):
        label = wire.mapRectToScene(wire._label_rect)
        assert not any(label.intersects(body(canvas, i)) for i in ids)
    commands.move_nodes(canvas.doc, {ids[1]: (500, 0), ids[2]: (900, 0)})
    assert roomy.shown_label == "(1024, 7, 7)"  # a long wire has room for it in full


def crosses(path, rect: QRectF) -> bool:
    """Whether the line of ``path`` (not the area it encloses) passes through ``rect``."""
    stroker = QPainterPathStroker()
    stroker.setWidth(1.0)
    return stroker.createStroke(path).intersects(rect)


def test_a_wire_back_to_the_start_of_the_next_row_goes_around_the_nodes(canvas):
    first = chain(canvas, [("Input", (0, 0), {"shape": [8]}), ("ReLU", (250, 0), {}),
                           ("ReLU", (500, 0), {})])  # fmt: skip
    second = chain(canvas, [("ReLU", (0, 150), {}), ("ReLU", (250, 150), {})])
    third = chain(canvas, [("ReLU", (0, 300), {}), ("Output", (250, 300), {})])
    commands.connect(canvas.doc, first[-1], "out", second[0], "in")
    commands.connect(canvas.doc, second[-1], "out", third[0], "in")
    canvas.settle()
    for src, dst in ((first[-1], second[0]), (second[-1], third[0])):
        (wire,) = [w for w in canvas.doc.network.wires if (w.src, w.dst) == (src, dst)]
        path = canvas.scene.wire_item(wire).path()
        others = [n.id for n in canvas.doc.network.nodes if n.id not in (src, dst)]
        assert not any(crosses(path, body(canvas, i)) for i in others), (src, dst)
        for end in (src, dst):  # not through its own nodes either, only to their ports
            assert not crosses(path, body(canvas, end).adjusted(8, 2, -8, -2))


def test_the_back_wire_of_a_loop_is_in_sight(canvas):
    ids = chain(canvas, [("ReLU", (0, 0), {}), ("ReLU", (250, 0), {}), ("ReLU", (500, 0), {})])
    commands.connect(canvas.doc, ids[2], "out", ids[0], "in")  # the analysis reports the loop
    canvas.settle()
    (back,) = [w for w in canvas.doc.network.wires if w.src == ids[2]]
    path = canvas.scene.wire_item(back).path()
    hidden = QRectF(body(canvas, ids[0]).left() + 8, -5, 500 + 184 - 16, 82)
    assert not crosses(path, hidden)  # before: a straight line behind all three nodes
    assert path.boundingRect().bottom() > body(canvas, ids[1]).bottom()


def test_no_node_header_runs_its_type_into_its_id():
    from PySide6.QtGui import QFontMetricsF

    network = Network("m")
    for type_name in CATALOGUE:
        node_id = network.suggest_id(type_name)
        for marked in (False, True):
            title, size, shown_id, id_size = header_texts(type_name, node_id, marked)
            width = QFontMetricsF(style.font(size, True)).horizontalAdvance(title)
            width += TITLE_GAP + QFontMetricsF(style.font(id_size)).horizontalAdvance(shown_id)
            room = style.NODE_WIDTH - TITLE_LEFT - (MARK_ROOM if marked else TITLE_LEFT)
            assert width <= room, (type_name, title, shown_id)
    assert header_texts("TransformerEncoderLayer", "layer", False)[0] == "TransformerEncoderLayer"


def test_fit_keeps_a_large_network_readable_and_a_small_one_whole(qtbot):
    canvas = Canvas(qtbot, Document.open(EXAMPLES / "digits_resnet.dwire"))
    canvas.view.resize(900, 600)
    canvas.view.fit()
    assert canvas.view.zoom() >= FIT_MIN_ZOOM
    pixels = style.font(8).pointSizeF() * canvas.view.logicalDpiY() / 72 * canvas.view.zoom()
    assert pixels >= 8  # the nodes' text on screen (it was 6-7 px after Fit)
    shown = canvas.view.visible_scene_rect()
    assert shown.contains(body(canvas, "input"))  # it starts where the data comes in
    assert canvas.view.minimap.isVisible()
    canvas.scene.detach()
    small = Canvas(qtbot, Document.open(EXAMPLES / "digits_mlp.dwire"))
    small.view.fit()
    assert small.view.visible_scene_rect().contains(small.scene.nodes_rect())
    assert small.view.zoom() <= 1.0
    small.scene.detach()


def test_a_fitted_view_fits_again_when_it_grows_until_the_user_moves_it(qtbot):
    canvas = Canvas(qtbot, Document.open(EXAMPLES / "digits_mlp.dwire"))
    view = canvas.view
    view.resize(700, 500)
    view.fit()
    assert not view.visible_scene_rect().contains(canvas.scene.nodes_rect())
    assert view.zoom() == FIT_MIN_ZOOM
    view.resize(1300, 600)  # the window is maximised, or a dock closed: fitted anew
    qtbot.waitUntil(lambda: view.zoom() == 1.0)
    assert view.visible_scene_rect().contains(canvas.scene.nodes_rect())
    view.zoom_in()
    zoom = view.zoom()
    view.resize(1200, 600)
    assert view.zoom() == zoom  # the user's own zoom stays
    canvas.scene.detach()


def test_the_minimap_leaves_the_nodes_in_sight(qtbot):
    canvas = Canvas(qtbot, Document.open(EXAMPLES / "digits_resnet.dwire"))
    view, minimap = canvas.view, canvas.view.minimap
    view.resize(900, 600)
    view.fit()
    assert minimap.isVisible()
    corner = QRect(view.viewport().mapFrom(view, minimap.pos()), minimap.size())
    covered = view.mapToScene(corner).boundingRect()
    assert not any(
        covered.intersects(item.sceneBoundingRect()) for item in canvas.scene.node_items()
    )
    view.resize(520, 200)  # a canvas squeezed by the docks
    view.fit()
    assert not minimap.isVisible()  # a third of it would be too small to use
    canvas.scene.detach()


def test_layers_without_weights_offer_no_freeze_switch(qtbot, window):
    inspector = window.inspector
    for node_id, weighted in (("fc1", True), ("act1", False), ("input", False)):
        window.scene.select_nodes([node_id])
        qtbot.waitUntil(lambda n=node_id: inspector.node_id == n)
        assert inspector.form.isRowVisible(inspector.trainable_box) == weighted, node_id


def test_an_empty_canvas_says_how_to_begin_until_a_node_exists(canvas):
    hint = canvas.view.empty_hint
    assert hint.isVisible() and "Tab" in hint.text() and "example" in hint.text()
    node_id = commands.add_node(canvas.doc, "ReLU", (0, 0))
    assert not hint.isVisible()
    canvas.doc.undo_stack.undo()
    assert hint.isVisible()
    commands.add_node(canvas.doc, "ReLU", QPointF(10, 10))
    assert node_id and not hint.isVisible()
