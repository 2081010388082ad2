"""Write the bundled examples built from built-in blocks (resources/examples/).

    .venv/bin/python tools/make_block_examples.py          # writes the files
    .venv/bin/python tools/make_block_examples.py --check  # exit 1 if a file differs

- ``resnet18.dwire``: torchvision's ResNet-18 for 3x64x64 images and 10 classes: the
  stem (7x7 convolution, batch norm, ReLU, max pooling), eight basic blocks as
  instances named as torchvision's modules (``layer1_0`` ... ``layer4_1``; the first
  of stages 2-4 a ``BasicBlockDown``), average pooling and the classifier. It names no
  dataset (none shipped is 3x64x64); choose a folder of images in the Data panel.
- ``unet_small.dwire``: a two-level U-Net that removes noise from the 8x8 digits (the
  training batches get noise, the target is the clean digit).
- ``transformer_tiny.dwire``: two Transformer encoder blocks, built from primitives,
  classifying token sequences.

Each network is laid out by ``engine.layout.lay_out`` as Auto-layout does: ResNet-18
top to bottom, like the figure of its paper; the others left to right. ``tests/engine/test_builtin_blocks.py`` checks that the committed
files are what this script writes.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from engine import project as project_file  # noqa: E402
from engine.blocks.builtin import builtin_block  # noqa: E402
from engine.edits.blocks import AddBlockType  # noqa: E402
from engine.layout import lay_out  # noqa: E402
from engine.network import Network  # noqa: E402
from engine.project import Project  # noqa: E402

EXAMPLES = ROOT / "resources" / "examples"
STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # ResNet-18: channels, first stride


def _project(blocks: list[str]) -> Project:
    """An empty project holding the built-in block types ``blocks``."""
    project = Project()
    for name in blocks:
        AddBlockType(name, builtin_block(name)).apply(project.network)
    return project


def _build(network: Network, nodes: list[tuple], wires: list[str], direction: str = "LR") -> None:
    """Add ``(id, type, params)`` nodes and ``"a->b.port"`` wires (a node's first port
    unless named), then lay them out."""
    for node_id, type_name, params in nodes:
        network.add_node(type_name, params, (0.0, 0.0), node_id)
    for wire in wires:
        source, target = wire.split("->")
        src, _, src_port = source.partition(".")
        dst, _, dst_port = target.partition(".")
        src_port = src_port or network.node(src).output_ports()[0]
        network.connect(src, src_port, dst, dst_port or network.node(dst).input_ports()[0])
    lay_out(network, direction)


def _sequence(nodes: list[tuple]) -> list[str]:
    return [f"{a[0]}->{b[0]}" for a, b in itertools.pairwise(nodes)]


def resnet18() -> Project:
    """torchvision's ResNet-18 (``resnet18(num_classes=10)``) for 3x64x64 images."""
    project = _project(["BasicBlock", "BasicBlockDown"])
    nodes = [
        ("input", "Input", {"shape": [3, 64, 64]}),
        ("conv1", "Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3,
                             "bias": False}),
        ("bn1", "BatchNorm2d", {}),
        ("relu", "ReLU", {}),
        ("maxpool", "MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ]  # fmt: skip
    for stage, (channels, stride) in enumerate(STAGES, start=1):
        for index in range(2):
            down = index == 0 and stride != 1
            params = {"channels": channels, **({"stride": stride} if down else {})}
            block = "BasicBlockDown" if down else "BasicBlock"
            nodes.append((f"layer{stage}_{index}", block, params))
    nodes += [
        ("avgpool", "AdaptiveAvgPool2d", {"output_size": 1}),
        ("flatten", "Flatten", {}),
        ("fc", "Linear", {"out_features": 10}),
        ("output", "Output", {}),
    ]
    _build(project.network, nodes, _sequence(nodes), "TB")
    project.training = {
        "epochs": 30,
        "batch_size": 128,
        "loss": "CrossEntropyLoss",
        "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.0005},
        "scheduler": {"type": "CosineAnnealingLR"},
    }
    project.notes = (
        "ResNet-18 (He et al., 2015) as torchvision builds it, for 3x64x64 images and 10 "
        "classes: a stem, four stages of two basic blocks (the first of stages 2-4 halves "
        "the size and doubles the channels through a projection shortcut), average pooling "
        "and a classifier; 11.2 million parameters. Double-click a block to see its "
        "inside. No dataset is set: choose a folder of images, one subfolder per class."
    )
    return project


def unet_small() -> Project:
    """A two-level U-Net that denoises the 8x8 digits."""
    project = _project(["ConvBNReLU", "UNetDown", "UNetUp"])
    nodes = [
        ("input", "Input", {"shape": [1, 8, 8]}),
        ("stem", "ConvBNReLU", {"channels": 8}),
        ("down1", "UNetDown", {"channels": 16}),
        ("down2", "UNetDown", {"channels": 32}),
        ("up1", "UNetUp", {"channels": 16}),
        ("up2", "UNetUp", {"channels": 8}),
        ("head", "Conv2d", {"out_channels": 1, "kernel_size": 1}),
        ("output", "Output", {}),
    ]
    wires = [
        "input->stem", "stem->down1", "down1->down2",
        "down2->up1.x", "down1->up1.skip",
        "up1->up2.x", "stem->up2.skip",
        "up2->head", "head->output",
    ]  # fmt: skip
    _build(project.network, nodes, wires)
    project.dataset = {
        "name": "digits",
        "params": {"validation_split": 0.2, "task": "reconstruction", "augment": {"noise": 0.5}},
    }
    project.training = {
        "epochs": 10,
        "batch_size": 64,
        "loss": "MSELoss",
        "optimizer": {"type": "Adam", "lr": 0.003},
    }
    project.notes = (
        "A small U-Net: the encoder halves the 8x8 digit twice (UNetDown), the decoder "
        "doubles it back (UNetUp), each step joined to the encoder's features of its size "
        "by a skip wire. Training adds noise to each digit and asks for the clean one."
    )
    return project


def transformer_tiny() -> Project:
    """Two Transformer encoder blocks from primitives, classifying token sequences."""
    project = _project(["TransformerEncoderBlock"])
    block = {"embed_dim": 32, "num_heads": 4, "mlp_dim": 64}
    nodes = [
        ("input", "Input", {"shape": [16], "dtype": "int64"}),
        ("embed", "Embedding", {"num_embeddings": 16, "embedding_dim": 32}),
        ("pos", "PositionalEmbedding", {"max_len": 32}),
        ("encoder1", "TransformerEncoderBlock", block),
        ("encoder2", "TransformerEncoderBlock", block),
        ("norm", "LayerNorm", {}),
        ("flatten", "Flatten", {}),
        ("fc", "Linear", {"out_features": 2}),
        ("output", "Output", {}),
    ]
    _build(project.network, nodes, _sequence(nodes))
    project.dataset = {
        "name": "sequences",
        "params": {"length": 16, "vocab_size": 16, "classes": 2},
    }
    project.training = {
        "epochs": 15,
        "batch_size": 64,
        "loss": "CrossEntropyLoss",
        "optimizer": {"type": "AdamW", "lr": 0.001},
    }
    project.notes = (
        "Token ids are embedded and given positions, then two Transformer encoder blocks "
        "(double-click one: attention, residual Adds, LayerNorm and an MLP) mix them "
        "before a classifier."
    )
    return project


BUILDERS = {"resnet18": resnet18, "unet_small": unet_small, "transformer_tiny": transformer_tiny}


def main(argv: list[str]) -> int:
    """Write every example, or with ``--check`` report those that differ (exit 1)."""
    check = "--check" in argv
    stale = []
    for name, build in BUILDERS.items():
        path = EXAMPLES / f"{name}.dwire"
        text = project_file.dumps(build())
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date: {', '.join(stale)} (run tools/make_block_examples.py)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
