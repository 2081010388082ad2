"""Reversible edits without Qt: each edit's inverse gives back the same project file,
refused plans change nothing, and random edit sequences undo and redo byte for byte.

The random sequences mix every kind of edit (valid and refused) on a project with a
block type, on its main network and on the block's inside. The case count is stated in
``settings(max_examples=...)`` (times ``DEEPWIRE_PROPERTY_SCALE``).
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import edits
from engine.analysis import analyze
from engine.blocks.block_type import BlockType
from engine.blocks.builtin import builtin_blocks
from engine.edits import AddNodes, Compound, Connect, Move, Rename
from engine.edits.blocks import plan_group, plan_make_unique, plan_place_block, plan_ungroup
from engine.errors import DeepwireError, NetworkError, ParamError
from engine.layers import CATALOGUE
from engine.layers.spec import Param
from engine.network import Network, Wire
from engine.project import Project, dumps, loads
from tests.reliability_log import scaled, write_case_counts

CASES: Counter = Counter()


def make_project() -> Project:
    """A small project: input -> fc1 -> act -> cat(3 inputs) -> mini (a block) -> out,
    plus a free Dropout; the block ``Mini`` is x -> fc (bound to ``width``) -> y."""
    inside = Network("Mini")
    inside.add_node("Input", {"shape": [8]}, (0, 0), "x")
    inside.add_node("Linear", {"out_features": 4}, (200, 0), "fc", bind={"out_features": "width"})
    inside.add_node("Output", {}, (400, 0), "y")
    inside.connect("x", "out", "fc", "in")
    inside.connect("fc", "out", "y", "in")
    project = Project()
    width = Param("width", "int", 4, "how wide", minimum=1)
    project.blocks.add(BlockType("Mini", inside, (width,), "a tiny block"))
    net = project.network
    net.add_node("Input", {"shape": [8]}, (0, 0), "input")
    net.add_node("Linear", {"out_features": 8}, (200, 0), "fc1")
    net.add_node("ReLU", {}, (400, 0), "act")
    net.add_node("Concat", {"num_inputs": 3}, (600, 0), "cat")
    net.add_node("Mini", {"width": 5}, (800, 0), "mini")
    net.add_node("Output", {}, (1000, 0), "out")
    net.add_node("Dropout", {}, (400, 300), "drop")
    for src, dst, port in [
        ("input", "fc1", "in"),
        ("fc1", "act", "in"),
        ("act", "cat", "in1"),
        ("fc1", "cat", "in2"),
        ("input", "cat", "in3"),
        ("cat", "mini", "x"),
        ("mini", "out", "in"),
    ]:
        net.connect(src, "y" if src == "mini" else "out", dst, port)
    return project


@pytest.fixture
def project():
    return make_project()


def check_reversible(project: Project, edit, network: Network | None = None) -> None:
    """Apply ``edit``, its inverse and the inverse's inverse, comparing the file text."""
    network = network or project.network
    before = dumps(project)
    inverse = edit.apply(network)
    after = dumps(project)
    assert after != before
    assert inverse.text == edit.text
    redo = inverse.apply(network)
    assert dumps(project) == before
    redo.apply(network)
    assert dumps(project) == after


