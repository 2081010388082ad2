"""The built-in blocks and the examples built from them.

Every built-in block analyses, compiles and generates code that computes what the
compiled module computes; the ResNet and Transformer blocks and the ResNet-18 example
equal the same modules written by hand as torchvision writes them (parameter counts,
and outputs with the same weights loaded by name).
"""

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from engine import project as project_file
from engine.analysis import analyze
from engine.blocks.block_type import BlockType
from engine.blocks.builtin import builtin_block, builtin_block_names, builtin_blocks
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import plan_place_block
from engine.errors import NetworkError
from engine.project import Project
from tools import make_block_examples

EXAMPLES = Path(__file__).parents[2] / "resources" / "examples"
NAMES = [
    "ConvBNReLU", "BasicBlock", "BasicBlockDown", "Bottleneck", "BottleneckDown",
    "InceptionBlock", "TransformerEncoderBlock", "UNetDown", "UNetUp",
]  # fmt: skip


def placed(name: str, params: dict | None = None, shapes: list | None = None) -> Project:
    """A project whose network feeds one instance of built-in ``name`` from Inputs of
    ``shapes`` (the block's example shapes by default) and shows each of its outputs."""
    data = builtin_block(name)
    examples = [n["params"]["shape"] for n in data["nodes"] if n["type"] == "Input"]
    project = Project()
    network = project.network
    for index, shape in enumerate(shapes or examples):
        network.add_node("Input", {"shape": list(shape)}, (0, 100 * index), f"input{index}")
    plan_place_block(network, name, data, (300, 0), params).apply(network)
    instance = network.nodes[-1]
    for index, port in enumerate(instance.input_ports()):
        network.connect(f"input{index}", "out", instance.id, port)
    for port in instance.output_ports():
        network.add_node("Output", {}, (600, 0), f"result_{port}")
        network.connect(instance.id, port, f"result_{port}", "in")
    return project


def example_inputs(network, batch: int = 2) -> list[torch.Tensor]:
    torch.manual_seed(0)
    return [torch.randn(batch, *n.params["shape"]) for n in network.nodes if n.type == "Input"]


def randomize(module: nn.Module) -> None:
    """Random weights and BatchNorm statistics, so that eval mode is no identity."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if "running_var" in name else
                             torch.randn_like(tensor) * 0.1)  # fmt: skip


def run_code(network) -> nn.Module:
    namespace = {}
    exec(compile(generate_code(network), "<generated>", "exec"), namespace)
    return namespace["Model"]()


# ----------------------------------------------------------------- the library
def test_the_library_lists_every_block_with_help_and_fresh_copies():
    assert builtin_block_names() == NAMES
    blocks = builtin_blocks()
    assert list(blocks) == NAMES
    blocks["BasicBlock"]["params"].clear()
    assert builtin_block("BasicBlock")["params"][0]["name"] == "channels"
    with pytest.raises(NetworkError, match="there is no built-in block 'ResNet'"):
        builtin_block("ResNet")


@pytest.mark.parametrize("name", NAMES)
def test_each_block_explains_itself_and_every_parameter_is_read_inside(name):
    data = builtin_block(name)
    assert len(data["help"]) > 80 and "'" not in data["help"]  # a docstring in code
    bound = {source for n in data["nodes"] for source in n.get("bind", {}).values()}
    exposed = {p["name"] for p in data["params"]}
    assert bound == exposed
    assert all(p["help"] for p in data["params"])
    block_type = BlockType.from_data(name, data, placed(name).blocks)
    assert block_type.to_dict() == data  # stored in the file's canonical form


@pytest.mark.parametrize("name", NAMES)
def test_each_block_analyses_compiles_and_its_code_computes_the_same(name):
    project = placed(name)
    network = project.network
    assert analyze(project.blocks.get(name).network).ok  # the type shown on its own
    result = analyze(network)
    assert result.ok, result.diagnostics
    source = generate_code(network)
    assert source.count(f"class {name}(torch.nn.Module):") == 1
    compiled, written = compile_network(network), run_code(network)
    randomize(compiled)
    written.load_state_dict(compiled.state_dict())
    assert sum(p.numel() for p in written.parameters()) == result.total_params
    compiled.eval(), written.eval()
    inputs = example_inputs(network)
    torch.testing.assert_close(written(*inputs), compiled(*inputs), rtol=0, atol=1e-6)


def test_a_stride_bound_to_a_parameter_takes_a_pair_and_the_shortcut_follows():
    project = placed("BasicBlockDown", {"channels": 32, "stride": (2, 1)}, [(16, 8, 8)])
    result = analyze(project.network)
    assert result.ok, result.diagnostics
    assert result.shapes["basicblockdown1"] == (32, 4, 8)
    project = placed("BasicBlock", {"channels": 32}, [(16, 8, 8)])
    (error,) = analyze(project.network).errors
    assert "inside BasicBlock" in error.message and "add" in error.message


# ----------------------------------------------------------------- by hand
class HandBasicBlock(nn.Module):
    """torchvision's BasicBlock."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class HandBottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3x3)."""

    def __init__(self, inplanes, width, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or inplanes != out_channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = torch.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return torch.relu(out + identity)


class HandEncoderBlock(nn.Module):
    """A pre-norm (ViT) encoder block."""

    def __init__(self, dim, heads, mlp_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x):
        y = self.norm1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.norm2(x))


