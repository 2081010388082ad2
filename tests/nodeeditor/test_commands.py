"""Undo commands: every edit is one undo step, and undo/redo give back the same file."""

import itertools

import pytest

from engine.errors import NetworkError, ParamError
from engine.layers import CATALOGUE
from engine.layers.spec import LayerSpec, Param
from engine.network import Wire
from engine.project import dumps
from nodeeditor import clipboard, commands
from nodeeditor.document import Document


@pytest.fixture
def doc(qapp):
    return Document()


def build_mlp(doc):
    ids = [
        commands.add_node(doc, "Input", (0, 0), {"shape": [64]}),
        commands.add_node(doc, "Linear", (220, 0), {"out_features": 32}),
        commands.add_node(doc, "ReLU", (440, 0)),
        commands.add_node(doc, "Linear", (660, 0), {"out_features": 10}),
        commands.add_node(doc, "Output", (880, 0)),
    ]
    for src, dst in itertools.pairwise(ids):
        commands.connect(doc, src, "out", dst, "in")
    return ids


def assert_undo_redo_exact(doc, snapshots):
    """Undo to every step, then redo to every step, comparing the project text."""
    stack = doc.undo_stack
    assert stack.count() == len(snapshots) - 1
    for index in range(len(snapshots) - 1, 0, -1):
        assert dumps(doc.project) == snapshots[index]
        stack.undo()
    assert dumps(doc.project) == snapshots[0]
    for index in range(1, len(snapshots)):
        stack.redo()
        assert dumps(doc.project) == snapshots[index]


def test_every_edit_is_one_step_and_undo_redo_give_the_same_project(doc):
    snapshots = [dumps(doc.project)]

    def step(action, *args):
        result = action(doc, *args)
        snapshots.append(dumps(doc.project))
        return result

    a = step(commands.add_node, "Input", (0, 0), {"shape": [1, 8, 8]})
    f = step(commands.add_node, "Flatten", (200, 0))
    b = step(commands.add_node, "Linear", (400, 0))
    o = step(commands.add_node, "Output", (600, 0))
    step(commands.connect, a, "out", f, "in")
    step(commands.connect, f, "out", b, "in")
    step(commands.connect, b, "out", o, "in")
    step(commands.set_params, b, {"out_features": 10})
    step(commands.rename_node, b, "classifier")
    step(commands.set_trainable, "classifier", False)
    step(commands.move_nodes, {a: (-50, 30), f: (150, 30)})
    step(commands.duplicate, ["classifier", o])
    step(commands.auto_layout)
    step(commands.disconnect, Wire(f, "out", "classifier", "in"))
    step(commands.remove_nodes, [f])  # in the middle of the node order
    assert [n.id for n in doc.network.nodes][:2] == [a, "classifier"]
    assert_undo_redo_exact(doc, snapshots)


def test_connecting_onto_a_wired_input_replaces_it_in_one_step(doc):
    a = commands.add_node(doc, "Input", (0, 0))
    b = commands.add_node(doc, "Input", (0, 100))
    r = commands.add_node(doc, "ReLU", (200, 0))
    commands.connect(doc, a, "out", r, "in")
    before, count = dumps(doc.project), doc.undo_stack.count()
    commands.connect(doc, b, "out", r, "in")
    assert doc.network.wire_into(r, "in").src == b
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert dumps(doc.project) == before


@pytest.mark.parametrize(
    ("src", "dst", "reason"),
    [("relu", "relu", "itself"), ("relu", "input", "takes no input")],
)
def test_a_refused_wire_raises_the_engines_reason_and_pushes_nothing(doc, src, dst, reason):
    ids = {"input": commands.add_node(doc, "Input", (0, 0))}
    ids["relu"] = commands.add_node(doc, "ReLU", (200, 0))
    count = doc.undo_stack.count()
    port = "in" if dst == "relu" else "out"
    with pytest.raises(NetworkError, match=reason):
        commands.connect(doc, ids[src], "out", ids[dst], port if dst == "relu" else "in")
    assert doc.undo_stack.count() == count and not doc.network.wires


def test_invalid_parameters_and_names_push_nothing(doc):
    node = commands.add_node(doc, "Linear", (0, 0))
    other = commands.add_node(doc, "ReLU", (0, 0))
    count = doc.undo_stack.count()
    with pytest.raises(ParamError):
        commands.set_params(doc, node, {"out_features": 0})
    with pytest.raises(ParamError):
        commands.add_node(doc, "Linear", (0, 0), {"out_features": "many"})
    with pytest.raises(NetworkError):
        commands.rename_node(doc, node, other)
    with pytest.raises(NetworkError):
        commands.rename_node(doc, node, "not valid")
    assert doc.undo_stack.count() == count


