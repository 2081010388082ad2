"""Blocks against hostile files, clipboards and names: each is refused with one sentence
or works, and generated code still runs and equals the compiled module."""

from __future__ import annotations

import json

import pytest

from engine import project as project_file
from engine.analysis import analyze
from engine.cli import main
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import plan_expose
from engine.edits.paste import plan_paste, selection_data
from engine.errors import DeepwireError, NetworkError, ProjectError
from engine.project import Project
from tests.engine.builders import graph
from tests.engine.test_blocks import group, outputs_equal, residual_project


def residual_file() -> dict:
    """The residual network with its residual part grouped into block ``Res``, as data."""
    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Res")
    return json.loads(project_file.dumps(project))


def chain_block(name: str, inner: str, shape=(8, 6, 6)) -> dict:
    """A block ``x -> a (inner) -> b (inner) -> out``: two instances of ``inner``."""
    return {
        "nodes": [
            {"id": "x", "type": "Input", "params": {"shape": list(shape)}},
            {"id": "a", "type": inner},
            {"id": "b", "type": inner},
            {"id": "out", "type": "Output"},
        ],
        "edges": [
            {"from": ["x", "out"], "to": ["a", "x"]},
            {"from": ["a", "out"], "to": ["b", "x"]},
            {"from": ["b", "out"], "to": ["out", "in"]},
        ],
    }


def doubling_blocks(levels: int) -> dict:
    """Blocks ``D1``..``Dlevels``, each holding two of the one before: a few lines of
    file that open into 2**levels copies of ``Res``."""
    blocks = residual_file()["blocks"]
    inner = "Res"
    for level in range(1, levels + 1):
        blocks[f"D{level}"] = chain_block(f"D{level}", inner)
        inner = f"D{level}"
    return blocks


def run_cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err.strip()


# ----------------------------------------------------------------- files
def test_a_file_whose_blocks_double_at_each_level_is_refused_not_opened_for_hours(tmp_path, capsys):
    data = residual_file()
    data["blocks"] = doubling_blocks(17)  # 131,072 residual blocks in a 6 KB file
    data["networks"]["model"]["nodes"][1]["type"] = "D17"
    path = tmp_path / "bomb.dwire"
    path.write_text(json.dumps(data))
    code, err = run_cli(capsys, "summary", str(path))
    assert code == 2
    assert err.startswith("deepwire: bomb.dwire: block 'D14': ")
    assert "more than 100,000 nodes once the blocks inside it are opened" in err
    assert "\n" not in err


def test_a_network_of_many_big_blocks_is_refused_as_a_whole():
    data = residual_file()
    data["blocks"] = doubling_blocks(
        13
    )  # D13 opens into 73,726 nodes, two of them into more than 100,000
    nodes = data["networks"]["model"]["nodes"]
    nodes[1]["type"] = "D13"
    nodes.insert(2, {"id": "twin", "type": "D13", "pos": [0, 0]})
    with pytest.raises(ProjectError, match="network 'model' holds more than 100,000 nodes"):
        project_file.loads(json.dumps(data))


@pytest.mark.parametrize("name", ["Input", "Output", "ReLU"])
def test_a_block_named_like_a_layer_it_holds_is_refused_for_its_name(name):
    data = residual_file()
    data["blocks"] = {name: data["blocks"]["Res"]}
    data["networks"]["model"]["nodes"][1]["type"] = name
    with pytest.raises(ProjectError, match=f"block '{name}': {name} is a layer type already"):
        project_file.loads(json.dumps(data))


# ----------------------------------------------------------------- generated code
def runs_and_equals_the_compiled_module(project) -> str:
    """The generated code of ``project``'s network, checked to build a Model whose
    state_dict keys and outputs are the compiled module's."""
    source = generate_code(project.network)
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    compiled, generated = compile_network(project.network), namespace["Model"]()
    assert list(generated.state_dict()) == list(compiled.state_dict())
    assert outputs_equal(compiled, generated)
    return source