PLANS = {
    "add": lambda n: edits.plan_add_node(n, "Linear", (5, 5), {"out_features": 3}),
    "add block": lambda n: edits.plan_add_node(n, "Mini", (5, 5), {"width": 2}),
    "remove middle": lambda n: edits.plan_remove(n, ["act"]),
    "remove several and a wire": lambda n: edits.plan_remove(
        n, ["fc1", "out"], [Wire("cat", "out", "mini", "x"), Wire("act", "out", "cat", "in1")]
    ),
    "remove a wire": lambda n: edits.plan_remove(n, [], [Wire("fc1", "out", "act", "in")]),
    "connect": lambda n: edits.plan_connect(n, "act", "out", "drop", "in"),
    "connect replacing": lambda n: edits.plan_connect(n, "drop", "out", "cat", "in1"),
    "disconnect": lambda n: edits.plan_disconnect(n, Wire("cat", "out", "mini", "x")),
    "move": lambda n: edits.plan_move(n, {"act": (1.25, -3), "out": (7, 8)}),
    "params dropping wires": lambda n: edits.plan_set_params(n, "cat", {"num_inputs": 2}),
    "block params": lambda n: edits.plan_set_params(n, "mini", {"width": 9}),
    "params of several": lambda n: edits.plan_set_params_of(
        n, {"fc1": {"out_features": 2}, "cat": {"dim": 0}}
    ),
    "rename": lambda n: edits.plan_rename(n, "fc1", "encoder"),
    "freeze": lambda n: edits.plan_set_trainable(n, "fc1", False),
    "bind": lambda n: edits.plan_set_bind(n, "fc1", {"out_features": "width"}),
    "expand": lambda n: edits.plan_set_expanded(n, "mini", True),
    "duplicate": lambda n: edits.plan_duplicate(n, ["fc1", "act", "cat"]),
    "insert on wire": lambda n: edits.plan_insert_on_wire(
        n, "drop", Wire("fc1", "out", "act", "in"), (300, 0)
    ),
    "add connected": lambda n: edits.plan_add_connected_node(
        n, "Sigmoid", (9, 9), ("act", "out"), ("cat", "in1")
    )[0],
}


@pytest.mark.parametrize("name", PLANS)
def test_each_edit_is_undone_and_redone_byte_for_byte(project, name):
    check_reversible(project, PLANS[name](project.network))


def test_edits_inside_a_block_type_are_reversible(project):
    inside = project.blocks.get("Mini").network
    check_reversible(project, edits.plan_set_bind(inside, "fc", {}), inside)
    check_reversible(project, edits.plan_remove(inside, ["fc"]), inside)
    check_reversible(project, edits.plan_add_node(inside, "ReLU", (0, 90)), inside)


def test_undoing_a_removal_puts_back_every_field_and_the_node_order(project):
    net = project.network
    for edit in [
        edits.plan_set_bind(net, "fc1", {"out_features": "width"}),
        edits.plan_set_expanded(net, "mini", True),
        edits.plan_set_trainable(net, "fc1", False),
    ]:
        edit.apply(net)
    order, before = [n.id for n in net.nodes], dumps(project)
    inverse = edits.plan_remove(net, ["fc1", "mini"]).apply(net)
    inverse.apply(net)
    assert [n.id for n in net.nodes] == order
    fc1, mini = net.node("fc1"), net.node("mini")
    assert (fc1.bind, fc1.trainable, mini.expanded) == ({"out_features": "width"}, False, True)
    assert dumps(project) == before


def test_a_change_that_drops_ports_is_undone_with_its_wires(project):
    net = project.network
    inverse = edits.plan_set_params(net, "cat", {"num_inputs": 2}).apply(net)
    assert net.wire_into("cat", "in3") is None
    inverse.apply(net)
    assert net.wire_into("cat", "in3") == Wire("input", "out", "cat", "in3")


def test_connecting_onto_a_wired_input_replaces_it_in_one_edit(project):
    net = project.network
    edit = edits.plan_connect(net, "drop", "out", "cat", "in1")
    assert isinstance(edit, Compound) and edit.text == "Replace wire into cat.in1"
    edit.apply(net)
    assert net.wire_into("cat", "in1").src == "drop"


