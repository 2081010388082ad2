"""An imported model's module hierarchy becomes blocks (engine.import_blocks)."""

import torch

from engine import project as project_file
from engine.analysis import analyze
from engine.blocks import BlockLibrary
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import flattened
from engine.import_blocks import group_modules
from engine.resources import resources_dir
from tests.engine.builders import graph


def flat_resnet18(stage_class: str = "Sequential"):
    """ResNet-18 as an import gives it before blocks: ids ``layer1_0_conv1``, with the
    module path of every node and the class of every module."""
    project = project_file.load(resources_dir() / "examples" / "resnet18.dwire")
    flat = flattened(project.network)
    flat.use_library(BlockLibrary())
    paths, classes = {}, {}
    for node in flat.nodes:
        parts = node.id.split("_")
        if node.id.startswith("layer") and len(parts) > 2:
            paths[node.id] = f"{parts[0]}.{parts[1]}"
            classes[paths[node.id]] = "BasicBlock"
            classes[parts[0]] = stage_class
        else:
            paths[node.id] = ""
    return flat, paths, classes


def same_outputs(flat_module, grouped_module, where: dict) -> bool:
    """Outputs equal with the flat weights loaded where ``group_modules`` says their
    layers went (``layer1_0_conv1.weight`` -> ``layer1.block0.conv1.weight``)."""
    nested = {}
    for key, value in flat_module.state_dict().items():
        node_id, _, name = key.partition(".")
        nested[f"{where.get(node_id, node_id)}.{name}"] = value
    grouped_module.load_state_dict(nested)
    flat_module.eval(), grouped_module.eval()
    x = torch.randn(2, 3, 64, 64)
    return torch.allclose(flat_module(x), grouped_module(x), atol=1e-5)


def test_resnet18_modules_become_instances_of_two_shared_block_types():
    flat, paths, classes = flat_resnet18()
    before = compile_network(flat)
    count = analyze(flat).total_params
    where = group_modules(flat, paths, classes)
    assert where["layer2_0_downsample_conv"] == "layer2_0.downsample_conv"
    blocks = [n for n in flat.nodes if n.is_block]
    assert [n.id for n in blocks] == [f"layer{s}_{i}" for s in range(1, 5) for i in range(2)]
    assert [n.type for n in blocks] == [
        "BasicBlock",
        "BasicBlock",
        *["BasicBlock2", "BasicBlock"] * 3,
    ]
    assert flat.library.names() == ["BasicBlock", "BasicBlock2"]
    basic = flat.library.get("BasicBlock")
    assert [p.name for p in basic.params] == ["out_channels"]
    assert [n.id for n in basic.network.nodes] == [
        "x", "conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu", "out"
    ]  # fmt: skip
    assert flat.node("layer3_1").params == {"out_channels": 256}
    result = analyze(flat)
    assert result.ok and result.total_params == count
    assert same_outputs(before, compile_network(flat), where)
    source = generate_code(flat)
    assert source.count("class BasicBlock(") == 1
    assert "self.layer2_0 = BasicBlock2(in_channels=64, out_channels=128)" in source


def test_a_stage_class_nests_its_blocks_inside_a_stage_block():
    flat, paths, classes = flat_resnet18(stage_class="Stage")
    before = compile_network(flat)
    where = group_modules(flat, paths, classes)
    assert where["layer1_0_conv1"] == "layer1.block0.conv1"
    stages = [n for n in flat.nodes if n.is_block]
    assert [n.id for n in stages] == ["layer1", "layer2", "layer3", "layer4"]
    inner = flat.library.get(stages[1].type).network
    assert [n.type for n in inner.nodes if n.is_block] == ["BasicBlock2", "BasicBlock"]
    assert analyze(flat).ok
    assert same_outputs(before, compile_network(flat), where)


def test_a_module_whose_nodes_are_not_one_piece_stays_flat():
    network = graph(
        [
            ("x", "Input", {"shape": [4]}),
            ("a", "Linear", {"out_features": 4}),
            ("b", "ReLU", {}),
            ("c", "Linear", {"out_features": 4}),
            ("y", "Output", {}),
        ],
        ["x->a", "a->b", "b->c", "c->y"],
    )
    paths = {"x": "", "a": "m", "b": "", "c": "m", "y": ""}
    assert group_modules(network, paths, {"m": "Split"}) == {}
    assert not any(n.is_block for n in network.nodes)