@pytest.mark.parametrize("name", ["self", "super", "Model", "list", "Module", "float"])
def test_a_block_named_like_a_python_name_the_code_uses_still_runs(name):
    layers = [
        ("input", "Input", {"shape": [8, 6, 6]}),
        ("scale", "Scale", {}),  # its class calls float(init)
        ("relu", "ReLU", {}),
        ("output", "Output", {}),
    ]
    project = Project({"model": graph(layers, ["input->scale", "scale->relu", "relu->output"])})
    group(project, ["scale", "relu"], name)
    source = runs_and_equals_the_compiled_module(project)
    if name != "Module":  # Python's names keep their meaning: the class is renamed
        assert source.count(f"class {name}(") == (name == "Model")


@pytest.mark.parametrize(
    "exposed", ["self", "torch", "super", "x", "__class__", "__width", "Inner", "conv2", "Model"]
)
def test_an_exposed_parameter_named_like_a_python_name_or_a_node_still_runs(exposed):
    project = residual_project()
    group(project, ["conv1", "relu1"], "Inner")
    group(project, ["inner", "conv2", "add", "act"], "Outer")
    inside = project.blocks.get("Outer").network
    plan_expose(inside, "conv2", "out_channels", exposed).apply(project.network)
    runs_and_equals_the_compiled_module(project)


# ----------------------------------------------------------------- paste
def pasted(project, blocks: dict, type_name: str):
    """Paste one instance of ``type_name`` carrying ``blocks`` into ``project``."""
    nodes = [{"id": "b", "type": type_name, "params": {}, "pos": (0, 0)}]
    return plan_paste(project.network, nodes, [], (0, 0), blocks)


NONSENSE_BLOCKS = {
    "nodes not a list": {"nodes": "abc"},
    "a node not an object": {"nodes": [1, 2]},
    "a node without id": {"nodes": [{"type": "ReLU"}]},
    "a node without type": {"nodes": [{"id": "r"}]},
    "a type that is a number": {"nodes": [{"id": "r", "type": 5}]},
    "edges not a list": {"nodes": [], "edges": "x"},
    "an edge without ends": {"nodes": [], "edges": [{"from": 1}]},
    "an edge of three parts": {
        "nodes": [{"id": "r", "type": "ReLU"}],
        "edges": [{"from": ["r", "out", "x"], "to": ["r", "in"]}],
    },
    "help a number": {"help": 5},
    "an unknown field": {"code": "import os"},
    "a wrong direction": {"direction": "up"},
    "a position of NaN": {"nodes": [{"id": "r", "type": "ReLU", "pos": [float("nan"), 0]}]},
}


@pytest.mark.parametrize("case", NONSENSE_BLOCKS, ids=str)
def test_a_pasted_block_of_valid_json_but_nonsense_is_refused_with_a_sentence(case):
    project = residual_project()
    before = project_file.dumps(project)
    with pytest.raises(NetworkError) as refused:
        pasted(project, {"A": NONSENSE_BLOCKS[case]}, "A")
    assert str(refused.value).startswith("the pasted blocks: block 'A'")
    assert project_file.dumps(project) == before


def test_pasted_blocks_nested_too_deep_or_opening_into_millions_are_refused():
    project = residual_project()
    chain = residual_file()["blocks"]
    for level in range(1, 40):  # C1 holds Res, C2 holds C1...
        block = chain_block(f"C{level}", f"C{level - 1}" if level > 1 else "Res")
        del block["nodes"][2]  # one instance, not two
        block["edges"] = [block["edges"][0], {"from": ["a", "out"], "to": ["out", "in"]}]
        chain[f"C{level}"] = block
    with pytest.raises(NetworkError, match="nested more than 32 deep"):
        pasted(project, chain, "C39")
    with pytest.raises(NetworkError, match="more than 100,000 nodes"):
        pasted(project, doubling_blocks(17), "D17")


def test_a_block_pasted_twice_from_one_copy_reuses_its_type():
    source = residual_project()
    group(source, ["conv1", "relu1", "conv2", "add", "act"], "Res")
    copied = selection_data(source.network, ["res"])
    target = residual_project()
    for offset in (0, 100):
        plan_paste(target.network, copied["nodes"], [], (0, offset), copied["blocks"]).apply(
            target.network
        )
    assert target.blocks.names() == ["Res"]
    assert [n.type for n in target.network.nodes].count("Res") == 2


@pytest.mark.parametrize("pos", [[1e300, 0], [0, -1e13]])
def test_a_position_too_far_to_save_again_is_refused_on_open(pos):
    data = residual_file()
    data["networks"]["model"]["nodes"][2]["pos"] = pos
    with pytest.raises(ProjectError, match=r"node 'flat': a position must be two numbers within"):
        project_file.loads(json.dumps(data))  # it was opened, then saved as a 301-digit number