REFUSED = {
    "wire to itself": (NetworkError, lambda n: edits.plan_connect(n, "act", "out", "act", "in")),
    "input takes no input": (
        NetworkError,
        lambda n: edits.plan_connect(n, "act", "out", "input", "in"),
    ),
    "already wired": (NetworkError, lambda n: edits.plan_connect(n, "fc1", "out", "act", "in")),
    "no such port": (NetworkError, lambda n: edits.plan_connect(n, "act", "out", "fc1", "x")),
    "ghost node": (NetworkError, lambda n: edits.plan_connect(n, "ghost", "out", "act", "in")),
    "no such wire": (NetworkError, lambda n: edits.plan_disconnect(n, Wire("a", "o", "b", "i"))),
    "unknown type": (NetworkError, lambda n: edits.plan_add_node(n, "Linaer", (0, 0))),
    "bad add param": (ParamError, lambda n: edits.plan_add_node(n, "Linear", (0, 0), {"x": 1})),
    "bad position": (ParamError, lambda n: edits.plan_add_node(n, "ReLU", ("a", None))),
    "bad param": (ParamError, lambda n: edits.plan_set_params(n, "fc1", {"out_features": 0})),
    "one bad of several": (
        ParamError,
        lambda n: edits.plan_set_params_of(n, {"act": {}, "fc1": {"out_features": -1}}),
    ),
    "rename taken": (NetworkError, lambda n: edits.plan_rename(n, "fc1", "act")),
    "rename keyword": (NetworkError, lambda n: edits.plan_rename(n, "fc1", "class")),
    "move ghost": (NetworkError, lambda n: edits.plan_move(n, {"ghost": (0, 0)})),
    "bind unknown param": (ParamError, lambda n: edits.plan_set_bind(n, "fc1", {"units": "w"})),
    "bind to a non-name": (
        ParamError,
        lambda n: edits.plan_set_bind(n, "fc1", {"out_features": "1 x"}),
    ),
    "paste unknown type": (
        NetworkError,
        lambda n: edits.plan_paste(n, [{"id": "q", "type": "Nope", "params": {}}], []),
    ),
    "paste bad value": (
        ParamError,
        lambda n: edits.plan_paste(
            n, [{"id": "q", "type": "Linear", "params": {"out_features": "ten"}}], []
        ),
    ),
    "connected to an output": (
        NetworkError,
        lambda n: edits.plan_add_connected_node(n, "Output", (0, 0), dst=("act", "in")),
    ),
    "connected wire refused": (
        NetworkError,
        lambda n: edits.plan_add_connected_node(n, "ReLU", (0, 0), src=("out", "out")),
    ),
}


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_plan_says_why_and_changes_nothing(project, name):
    error, plan = REFUSED[name]
    before, count = dumps(project), len(project.network)
    with pytest.raises(error) as caught:
        plan(project.network)
    assert str(caught.value)
    assert dumps(project) == before and len(project.network) == count


def test_plans_that_change_nothing_return_none(project):
    net = project.network
    assert edits.plan_move(net, {"act": (400, 0)}) is None
    assert edits.plan_set_params(net, "fc1", {"out_features": 8}) is None
    assert edits.plan_rename(net, "fc1", "fc1") is None
    assert edits.plan_set_trainable(net, "fc1", True) is None
    assert edits.plan_remove(net, ["ghost"], [Wire("a", "out", "b", "in")]) is None
    assert edits.plan_duplicate(net, ["ghost"]) is None
    assert edits.plan_insert_on_wire(net, "act", Wire("input", "out", "fc1", "in")) is None


def test_a_compound_that_fails_part_way_leaves_the_network_as_it_was(project):
    net = project.network
    before = dumps(project)
    bad = Compound("two", [Move({"act": (1, 2)}), Rename("fc1", "act")])
    with pytest.raises(NetworkError):
        bad.apply(net)
    assert dumps(project) == before


def test_adding_nodes_that_fail_part_way_adds_nothing(project):
    net = project.network
    before = dumps(project)
    entry = {"id": "new1", "type": "ReLU", "params": {}, "pos": (0, 0)}
    bad = AddNodes([entry], [Wire("new1", "out", "fc1", "in")])  # fc1.in is taken
    with pytest.raises(NetworkError):
        bad.apply(net)
    assert dumps(project) == before


def test_paste_gives_fresh_ids_where_taken_or_invalid_and_keeps_inner_wires(project):
    net = project.network
    nodes = [net.node_entry(i) for i in ("fc1", "act")] + [
        {"id": "class", "type": "ReLU", "params": {}, "pos": [0, 0]}
    ]
    edges = [(("fc1", "out"), ("act", "in")), (("input", "out"), ("fc1", "in"))]
    edit = edits.plan_paste(net, nodes, edges, (0, 200))
    assert edit.text == "Paste" and len(set(edit.ids) & {n.id for n in net.nodes}) == 0
    assert "class" not in edit.ids
    edit.apply(net)
    first, second, _ = edit.ids
    assert net.node(first).pos == (200.0, 200.0)
    assert [w for w in net.wires if w.dst in edit.ids] == [Wire(first, "out", second, "in")]