def test_undoing_a_change_that_dropped_ports_restores_their_wires(doc, monkeypatch):
    merge = LayerSpec(
        name="TestMerge",
        family="Merge",
        help="test",
        infer=lambda p, i: i[0],
        params=(Param("inputs", "int", 3, "how many", minimum=2),),
        inputs=lambda p: tuple(f"in{k + 1}" for k in range(p["inputs"])),
    )
    monkeypatch.setitem(CATALOGUE, "TestMerge", merge)
    m = commands.add_node(doc, "TestMerge", (300, 0))
    sources = [commands.add_node(doc, "Input", (0, 100 * k)) for k in range(3)]
    for k, src in enumerate(sources):
        commands.connect(doc, src, "out", m, f"in{k + 1}")
    before = dumps(doc.project)
    commands.set_params(doc, m, {"inputs": 2})
    assert doc.network.wire_into(m, "in3") is None and len(doc.network.wires) == 2
    doc.undo_stack.undo()
    assert dumps(doc.project) == before
    doc.undo_stack.redo()
    assert len(doc.network.wires) == 2


def test_paste_makes_ids_unique_keeps_inner_wires_and_is_one_step(doc):
    ids = build_mlp(doc)
    text = clipboard.selection_to_json(doc.network, ids[1:4])
    count, before = doc.undo_stack.count(), dumps(doc.project)
    new = commands.paste(doc, text, (0, 200))
    assert len(new) == 3 and not set(new) & set(ids)
    assert doc.undo_stack.count() == count + 1
    inner = [w for w in doc.network.wires if w.src in new and w.dst in new]
    assert len(inner) == 2  # linear->relu->linear, not the wires to input/output
    assert doc.network.node(new[0]).pos == (220.0, 200.0)
    doc.undo_stack.undo()
    assert dumps(doc.project) == before


def test_paste_refuses_text_that_is_not_nodes(doc):
    with pytest.raises(NetworkError):
        commands.paste(doc, "hello", (0, 0))
    assert doc.undo_stack.count() == 0


def test_moving_many_nodes_is_one_step_and_not_moving_is_none(doc):
    ids = build_mlp(doc)
    count = doc.undo_stack.count()
    commands.move_nodes(doc, {i: (k * 10.0, 500.0) for k, i in enumerate(ids)})
    commands.move_nodes(doc, {ids[0]: (0.0, 500.0)})  # already there
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert doc.network.node(ids[-1]).pos == (880.0, 0.0)


def test_inserting_a_free_node_into_a_wire_is_one_step(doc):
    ids = build_mlp(doc)
    extra = commands.add_node(doc, "Dropout", (300, 300))
    before, count = dumps(doc.project), doc.undo_stack.count()
    wire = Wire(ids[1], "out", ids[2], "in")
    assert commands.insert_on_wire(doc, extra, wire, (330, 0))
    assert doc.network.wire_into(extra, "in").src == ids[1]
    assert doc.network.wire_into(ids[2], "in").src == extra
    assert doc.undo_stack.count() == count + 1
    doc.undo_stack.undo()
    assert dumps(doc.project) == before
    assert not commands.insert_on_wire(doc, ids[0], Wire(ids[2], "out", ids[3], "in"))


def test_each_step_is_one_engine_edit_named_in_the_undo_menu(doc):
    ids = build_mlp(doc)
    commands.set_params_of(doc, {ids[1]: {"out_features": 3}, ids[3]: {"out_features": 4}})
    commands.add_connected_node(doc, "Dropout", (0, 300), src=(ids[2], "out"))
    stack = doc.undo_stack
    texts = [stack.command(i).text() for i in range(stack.count())]
    assert texts[0] == "Add Input" and texts[5] == f"Connect {ids[0]}.out -> {ids[1]}.in"
    assert texts[-2:] == ["Edit 2 nodes", "Add Dropout"]
    assert all(isinstance(stack.command(i), commands.EditCommand) for i in range(stack.count()))


def test_nudges_of_the_same_nodes_merge_into_one_step(doc):
    ids = build_mlp(doc)
    count = doc.undo_stack.count()
    for x in (10, 20, 30):
        commands.move_nodes(doc, {ids[0]: (x, 0), ids[1]: (220 + x, 0)}, nudge=True)
    commands.move_nodes(doc, {ids[0]: (40, 0)}, nudge=True)  # other nodes: a new step
    assert doc.undo_stack.count() == count + 2
    doc.undo_stack.undo()
    assert doc.network.node(ids[0]).pos == (30.0, 0.0)
    doc.undo_stack.undo()
    assert [doc.network.node(i).pos for i in ids[:2]] == [(0.0, 0.0), (220.0, 0.0)]
    doc.undo_stack.redo()
    assert [doc.network.node(i).pos for i in ids[:2]] == [(30.0, 0.0), (250.0, 0.0)]
