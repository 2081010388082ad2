"""Random edit sequences: each accepted edit is one undo step, each refused one changes
nothing, undo-all gives back the original project text and redo-all the final one.

The edits go through nodeeditor.commands on a Document (no window): adds, removes,
connects and disconnects (valid and refused), parameter edits (valid and refused),
renames (valid, taken, invalid), moves, trainable toggles, paste (of a selection or of
junk), duplicate, auto-layout, insertion into a wire and undos in the middle. The case
count is stated in ``settings(max_examples=...)`` (times ``DEEPWIRE_PROPERTY_SCALE``);
``DEEPWIRE_RELIABILITY_LOG`` receives the number of sequences and edits that ran.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import project as project_file
from engine.errors import DeepwireError
from engine.layers import CATALOGUE
from engine.network import Wire
from nodeeditor import clipboard, commands
from nodeeditor.document import Document
from tests.reliability_log import scaled, write_case_counts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [None, *sorted((ROOT / "resources" / "examples").glob("*.dwire"))]
CASES: Counter = Counter()
TYPES = sorted(CATALOGUE)
NAMES = ["fc9", "encoder", "head", "x1", "fc1", "input", "1bad", "class", "", "a b", "self"]
PORTS = ["in", "out", "in1", "in2", "in3", "hidden", "nope"]
VALUES = (
    st.integers(-3, 300)
    | st.booleans()
    | st.sampled_from(["same", "valid", "mean", "relu", "", "x", None, 0.5, 1e9])
    | st.lists(st.integers(-1, 40), max_size=4)
)


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts(CASES)


def ids(doc) -> list[str]:
    return [node.id for node in doc.network.nodes]


def pick_ids(data, doc, label="ids") -> list[str]:
    names = ids(doc)
    return data.draw(st.lists(st.sampled_from(names), max_size=4), label=label) if names else []


def pick_id(data, doc) -> str:
    names = ids(doc)
    return data.draw(st.sampled_from(names or ["ghost"]), label="id")


def position(data):
    return data.draw(st.tuples(st.integers(-900, 900), st.integers(-900, 900)), label="pos")


def op_add(data, doc):
    commands.add_node(doc, data.draw(st.sampled_from(TYPES), label="type"), position(data))


def op_remove(data, doc):
    wires = doc.network.wires
    chosen = data.draw(st.lists(st.sampled_from(wires), max_size=2), label="w") if wires else []
    commands.remove_nodes(doc, pick_ids(data, doc), chosen)


def op_connect(data, doc):
    src, dst = pick_id(data, doc), pick_id(data, doc)
    src_port = data.draw(st.sampled_from(PORTS), label="src_port")
    dst_port = data.draw(st.sampled_from(PORTS), label="dst_port")
    commands.connect(doc, src, src_port, dst, dst_port)


def op_disconnect(data, doc):
    wires = doc.network.wires or [Wire("a", "out", "b", "in")]
    wire = data.draw(st.sampled_from([*wires, Wire("ghost", "out", "b", "in")]), label="wire")
    commands.disconnect(doc, wire)


def op_params(data, doc):
    node = doc.network.node(pick_id(data, doc))
    names = [*node.params, "not_a_param"]
    name = data.draw(st.sampled_from(names), label="param")
    commands.set_params(doc, node.id, {name: data.draw(VALUES, label="value")})


def op_rename(data, doc):
    commands.rename_node(doc, pick_id(data, doc), data.draw(st.sampled_from(NAMES), label="new"))


def op_move(data, doc):
    commands.move_nodes(doc, {node_id: position(data) for node_id in pick_ids(data, doc)})


def op_trainable(data, doc):
    node_id = pick_id(data, doc)
    commands.set_trainable(doc, node_id, not doc.network.node(node_id).trainable)


def op_paste(data, doc):
    if data.draw(st.booleans(), label="junk"):
        text = data.draw(st.sampled_from(["", "{}", "[1, 2]", '{"nodes": 3}', "hello"]))
    else:
        text = clipboard.selection_to_json(doc.network, pick_ids(data, doc))
    commands.paste(doc, text, position(data))


def op_duplicate(data, doc):
    commands.duplicate(doc, pick_ids(data, doc))


def op_layout(data, doc):
    commands.auto_layout(doc)


def op_insert(data, doc):
    wires = doc.network.wires
    if wires:
        wire = data.draw(st.sampled_from(wires), label="wire")
        commands.insert_on_wire(doc, pick_id(data, doc), wire, position(data))


def op_undo(data, doc):
    for _ in range(data.draw(st.integers(1, 3), label="undos")):
        doc.undo_stack.undo()


OPS = [
    op_add, op_add, op_remove, op_connect, op_connect, op_connect, op_disconnect,
    op_params, op_params, op_rename, op_move, op_trainable, op_paste, op_duplicate,
    op_layout, op_insert, op_undo,
]  # fmt: skip


def apply(data, doc, op) -> None:
    """Run one edit; an accepted edit is at most one undo step, a refused one changes nothing."""
    stack = doc.undo_stack
    before, index = project_file.dumps(doc.project), stack.index()
    try:
        op(data, doc)
    except DeepwireError as error:
        assert str(error)
        assert project_file.dumps(doc.project) == before, f"{op.__name__} refused but changed"
        assert stack.index() == index
        CASES["edits refused"] += 1
        return
    if op is op_undo:
        return
    steps = stack.index() - index
    assert steps in (0, 1), f"{op.__name__} pushed {steps} steps"
    if steps == 0:
        assert project_file.dumps(doc.project) == before, f"{op.__name__} changed silently"
    CASES["edits accepted"] += 1


@settings(
    max_examples=scaled(200),
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(data=st.data(), start=st.sampled_from(EXAMPLES))
def test_random_edits_undo_to_the_original_and_redo_to_the_final_project(qapp, data, start):
    doc = Document(project_file.load(start) if start else None)
    original = project_file.dumps(doc.project)
    for op in data.draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=40), label="ops"):
        apply(data, doc, op)
    final = project_file.dumps(doc.project)
    stack = doc.undo_stack
    top = stack.index()
    while stack.canUndo():
        stack.undo()
    assert project_file.dumps(doc.project) == original
    while stack.index() < top:
        stack.redo()
    assert project_file.dumps(doc.project) == final
    assert project_file.dumps(project_file.loads(final)) == final
    CASES["edit sequences"] += 1
    doc.deleteLater()