# ------------------------------------------------------------------ random sequences
TYPES = [*sorted(CATALOGUE), "Mini", "Nope"]
NAMES = ["fc9", "head", "fc1", "input", "x1", "1bad", "class", "", "a b"]
PORTS = ["in", "out", "in1", "in2", "in3", "x", "y", "nope"]
VALUES = (
    st.integers(-1, 4)
    | st.integers(-3, 300)
    | st.booleans()
    | st.sampled_from(["same", "valid", "x", None, 0.5])
    | st.lists(st.integers(-1, 40), max_size=3)
)
POSITIONS = st.tuples(st.integers(-900, 900), st.floats(-900, 900, allow_nan=False))


def node_ids(net: Network) -> list[str]:
    return [node.id for node in net.nodes]


def pick(data, net: Network) -> str:
    return data.draw(st.sampled_from([*node_ids(net), "ghost"]), label="id")


def picks(data, net: Network) -> list[str]:
    return data.draw(st.lists(st.sampled_from([*node_ids(net), "ghost"]), max_size=3))


def pick_wire(data, net: Network) -> Wire:
    return data.draw(st.sampled_from([*net.wires, Wire("ghost", "out", "act", "in")]))


def op_add(data, net):
    params = data.draw(st.sampled_from([None, {"out_features": 3}, {"width": 0}]))
    return edits.plan_add_node(net, data.draw(st.sampled_from(TYPES)), data.draw(POSITIONS), params)


def op_remove(data, net):
    wires = data.draw(st.lists(st.sampled_from(net.wires), max_size=2)) if net.wires else []
    return edits.plan_remove(net, picks(data, net), wires)


def op_connect(data, net):
    ports = [data.draw(st.sampled_from(PORTS)) for _ in range(2)]
    return edits.plan_connect(net, pick(data, net), ports[0], pick(data, net), ports[1])


def op_disconnect(data, net):
    return edits.plan_disconnect(net, pick_wire(data, net))


def op_params(data, net):
    node = net.node(pick(data, net))
    name = data.draw(st.sampled_from([*node.params, "not_a_param"]))
    return edits.plan_set_params(net, node.id, {name: data.draw(VALUES)})


def op_ports(data, net):
    """Merge layers gain and lose input ports (dropping the wires on lost ones)."""
    merges = [n.id for n in net.nodes if "num_inputs" in n.params] or ["ghost"]
    node_id = data.draw(st.sampled_from(merges))
    return edits.plan_set_params(net, node_id, {"num_inputs": data.draw(st.integers(1, 4))})


def op_params_of(data, net):
    changes = {}
    for node_id in picks(data, net):
        node = net.node(node_id)
        if node.params:
            changes[node_id] = {data.draw(st.sampled_from(list(node.params))): data.draw(VALUES)}
    return edits.plan_set_params_of(net, changes)


def op_rename(data, net):
    return edits.plan_rename(net, pick(data, net), data.draw(st.sampled_from(NAMES)))


def op_move(data, net):
    positions = {node_id: data.draw(POSITIONS) for node_id in picks(data, net)}
    if data.draw(st.booleans()):
        positions[pick(data, net)] = ("left", None)
    return edits.plan_move(net, positions)


def op_trainable(data, net):
    node = net.node(pick(data, net))
    return edits.plan_set_trainable(net, node.id, not node.trainable)


def op_bind(data, net):
    node = net.node(pick(data, net))
    names = [*node.params, "not_a_param"]
    bind = data.draw(st.dictionaries(st.sampled_from(names), st.sampled_from(["width", "2x"])))
    return edits.plan_set_bind(net, node.id, bind)


def op_expand(data, net):
    node = net.node(pick(data, net))
    return edits.plan_set_expanded(net, node.id, not node.expanded)


def op_paste(data, net):
    chosen = [i for i in picks(data, net) if i in net]
    nodes = [net.node_entry(i) for i in dict.fromkeys(chosen)]
    if data.draw(st.booleans()):
        nodes.append({"id": "odd", "type": data.draw(st.sampled_from(TYPES)), "params": {}})
    edges = [((w.src, w.src_port), (w.dst, w.dst_port)) for w in net.wires]
    return edits.plan_paste(net, nodes, edges, data.draw(POSITIONS))


def op_duplicate(data, net):
    return edits.plan_duplicate(net, picks(data, net))


