"""Auto-layout: data flows left to right, one column per topological layer."""

from engine.layout import layered_positions
from tests.engine.builders import graph, mlp


def test_a_chain_is_laid_out_left_to_right_on_one_row():
    network = mlp()
    positions = layered_positions(network)
    xs = [positions[node.id][0] for node in network.nodes]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert len({positions[node.id][1] for node in network.nodes}) == 1


def test_every_wire_goes_to_a_later_column_and_nodes_do_not_overlap():
    network = graph(
        [
            ("x", "Input", {"shape": [8]}),
            ("a", "Linear", {"out_features": 8}),
            ("b", "Linear", {"out_features": 8}),
            ("c", "Linear", {"out_features": 8}),
            ("sum", "Add", {}),
            ("out", "Output", {}),
        ],
        ["x->a", "x->b", "b->c", "a->sum.in1", "c->sum.in2", "sum->out"],
    )
    positions = layered_positions(network)
    for wire in network.wires:
        assert positions[wire.src][0] < positions[wire.dst][0]
    assert len(set(positions.values())) == len(network)
    assert positions["sum"][0] > positions["c"][0]  # longest path decides the column


def test_unwired_nodes_and_loops_still_get_a_place():
    network = graph(
        [("x", "Input", {"shape": [4]}), ("a", "Add", {}), ("b", "ReLU", {}), ("lone", "Tanh", {})],
        ["x->a.in1", "a->b", "b->a.in2"],  # a -> b -> a is a loop
    )
    positions = layered_positions(network)
    assert set(positions) == {"x", "a", "b", "lone"}
    assert positions["lone"][0] == max(x for x, _ in positions.values())
