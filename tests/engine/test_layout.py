"""Auto-layout: data flows left to right, one column per topological layer."""

import itertools

import pytest

from benchmarks.networks import flat_resnet50
from engine.layout import NODE_HEIGHT, NODE_WIDTH, layered_positions, spread_stacked
from tests.engine.builders import chain, graph, mlp


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


def _rectangles_overlap(positions):
    """Whether two node rectangles (NODE_WIDTH x NODE_HEIGHT at their positions) overlap."""
    cells = sorted(positions.values())
    for i, (x, y) in enumerate(cells):
        for x2, y2 in cells[i + 1 :]:
            if x2 >= x + NODE_WIDTH:
                break
            if abs(y2 - y) < NODE_HEIGHT:
                return True
    return False


def _aspect(positions):
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    width, height = max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + NODE_HEIGHT
    return max(width, height) / min(width, height)


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_a_flat_resnet50_folds_into_a_readable_block_without_overlaps(direction):
    network = flat_resnet50()
    positions = layered_positions(network, direction=direction)
    assert set(positions) == {node.id for node in network.nodes}
    assert not _rectangles_overlap(positions)
    assert _aspect(positions) <= 4.0


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_the_main_path_stays_straight_and_branches_go_beside_it(direction):
    network = flat_resnet50()
    positions = layered_positions(network, direction=direction)
    flow, across = (0, 1) if direction == "LR" else (1, 0)
    block = ["pool", *(f"layer1_0_{i}" for i in range(8)), "layer1_0_add", "layer1_0_9"]
    assert len({positions[n][across] for n in block}) == 1  # one band: one straight line
    steps = [positions[b][flow] - positions[a][flow] for a, b in itertools.pairwise(block)]
    assert len(set(steps)) == 1 and steps[0] > 0
    for branch in ("layer1_0_down_0", "layer1_0_down_1"):  # the projection beside the block
        assert positions[branch][across] != positions["pool"][across]
        assert positions["pool"][flow] < positions[branch][flow] < positions["layer1_0_add"][flow]


def test_a_long_chain_wraps_like_lines_of_text():
    network = chain(*(["ReLU"] * 60))
    positions = layered_positions(network)
    ids = [node.id for node in network.nodes]
    rows = sorted({positions[n][1] for n in ids})
    assert len(rows) > 1 and _aspect(positions) <= 4.0
    for row in rows:  # each band reads left to right; the next band starts below, at the left
        xs = [positions[n][0] for n in ids if positions[n][1] == row]
        assert xs == sorted(xs) and xs[0] == 0
    bands = [rows.index(positions[n][1]) for n in ids]
    assert bands == sorted(bands)


def test_top_to_bottom_puts_the_flow_downwards():
    network = mlp()
    positions = layered_positions(network, direction="TB")
    ys = [positions[node.id][1] for node in network.nodes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert len({positions[node.id][0] for node in network.nodes}) == 1


def test_an_unknown_direction_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="'LR' or 'TB'"):
        layered_positions(mlp(), direction="RL")


def test_a_network_whose_nodes_stand_on_one_spot_is_spread_and_a_drawn_one_is_not():
    piled = chain(*["ReLU"] * 30)
    for node in piled.nodes:
        piled.move_node(node.id, (0, 0))
    assert spread_stacked(piled)
    assert len({node.pos for node in piled.nodes}) == len(piled)
    drawn = chain(*["ReLU"] * 30)
    before = {node.id: node.pos for node in drawn.nodes}
    drawn.move_node("relu1", before["relu2"])  # one overlap is the user's business
    assert not spread_stacked(drawn)
    assert drawn.node("relu3").pos == before["relu3"]