def op_insert(data, net):
    return edits.plan_insert_on_wire(
        net, pick(data, net), pick_wire(data, net), data.draw(POSITIONS)
    )


def op_add_connected(data, net):
    end = {"src": (pick(data, net), "out")} if data.draw(st.booleans()) else {}
    if data.draw(st.booleans()):
        end["dst"] = (pick(data, net), data.draw(st.sampled_from(PORTS)))
    kind = data.draw(st.sampled_from(TYPES))
    return edits.plan_add_connected_node(net, kind, data.draw(POSITIONS), **end)[0]


def op_group(data, net):
    name = data.draw(st.sampled_from([None, "Grp", "Linear", "Mini", "9x"]))
    return plan_group(net, picks(data, net), name, analyze(net))


def op_ungroup(data, net):
    return plan_ungroup(net, pick(data, net))


def op_make_unique(data, net):
    return plan_make_unique(net, pick(data, net))


def op_layout(data, net):
    return edits.plan_auto_layout(net, data.draw(st.sampled_from(["LR", "TB", "up"])))


def op_place(data, net):
    name = data.draw(st.sampled_from(["Mini", "ConvBNReLU", "Ghost"]))
    definition = builtin_blocks().get(name)
    return plan_place_block(net, name, definition, data.draw(POSITIONS))


OPS = [
    op_add, op_remove, op_connect, op_connect, op_disconnect, op_params, op_ports, op_params_of,
    op_rename, op_move, op_trainable, op_bind, op_expand, op_paste, op_duplicate,
    op_insert, op_add_connected, op_group, op_group, op_ungroup, op_make_unique, op_place, op_layout,
]  # fmt: skip


def plan_and_apply(data, project, net, op, done) -> None:
    """Plan one edit; a refused plan changes nothing, an accepted edit is applied."""
    before = dumps(project)
    try:
        edit = op(data, net)
    except DeepwireError as error:
        assert str(error)
        assert dumps(project) == before, f"{op.__name__} refused but changed the project"
        CASES["edits refused"] += 1
        return
    assert dumps(project) == before, f"{op.__name__} changed the project while planning"
    if edit is not None:
        done.append((net, edit, edit.apply(net)))
        CASES["edits applied"] += 1


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts(CASES)


@settings(
    max_examples=scaled(120),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_edits_undo_to_the_original_and_redo_to_the_final_file(data):
    project = make_project()
    inside = project.blocks.get("Mini").network
    original, done = dumps(project), []
    for op in data.draw(st.lists(st.sampled_from(OPS), min_size=1, max_size=25), label="ops"):
        net = inside if data.draw(st.integers(0, 5), label="inside") == 0 else project.network
        plan_and_apply(data, project, net, op, done)
    final = dumps(project)
    for net, _, inverse in reversed(done):  # undo all
        inverse.apply(net)
    assert dumps(project) == original
    # redo all as the editor does (the edit again), then undo and redo once more with
    # the inverses each pass returns
    inverses = [(net, edit.apply(net)) for net, edit, _ in done]
    assert dumps(project) == final
    redos = [(net, inverse.apply(net)) for net, inverse in reversed(inverses)]
    assert dumps(project) == original
    for net, redo in reversed(redos):
        redo.apply(net)
    assert dumps(project) == final
    CASES["edit sequences"] += 1


def test_connect_edit_inverse_is_a_disconnect_of_the_same_wire(project):
    wire = Wire("act", "out", "drop", "in")
    inverse = Connect(wire).apply(project.network)
    assert inverse == edits.Disconnect(wire, f"Connect {wire}")


def test_auto_layout_places_every_node_and_keeps_the_direction_and_undoes_exactly(project):
    network = project.network
    before = dumps(project)
    undo = edits.plan_auto_layout(network, "TB").apply(network)
    assert network.direction == "TB"
    assert '"direction": "TB"' in dumps(project)
    ys = [network.node(n).pos[1] for n in ("input", "fc1", "act")]
    assert ys == sorted(ys) and len(set(ys)) == 3  # the main path runs down
    reloaded = loads(dumps(project))
    assert reloaded.network.direction == "TB"
    undo.apply(network)
    assert dumps(project) == before
    with pytest.raises(NetworkError, match="LR or TB"):
        edits.plan_auto_layout(network, "diagonal")