RENAMED = {"downsample_conv": "downsample.0", "downsample_bn": "downsample.1",
           "fc1": "mlp.0", "fc2": "mlp.2", "_": "."}  # fmt: skip


def by_hand_name(key: str) -> str:
    """``layer2_0.downsample_conv.weight`` as torchvision names it:
    ``layer2.0.downsample.0.weight``."""
    parts = key.split(".")
    parts = [RENAMED.get(p, p) for p in parts]
    if parts[0].startswith("layer"):
        parts[0] = parts[0].replace("_", ".")
    return ".".join(parts)


def assert_same_as_by_hand(network, hand: nn.Module, strip: str = "") -> None:
    """Same parameter count and, with the hand module's weights, the same outputs."""
    result = analyze(network)
    assert result.ok, result.diagnostics
    assert result.total_params == sum(p.numel() for p in hand.parameters())
    compiled = compile_network(network)
    randomize(hand)
    hand_state = hand.state_dict()
    state = {k: hand_state[by_hand_name(k.removeprefix(strip))] for k in compiled.state_dict()}
    compiled.load_state_dict(state)
    assert len(state) == len(hand_state)
    compiled.eval(), hand.eval()
    inputs = example_inputs(network)
    torch.testing.assert_close(compiled(*inputs), hand(*inputs), rtol=0, atol=1e-6)


HAND = {
    "BasicBlock": ({"channels": 16}, (16, 8, 8), lambda: HandBasicBlock(16, 16)),
    "BasicBlockDown": ({"channels": 32}, (16, 8, 8), lambda: HandBasicBlock(16, 32, 2)),
    "Bottleneck": ({"width": 8, "out_channels": 32}, (32, 8, 8),
                   lambda: HandBottleneck(32, 8, 32)),
    "BottleneckDown": ({"width": 8, "out_channels": 32, "stride": 1}, (16, 8, 8),
                       lambda: HandBottleneck(16, 8, 32)),
    "BottleneckDown stride 2": ({"width": 8, "out_channels": 32}, (16, 8, 8),
                                lambda: HandBottleneck(16, 8, 32, 2)),
    "TransformerEncoderBlock": ({"embed_dim": 32, "num_heads": 4, "mlp_dim": 64}, (10, 32),
                                lambda: HandEncoderBlock(32, 4, 64)),
}  # fmt: skip


@pytest.mark.parametrize("case", HAND)
def test_resnet_and_transformer_blocks_equal_the_modules_written_by_hand(case):
    params, shape, hand = HAND[case]
    name = case.split()[0]
    project = placed(name, params, [shape])
    instance = project.network.nodes[1].id
    assert_same_as_by_hand(project.network, hand(), strip=f"{instance}.")


# ----------------------------------------------------------------- examples
class HandResNet18(nn.Module):
    """torchvision's ``resnet18(num_classes=10)``."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes, stages = 64, []
        for planes, stride in make_block_examples.STAGES:
            stages.append(
                nn.Sequential(
                    HandBasicBlock(inplanes, planes, stride), HandBasicBlock(planes, planes)
                )
            )
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_the_resnet18_example_is_torchvisions_resnet18():
    project = project_file.load(EXAMPLES / "resnet18.dwire")
    network = project.network
    assert [n.id for n in network.nodes if n.is_block] == [
        f"layer{stage}_{index}" for stage in range(1, 5) for index in range(2)
    ]
    hand = HandResNet18()
    assert sum(p.numel() for p in hand.parameters()) == 11_181_642
    assert_same_as_by_hand(network, hand)


def test_the_resnet18_code_has_one_class_per_block_type_and_torchvisions_keys():
    network = project_file.load(EXAMPLES / "resnet18.dwire").network
    source = generate_code(network)
    assert source.count("class ") == 3  # BasicBlock, BasicBlockDown, Model
    assert "self.layer2_0 = BasicBlockDown(in_channels=64, channels=128, stride=2)" in source
    assert "self.layer2_1 = BasicBlock(in_channels=128, channels=128)" in source  # inplanes, planes
    written = run_code(network)
    keys = [by_hand_name(k) for k in written.state_dict()]
    assert keys == list(HandResNet18().state_dict())


def test_the_resnet18_example_reads_top_to_bottom_in_one_column_like_the_paper():
    network = project_file.load(EXAMPLES / "resnet18.dwire").network
    assert network.direction == "TB"
    ys = [n.pos[1] for n in network.nodes]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)
    assert {n.pos[0] for n in network.nodes} == {0}


def test_the_block_examples_are_what_the_generator_writes():
    assert make_block_examples.main(["--check"]) == 0


def test_the_block_examples_keep_their_block_types_in_the_file():
    data = json.loads((EXAMPLES / "unet_small.dwire").read_text())
    assert list(data["blocks"]) == ["ConvBNReLU", "UNetDown", "UNetUp"]
    assert data["blocks"]["UNetUp"] == builtin_block("UNetUp")