def test_a_pasted_node_whose_trainable_is_not_true_or_false_is_refused():
    project = residual_project()
    nodes = [{"id": "fc2", "type": "Linear", "params": {}, "pos": (0, 0), "trainable": "no"}]
    with pytest.raises(DeepwireError, match="trainable must be true or false"):
        plan_paste(project.network, nodes, [], (0, 0))


# ----------------------------------------------------------------- review
def test_ungrouping_a_block_inside_a_block_keeps_its_nodes_reading_the_outer_parameter():
    from engine.edits.blocks import plan_ungroup

    project = residual_project()
    network = project.network
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Res")
    res = project.blocks.get("Res").network
    plan_expose(res, "conv2", "out_channels", "width").apply(network)
    group(project, ["res"], "Outer")
    outer = project.blocks.get("Outer").network
    plan_expose(outer, "res", "width", "w").apply(network)
    plan_ungroup(outer, "res").apply(outer)
    assert outer.node("res_conv2").bind == {"out_channels": "w"}
    assert analyze(network).ok
    network.set_params("outer", {"w": 4})  # 4 channels cannot be added to the 8 of x
    assert [d.node for d in analyze(network).errors] == ["outer"]


def test_resolving_an_instance_with_shapes_and_no_dtypes_uses_the_shapes():
    from engine.blocks.resolve import resolve

    project = residual_project()
    group(project, ["conv1", "relu1", "conv2", "add", "act"], "Res")
    inside, problems = resolve(project.blocks.get("Res"), {}, [(8, 3, 3)])
    assert tuple(inside.node("x").params["shape"]) == (8, 3, 3) and not problems


def test_a_block_with_a_name_of_64_characters_can_be_made_unique():
    from engine.edits.blocks import plan_make_unique

    project = residual_project()
    name = "B" + "a" * 63
    group(project, ["conv1", "relu1", "conv2", "add", "act"], name)
    plan_make_unique(project.network, name.lower()).apply(project.network)
    assert project.blocks.names() == [name, name[:63] + "2"]


def test_a_misspelt_parameter_of_a_block_instance_in_a_file_is_refused_not_ignored():
    data = residual_file()
    data["blocks"]["Res"]["params"] = [{"name": "width", "kind": "int", "default": 8}]
    data["networks"]["model"]["nodes"][1]["params"] = {"widht": 4}
    with pytest.raises(
        ProjectError, match=r"node 'res': Res has no parameter 'widht' \(it has: width\)"
    ):
        project_file.loads(json.dumps(data))


@pytest.mark.parametrize(
    ("choices", "reason"),
    [
        ([1, "a", 2.5], "choices must be all text or all numbers"),  # only 1 could be chosen
        (["same", 'a"\n<b>x</b>'], "a choice must be one line"),
    ],
)
def test_a_block_parameter_with_choices_no_one_could_pick_is_refused(choices, reason):
    data = residual_file()
    param = {"name": "mode", "kind": "choice", "default": choices[0], "choices": choices}
    data["blocks"]["Res"]["params"] = [param]
    with pytest.raises(ProjectError, match=f"block 'Res': block parameter mode: {reason}"):
        project_file.loads(json.dumps(data))


def test_grouping_deeper_than_a_file_may_nest_is_refused_before_anything_changes():
    from engine.edits.blocks import plan_group, plan_place_block

    project = residual_project()
    target, ids = project.network, ["conv1"]
    for level in range(32):  # L0 holds L1 ... holds L31: 32 levels, as deep as a file may
        plan_group(target, ids, f"L{level}", analyze(target)).apply(target)
        target = project.blocks.get(f"L{level}").network
        ids = [n.id for n in target.nodes if n.spec.role == "layer"]
    text = project_file.dumps(project)
    assert project_file.dumps(project_file.loads(text)) == text
    with pytest.raises(NetworkError, match="blocks would nest 33 deep, and at most 32"):
        plan_group(target, ids, "L32", analyze(target))
    with pytest.raises(NetworkError, match="blocks would nest 33 deep"):
        plan_place_block(target, "Flat", {"nodes": [], "edges": []}, (0, 0))
    assert project_file.dumps(project) == text
