"""Blocks: grouping, instances, analysis, compilation and code through block types."""

import json

import pytest
import torch

from engine import project as project_file
from engine.analysis import analyze
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import (
    InsideBlock,
    plan_group,
    plan_make_unique,
    plan_place_block,
    plan_ungroup,
)
from engine.errors import NetworkError, ProjectError
from engine.project import Project
from tests.engine.builders import graph

RESIDUAL = [
    ("input", "Input", {"shape": [8, 6, 6]}),
    ("conv1", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
    ("relu1", "ReLU", {}),
    ("conv2", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
    ("add", "Add", {}),
    ("act", "ReLU", {}),
    ("flat", "Flatten", {}),
    ("fc", "Linear", {"out_features": 5}),
    ("output", "Output", {}),
]
RESIDUAL_WIRES = [
    "input->conv1", "conv1->relu1", "relu1->conv2", "conv2->add.in1", "input->add.in2",
    "add->act", "act->flat", "flat->fc", "fc->output",
]  # fmt: skip


def residual_project() -> Project:
    return Project({"model": graph(RESIDUAL, RESIDUAL_WIRES)})


def group(project: Project, ids, name=None):
    network = project.network
    edit = plan_group(network, ids, name, analyze(network))
    return edit.apply(network)


def two_residuals(project: Project) -> None:
    """Group the residual part into ``Residual`` and add a second instance after it."""
    network = project.network
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    network.add_node("Residual", node_id="second")
    network.disconnect(network.wire_into("flat", "in"))
    network.connect("residual", "out", "second", "x")
    network.connect("second", "out", "flat", "in")


def outputs_equal(a, b, shape=(2, 8, 6, 6)) -> bool:
    """Two compiled modules with the same weights (loaded by name) give the same output."""
    torch.manual_seed(0)
    x = torch.randn(*shape)
    b.load_state_dict(a.state_dict())
    a.eval(), b.eval()
    return torch.equal(a(x), b(x))


def test_grouping_a_residual_keeps_shapes_counts_and_nests_the_weights():
    project = residual_project()
    before = analyze(project.network)
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    network = project.network
    after = analyze(network)
    assert after.ok, after.diagnostics
    assert [n.type for n in network.nodes] == ["Input", "Residual", "Flatten", "Linear", "Output"]
    instance = network.node("residual")
    assert instance.input_ports() == ("x",) and instance.output_ports() == ("out",)
    assert after.shapes["residual"] == before.shapes["act"] == (8, 6, 6)
    assert after.total_params == before.total_params
    keys = list(compile_network(network).state_dict())
    assert keys[:2] == ["residual.conv1.weight", "residual.conv1.bias"]


def test_group_then_undo_gives_back_the_same_file_and_ungroup_the_same_network():
    project = residual_project()
    original = project_file.dumps(project)
    undo = group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    grouped = project_file.dumps(project)
    assert '"version": 2' in grouped and '"Residual"' in grouped
    redo = undo.apply(project.network)
    assert project_file.dumps(project) == original
    redo.apply(project.network)
    assert project_file.dumps(project) == grouped
    plan_ungroup(project.network, "residual").apply(project.network)
    ids = [n.id for n in project.network.nodes]
    assert ids[1:6] == [f"residual_{i}" for i in ("conv1", "relu1", "conv2", "add", "act")]
    flat = analyze(project.network)
    assert flat.ok and flat.total_params == analyze(graph(RESIDUAL, RESIDUAL_WIRES)).total_params


def test_group_refuses_a_selection_that_a_path_leaves_and_reenters():
    project = residual_project()
    with pytest.raises(NetworkError, match="relu1 lies on a path between"):
        plan_group(project.network, ["conv1", "conv2"])
    with pytest.raises(NetworkError, match="Input of the network"):
        plan_group(project.network, ["input", "conv1"])
    with pytest.raises(NetworkError, match="is a layer type already"):
        plan_group(project.network, ["conv1"], "Conv2d")


def test_a_block_with_two_results_has_two_output_ports():
    project = residual_project()
    group(project, ["conv1", "relu1"], "Stem")  # relu1 feeds conv2; conv1 only relu1
    network = project.network
    assert network.node("stem").output_ports() == ("out",)
    # input feeds both conv1 and add: grouping conv1..conv2 leaves add outside
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2"], "Pair")
    assert analyze(project.network).ok
    project = residual_project()
    network = project.network
    network.add_node("Output", node_id="side")
    network.connect("relu1", "out", "side", "in")
    group(project, ["conv1", "relu1", "conv2"], "Two")
    block = network.node("two")
    assert block.output_ports() == ("out1", "out2")
    result = analyze(network)
    assert result.ok, result.diagnostics
    module = compile_network(network)
    outs = module(torch.randn(2, 8, 6, 6))
    assert [tuple(o.shape) for o in outs] == [(2, 5), (2, 8, 6, 6)]


def test_instances_read_their_own_parameters_through_bindings():
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    block = project.blocks.get("Residual")
    block.params = ()
    text = project_file.dumps(project)
    data = json.loads(text)
    data["blocks"]["Residual"]["params"] = [
        {"name": "width", "kind": "int", "default": 8, "minimum": 1}
    ]
    for node in data["blocks"]["Residual"]["nodes"]:
        if node["id"] == "conv2":
            node["bind"] = {"out_channels": "width"}
    data["networks"]["model"]["nodes"][1]["params"] = {"width": 3}
    loaded = project_file.loads(json.dumps(data))
    result = analyze(loaded.network)
    assert not result.ok
    assert "inside Residual" in result.errors[0].message
    assert "add" in result.errors[0].message  # 3 channels cannot be added to 8
    loaded.network.set_params("residual", {"width": 8})
    assert analyze(loaded.network).ok


def test_an_error_inside_marks_the_instance_and_names_the_inner_node():
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    inside = project.blocks.get("Residual").network
    inside.set_params("conv2", {"out_channels": 4})
    result = analyze(project.network)
    (error,) = [d for d in result.errors if d.node == "residual"]
    assert error.message.startswith("residual: inside Residual, add:")


def test_editing_the_type_changes_every_instance_and_make_unique_detaches_one():
    project = residual_project()
    network = project.network
    two_residuals(project)
    before = analyze(network).params["second"]
    plan_make_unique(network, "second").apply(network)
    assert network.node("second").type == "Residual2"
    project.blocks.get("Residual").network.set_params("conv1", {"kernel_size": 1, "padding": 0})
    result = analyze(network)
    assert result.params["second"] == before
    assert result.params["residual"] < before


def test_generated_code_has_one_class_per_block_type_and_the_same_outputs():
    project = residual_project()
    network = project.network
    two_residuals(project)
    source = generate_code(network)
    assert source.count("class Residual(torch.nn.Module):") == 1
    assert "self.residual = Residual(" in source and "self.second = Residual(" in source
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert outputs_equal(compile_network(network), namespace["Model"]())


def test_blocks_nest_and_the_inner_class_comes_first():
    project = residual_project()
    network = project.network
    group(project, ["conv1", "relu1"], "ConvRelu")
    group(project, ["convrelu", "conv2", "add", "act"], "Outer")
    assert analyze(network).ok
    keys = list(compile_network(network).state_dict())
    assert keys[0] == "outer.convrelu.conv1.weight"
    source = generate_code(network)
    assert (
        source.index("class ConvRelu(")
        < source.index("class Outer(")
        < source.index("class Model(")
    )
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    assert outputs_equal(compile_network(network), namespace["Model"]())
    text = project_file.dumps(project)
    assert project_file.dumps(project_file.loads(text)) == text


def test_version_1_files_open_and_save_as_version_2(tmp_path):
    text = project_file.dumps(residual_project()).replace('"version": 2', '"version": 1')
    loaded = project_file.loads(text)
    path = tmp_path / "old.dwire"
    project_file.save(loaded, path)
    assert path.read_text() == text.replace('"version": 1', '"version": 2')


HOSTILE_BLOCKS = {
    "holds itself": (
        {"A": {"params": [], "nodes": [{"id": "a", "type": "A"}], "edges": []}},
        "block 'A' holds itself",
    ),
    "a loop of two": (
        {
            "A": {"nodes": [{"id": "b", "type": "B"}], "edges": []},
            "B": {"nodes": [{"id": "a", "type": "A"}], "edges": []},
        },
        "holds itself",
    ),
    "layer name": ({"Linear": {"nodes": [], "edges": []}}, "Linear is a layer type already"),
    "bad name": ({"1x": {"nodes": [], "edges": []}}, "not a valid block name"),
    "bad param": (
        {"A": {"params": [{"name": "w", "kind": "shape", "default": [1]}], "nodes": []}},
        "kind must be one of",
    ),
    "unknown field": ({"A": {"code": "import os"}}, "unknown field 'code'"),
    "not an object": ({"A": [1, 2]}, "must be an object"),
}


@pytest.mark.parametrize("case", HOSTILE_BLOCKS, ids=str)
def test_hostile_block_sections_are_refused_with_a_sentence(case):
    blocks, message = HOSTILE_BLOCKS[case]
    data = json.loads(project_file.dumps(residual_project()))
    data["blocks"] = blocks
    with pytest.raises(ProjectError, match=message):
        project_file.loads(json.dumps(data))


def test_blocks_in_a_version_1_file_and_a_newer_version_are_refused():
    data = json.loads(project_file.dumps(residual_project()))
    data["blocks"] = {}
    data["version"] = 1
    with pytest.raises(ProjectError, match="need file format version 2"):
        project_file.loads(json.dumps(data))
    data.pop("blocks")
    data["version"] = 3
    with pytest.raises(ProjectError, match="newer Deepwire"):
        project_file.loads(json.dumps(data))


def test_a_binding_outside_a_block_is_an_error_on_the_node():
    network = graph(RESIDUAL, RESIDUAL_WIRES)
    network.set_bind("conv1", {"out_channels": "width"})
    result = analyze(network)
    assert any(d.node == "conv1" and "not inside a block" in d.message for d in result.errors)


def test_blocks_paste_into_another_project_with_their_types():
    from engine.edits.paste import plan_paste, selection_data

    source = residual_project()
    group(source, ["conv1", "relu1"], "ConvRelu")
    group(source, ["convrelu", "conv2", "add", "act"], "Outer")
    copied = selection_data(source.network, ["outer"])
    assert list(copied["blocks"]) == ["ConvRelu", "Outer"]
    target = Project({"model": graph(RESIDUAL, RESIDUAL_WIRES)})
    before = project_file.dumps(target)
    edges = [(tuple(e["from"]), tuple(e["to"])) for e in copied["edges"]]
    edit = plan_paste(target.network, copied["nodes"], edges, (0, 300), copied["blocks"])
    undo = edit.apply(target.network)
    assert target.blocks.names() == ["ConvRelu", "Outer"]
    assert edit.ids == ["outer"] and target.network.node("outer").type == "Outer"
    redo = undo.apply(target.network)
    assert project_file.dumps(target) == before  # the types go with the undone paste
    redo.apply(target.network)
    # the same types again are reused; a different inside under the same name is kept apart
    plan_paste(target.network, copied["nodes"], edges, (0, 600), copied["blocks"]).apply(
        target.network
    )
    assert target.blocks.names() == ["ConvRelu", "Outer"]
    target.blocks.get("ConvRelu").network.set_params("conv1", {"kernel_size": 1, "padding": 0})
    edit = plan_paste(target.network, copied["nodes"], edges, (0, 900), copied["blocks"])
    edit.apply(target.network)
    assert target.blocks.names() == ["ConvRelu", "Outer", "ConvRelu2", "Outer2"]
    assert target.network.node(edit.ids[0]).type == "Outer2"
    assert [n.type for n in target.blocks.get("Outer2").network.nodes][1] == "ConvRelu2"
    pasted = target.network.node(edit.ids[0])
    assert not [
        d for d in analyze(target.network).errors if d.node == pasted.id and "inside" in d.message
    ]


def test_a_damaged_pasted_block_is_refused_before_anything_changes():
    from engine.edits.paste import plan_paste

    target = residual_project()
    before = project_file.dumps(target)
    nodes = [{"id": "b", "type": "Broken", "params": {}, "pos": (0, 0)}]
    blocks = {"Broken": {"nodes": [{"id": "x", "type": "NoSuchLayer"}], "edges": []}}
    with pytest.raises(NetworkError, match="unknown layer type 'NoSuchLayer'"):
        plan_paste(target.network, nodes, [], (0, 0), blocks)
    assert project_file.dumps(target) == before


def test_renaming_a_block_type_renames_its_instances_in_every_network():
    from engine.edits.blocks import plan_rename_block_type

    project = residual_project()
    group(project, ["conv1", "relu1"], "ConvRelu")
    group(project, ["convrelu", "conv2", "add", "act"], "Outer")
    other = project.add_network("other")
    other.add_node("ConvRelu", node_id="c")
    before = project_file.dumps(project)
    with pytest.raises(NetworkError, match="already has a block type named Outer"):
        plan_rename_block_type(project.network, "ConvRelu", "Outer")
    undo = plan_rename_block_type(project.network, "ConvRelu", "Stem").apply(project.network)
    assert project.blocks.names() == ["Stem", "Outer"]
    assert other.node("c").type == "Stem"
    assert project.blocks.get("Outer").network.node("convrelu").type == "Stem"
    assert analyze(project.network).ok
    undo.apply(project.network)
    assert project_file.dumps(project) == before


def test_grouping_inside_a_block_exposes_the_parameters_its_nodes_read():
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    data = json.loads(project_file.dumps(project))
    data["blocks"]["Residual"]["params"] = [
        {"name": "unused", "kind": "bool", "default": True},
        {"name": "k", "kind": "int", "default": 3},
        {"name": "p", "kind": "int", "default": 1},
    ]
    for node in data["blocks"]["Residual"]["nodes"]:
        if node["id"] in ("conv1", "conv2"):
            node["bind"] = {"kernel_size": "k", "padding": "p"}
    data["networks"]["model"]["nodes"][1]["params"] = {"k": 1, "p": 0}
    project = project_file.loads(json.dumps(data))
    inside = project.blocks.get("Residual").network
    plan_group(inside, ["conv1", "relu1"], "Head", analyze(inside)).apply(inside)
    assert [p.name for p in project.blocks.get("Head").params] == ["k", "p"]
    assert inside.node("head").bind == {"k": "k", "p": "p"}
    result = analyze(project.network)
    assert result.ok, result.diagnostics
    head = result.inside["residual"].inside["head"]
    assert head.network.node("conv1").params["kernel_size"] == 1  # the outer instance's k


def test_a_block_cannot_be_placed_inside_itself():
    project = residual_project()
    group(project, ["conv1", "relu1"], "ConvRelu")
    group(project, ["convrelu", "conv2", "add", "act"], "Outer")
    inside = project.blocks.get("ConvRelu").network
    with pytest.raises(NetworkError, match="Outer holds ConvRelu, and a block cannot hold itself"):
        inside.add_node("Outer")
    with pytest.raises(NetworkError, match="a block cannot hold itself"):
        plan_place_block(inside, "ConvRelu", None, (0, 0)).apply(inside)


def test_an_instance_with_an_error_inside_keeps_its_inside_analysis():
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    project.blocks.get("Residual").network.set_params("conv2", {"out_channels": 4})
    result = analyze(project.network)
    inside = result.inside["residual"]
    assert [d.node for d in inside.errors] == ["add"]


def test_exposing_an_inner_parameter_lets_each_instance_set_it_and_undo_restores_the_file():
    from engine.edits import plan_set_params
    from engine.edits.blocks import plan_expose, plan_unexpose

    project = residual_project()
    network = project.network
    two_residuals(project)
    inside = project.blocks.get("Residual").network
    before, undo = project_file.dumps(project), []

    def do(edit):
        undo.append(edit.apply(network))

    do(plan_expose(inside, "conv1", "kernel_size", "k"))
    do(plan_expose(inside, "conv2", "kernel_size", "k"))
    block = project.blocks.get("Residual")
    assert [p.name for p in block.params] == ["k"] and block.param("k").default == 3
    for node_id in ("conv1", "conv2"):
        do(InsideBlock("Residual", plan_set_params(inside, node_id, {"padding": 0})))
    do(plan_set_params(network, "second", {"k": 1}))
    result = analyze(network)  # the first instance still has k = 3 without padding
    assert [d.node for d in result.errors] == ["residual"]
    do(plan_set_params(network, "residual", {"k": 1}))
    assert analyze(network).ok
    source = generate_code(network)
    assert "kernel_size=k," in source and "self.second = Residual(" in source
    assert "k=1)" in source
    with pytest.raises(NetworkError, match="cannot read it"):
        plan_expose(inside, "conv1", "bias", "k")
    with pytest.raises(NetworkError, match="not inside a block"):
        plan_expose(network, "fc", "out_features")
    do(plan_unexpose(inside, "conv1", "kernel_size"))
    assert [p.name for p in block.params] == ["k"]  # conv2 still reads it
    do(plan_unexpose(inside, "conv2", "kernel_size"))
    assert block.params == ()
    assert project_file.dumps(project_file.loads(project_file.dumps(project)))
    for inverse in reversed(undo):
        inverse.apply(network)
    assert project_file.dumps(project) == before


def test_a_wire_on_a_port_the_block_type_lost_is_an_error_not_a_shape():
    project = residual_project()
    network = project.network
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    inside = project.blocks.get("Residual").network
    inside.remove_node("out")
    result = analyze(network)
    messages = [d.message for d in result.errors if d.node == "residual"]
    assert any("has no output out any more" in m for m in messages), result.diagnostics
    assert "flat" not in result.shapes
    inside.add_node("Output", node_id="out")
    inside.connect("act", "out", "out", "in")
    inside.remove_node("x")
    messages = [d.message for d in analyze(network).errors if d.node == "residual"]
    assert any("has no input x any more" in m for m in messages)


def test_a_network_keeps_its_drawing_direction_and_a_wrong_one_is_refused():
    data = json.loads(project_file.dumps(residual_project()))
    data["networks"]["model"]["direction"] = "TB"
    assert project_file.loads(json.dumps(data)).network.direction == "TB"
    data["networks"]["model"]["direction"] = "diagonal"
    with pytest.raises(ProjectError, match='"direction" must be "LR"'):
        project_file.loads(json.dumps(data))


def test_undo_and_reopen_keep_a_wire_on_a_port_its_block_lost():
    from engine.edits import plan_remove

    project = residual_project()
    network = project.network
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Residual")
    before = project_file.dumps(project)
    inside = project.blocks.get("Residual").network
    undo = [InsideBlock("Residual", plan_remove(inside, ["out"])).apply(network)]
    lost = project_file.dumps(project)  # the wire from residual.out stays, as an error
    assert project_file.dumps(project_file.loads(lost)) == lost
    undo.append(plan_remove(network, ["residual"]).apply(network))
    for inverse in reversed(undo):
        inverse.apply(network)
    assert project_file.dumps(project) == before
    data = json.loads(lost)
    data["networks"]["model"]["edges"][0]["from"][1] = "nowhere"  # a plain layer's port
    with pytest.raises(ProjectError, match="edge 1: input has no output port 'nowhere'"):
        project_file.loads(json.dumps(data))
