"""Deepwire's built-in block types: the blocks of well-known networks, ready to place.

Each is plain block data in the project file's ``blocks`` layout (``BlockType.to_dict``:
help, exposed parameters, nodes with their ``bind``, edges), so the palette shows it
and ``engine.edits.blocks.plan_place_block`` copies it into a project the first time
it is placed. Every block holds layers only (no block inside another), so placing one
never needs a second type. Inner layers read the exposed parameters through ``bind``;
what a block cannot express (a size that is a sum or half of another) is a parameter
of its own or fixed, and the help says so.

The inner nodes are named as torchvision names them (``conv1``, ``bn1``,
``downsample_conv``), so the generated code and the state_dict read like torchvision's,
and are laid out by ``engine.layout.layered_positions``.
"""

from __future__ import annotations

import copy
import functools
import itertools
from typing import Any

from engine.errors import NetworkError

Data = dict[str, Any]


# ----------------------------------------------------------------- building helpers
def _param(name: str, kind: str, default: Any, help_text: str, **extra) -> Data:
    minimum = {"minimum": 1} if kind in ("int", "int_or_tuple") else {}
    return {"name": name, "kind": kind, "default": default, "help": help_text, **minimum, **extra}


def _input(node_id: str, shape: list[int]) -> Data:
    return {"id": node_id, "type": "Input", "params": {"shape": shape}}


def _output(node_id: str = "out") -> Data:
    return {"id": node_id, "type": "Output", "params": {}}


def _layer(node_id: str, layer: str, params: Data | None = None, **bind: str) -> Data:
    entry = {"id": node_id, "type": layer, "params": dict(params or {})}
    if bind:
        entry["bind"] = bind
    return entry


def _conv(node_id: str, kernel: int, padding: int, **bind: str) -> Data:
    """A Conv2d without bias (the BatchNorm after it has one), output channels bound."""
    params = {"kernel_size": kernel, "padding": padding, "bias": False}
    return _layer(node_id, "Conv2d", params, **bind)


def _conv_bn_relu(suffix: str, channels: str, kernel: int = 3, **bind: str) -> list[Data]:
    """``conv{suffix}``, ``bn{suffix}``, ``relu{suffix}``."""
    return [
        _conv(f"conv{suffix}", kernel, kernel // 2, out_channels=channels, **bind),
        _layer(f"bn{suffix}", "BatchNorm2d"),
        _layer(f"relu{suffix}", "ReLU"),
    ]


def _chain(*ids: str) -> list[str]:
    return [f"{a}->{b}" for a, b in itertools.pairwise(ids)]


def _edges(wires: list[str]) -> list[Data]:
    """``"a->b.in2"`` wires as file edges (ports ``out`` and ``in`` unless named)."""
    edges = []
    for wire in wires:
        source, target = wire.split("->")
        src, _, src_port = source.partition(".")
        dst, _, dst_port = target.partition(".")
        edges.append({"from": [src, src_port or "out"], "to": [dst, dst_port or "in"]})
    return edges


# ----------------------------------------------------------------- the blocks
def _conv_bn_relu_block() -> Data:
    return {
        "help": (
            "A convolution, batch normalization and ReLU: the basic step of modern CNNs. "
            "The convolution has no bias, since the normalization that follows adds one. "
            "Keep padding at kernel_size // 2 to keep the image size (stride 1); stride 2 "
            "halves it."
        ),
        "params": [
            _param("channels", "int", 64, "Output channels (feature maps)."),
            _param("kernel_size", "int_or_tuple", 3, "Size of the convolution window."),
            _param("stride", "int_or_tuple", 1, "Step of the window; 2 halves the size."),
            _param(
                "padding",
                "int_or_tuple",
                1,
                "Zeros added around the image; kernel_size // 2 keeps the size.",
                minimum=0,
            ),
        ],
        "nodes": [
            _input("x", [3, 32, 32]),
            _layer(
                "conv",
                "Conv2d",
                {"bias": False},
                out_channels="channels",
                kernel_size="kernel_size",
                stride="stride",
                padding="padding",
            ),
            _layer("bn", "BatchNorm2d"),
            _layer("relu", "ReLU"),
            _output(),
        ],
        "edges": _edges(_chain("x", "conv", "bn", "relu", "out")),
    }


def _basic_block(down: bool) -> Data:
    """ResNet's basic block; ``down`` adds the strided projection shortcut."""
    params = [
        _param("channels", "int", 128 if down else 64, "Output channels of both convolutions.")
    ]
    first = {"out_channels": "channels"}
    if down:
        params.append(_param("stride", "int_or_tuple", 2, "Stride of conv1 and the shortcut."))
        first["stride"] = "stride"
    nodes = [
        _input("x", [64, 32, 32] if down else [64, 16, 16]),
        _conv("conv1", 3, 1, **first),
        _layer("bn1", "BatchNorm2d"),
        _layer("relu1", "ReLU"),
        _conv("conv2", 3, 1, out_channels="channels"),
        _layer("bn2", "BatchNorm2d"),
    ]
    wires = _chain("x", "conv1", "bn1", "relu1", "conv2", "bn2", "add.in1")
    tail_nodes, tail_wires = _residual_end(down, first)
    nodes, wires = nodes + tail_nodes, wires + tail_wires
    if down:
        text = (
            "The basic block of ResNet where the size changes: two 3x3 convolutions, the first "
            "with stride 2, added to a shortcut that a 1x1 convolution (same stride) and "
            "batch normalization bring to the new channels and size. Starts each stage of "
            "ResNet-18 and 34 after the first."
        )
    else:
        text = (
            "The basic block of ResNet: two 3x3 convolutions with batch normalization, added "
            "to the input of the block (the identity shortcut), then a ReLU. The shortcut lets "
            "very deep networks train. The input must already have `channels` channels."
        )
    return {"help": text, "params": params, "nodes": nodes, "edges": _edges(wires)}


def _residual_end(down: bool, projection: dict) -> tuple[list, list[str]]:
    """The end of a residual block whose main path is wired into ``add.in1``: the
    shortcut from ``x`` (a 1x1 convolution bound to ``projection`` and batch
    normalization when ``down``), the Add, a ReLU and the Output."""
    nodes, wires, shortcut = [], [], "x"
    if down:
        nodes += [
            _conv("downsample_conv", 1, 0, **projection),
            _layer("downsample_bn", "BatchNorm2d"),
        ]
        wires += _chain("x", "downsample_conv", "downsample_bn")
        shortcut = "downsample_bn"
    nodes += [_layer("add", "Add"), _layer("relu", "ReLU"), _output()]
    wires += [f"{shortcut}->add.in2", *_chain("add", "relu", "out")]
    return nodes, wires


def _bottleneck(down: bool) -> Data:
    """ResNet-50's bottleneck (torchvision's: the stride on the 3x3 convolution)."""
    params = [
        _param("width", "int", 64, "Channels of the inner 1x1 and 3x3 convolutions."),
        _param("out_channels", "int", 256, "Output channels (usually 4 x width)."),
    ]
    middle = {"out_channels": "width"}
    if down:
        params.append(
            _param("stride", "int_or_tuple", 2, "Stride of the 3x3 convolution and the shortcut.")
        )
        middle["stride"] = "stride"
    nodes = [
        _input("x", [256, 16, 16] if not down else [64, 32, 32]),
        _conv("conv1", 1, 0, out_channels="width"),
        _layer("bn1", "BatchNorm2d"),
        _layer("relu1", "ReLU"),
        _conv("conv2", 3, 1, **middle),
        _layer("bn2", "BatchNorm2d"),
        _layer("relu2", "ReLU"),
        _conv("conv3", 1, 0, out_channels="out_channels"),
        _layer("bn3", "BatchNorm2d"),
    ]
    wires = _chain("x", "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "conv3", "bn3", "add.in1")
    tail_nodes, tail_wires = _residual_end(
        down, {"out_channels": "out_channels", "stride": "stride"}
    )
    nodes, wires = nodes + tail_nodes, wires + tail_wires
    if down:
        text = (
            "The bottleneck of ResNet-50 where channels or size change: 1x1 (narrow to width), "
            "3x3 with the stride, 1x1 (widen to out_channels), each with batch "
            "normalization, added to a shortcut projected by a 1x1 convolution and batch "
            "normalization. Starts each stage (stride 1 for the first stage)."
        )
    else:
        text = (
            "The bottleneck of ResNet-50: a 1x1 convolution narrows to width, a 3x3 works at that "
            "width, a 1x1 widens back to out_channels; added to the input of the block "
            "(identity shortcut), then a ReLU. Cheaper than two 3x3 convolutions at full "
            "width. The input must already have out_channels channels."
        )
    return {"help": text, "params": params, "nodes": nodes, "edges": _edges(wires)}


def _inception_block() -> Data:
    """GoogLeNet's Inception module (paper form: convolutions with bias and ReLU)."""
    params = [
        _param("ch1x1", "int", 64, "Channels of the 1x1 branch."),
        _param("ch3x3red", "int", 96, "Channels the 3x3 branch narrows to first (1x1)."),
        _param("ch3x3", "int", 128, "Channels of the 3x3 branch."),
        _param("ch5x5red", "int", 16, "Channels the 5x5 branch narrows to first (1x1)."),
        _param("ch5x5", "int", 32, "Channels of the 5x5 branch."),
        _param("pool_proj", "int", 32, "Channels of the 1x1 after the max pooling."),
    ]
    nodes = [_input("x", [192, 28, 28])]
    branches = [
        [("branch1", 1, "ch1x1")],
        [("branch2_reduce", 1, "ch3x3red"), ("branch2", 3, "ch3x3")],
        [("branch3_reduce", 1, "ch5x5red"), ("branch3", 5, "ch5x5")],
        [("branch4", 1, "pool_proj")],
    ]
    wires = []
    for number, convs in enumerate(branches, start=1):
        previous = "x"
        if number == 4:
            pool = {"kernel_size": 3, "stride": 1, "padding": 1}
            nodes.append(_layer("branch4_pool", "MaxPool2d", pool))
            wires += _chain("x", "branch4_pool")
            previous = "branch4_pool"
        for node_id, kernel, channels in convs:
            params_ = {"kernel_size": kernel, "padding": kernel // 2}
            nodes.append(_layer(node_id, "Conv2d", params_, out_channels=channels))
            nodes.append(_layer(f"{node_id}_relu", "ReLU"))
            wires += _chain(previous, node_id, f"{node_id}_relu")
            previous = f"{node_id}_relu"
        wires.append(f"{previous}->concat.in{number}")
    nodes += [_layer("concat", "Concat", {"num_inputs": 4}), _output()]
    wires += _chain("concat", "out")
    return {
        "help": (
            "The Inception module of GoogLeNet: four branches look at the same input at once, "
            "a 1x1 convolution, a 3x3 and a 5x5 (each after a 1x1 that narrows the "
            "channels, to save work) and a 3x3 max pooling followed by a 1x1; their "
            "outputs are stacked along the channels (ch1x1 + ch3x3 + ch5x5 + pool_proj). "
            "The image size stays the same."
        ),
        "params": params,
        "nodes": nodes,
        "edges": _edges(wires),
    }


def _transformer_block() -> Data:
    """A pre-norm Transformer encoder block (ViT's) built from primitives."""
    return {
        "help": (
            "A Transformer encoder block from its parts (pre-norm, as in ViT): LayerNorm, "
            "multi-head self-attention, dropout, added to the input; then LayerNorm, an MLP "
            "(Linear to mlp_dim, GELU, Linear back), dropout, added again. Takes a sequence "
            "(steps, embed_dim) and gives the same shape. embed_dim must equal the width "
            "of the input (the last Linear of the MLP returns to it)."
        ),
        "params": [
            _param("embed_dim", "int", 64, "Width of each step, in and out (that of the input)."),
            _param("num_heads", "int", 4, "Attention heads; must divide embed_dim."),
            _param("mlp_dim", "int", 256, "Hidden width of the MLP (usually 4 x embed_dim)."),
            _param("dropout", "float", 0.0, "Dropout during training.", minimum=0.0, maximum=1.0),
        ],
        "nodes": [
            _input("x", [16, 64]),
            _layer("norm1", "LayerNorm"),
            _layer("attn", "MultiheadAttention", None, num_heads="num_heads", dropout="dropout"),
            _layer("drop1", "Dropout", None, p="dropout"),
            _layer("add1", "Add"),
            _layer("norm2", "LayerNorm"),
            _layer("fc1", "Linear", None, out_features="mlp_dim"),
            _layer("gelu", "GELU"),
            _layer("fc2", "Linear", None, out_features="embed_dim"),
            _layer("drop2", "Dropout", None, p="dropout"),
            _layer("add2", "Add"),
            _output(),
        ],
        "edges": _edges(
            [
                *_chain("x", "norm1", "attn", "drop1", "add1.in2"),
                "x->add1.in1",
                *_chain("add1", "norm2", "fc1", "gelu", "fc2", "drop2", "add2.in2"),
                "add1->add2.in1",
                "add2->out",
            ]
        ),
    }


def _unet_down() -> Data:
    return {
        "help": (
            "A step down the encoder of a U-Net: 2x2 max pooling halves the image, then two "
            "Conv-BN-ReLU (3x3) give it `channels` channels. Keep its output for the "
            "skip input of the matching UNetUp."
        ),
        "params": [_param("channels", "int", 64, "Output channels of both convolutions.")],
        "nodes": [
            _input("x", [32, 32, 32]),
            _layer("pool", "MaxPool2d", {"kernel_size": 2}),
            *_conv_bn_relu("1", "channels"),
            *_conv_bn_relu("2", "channels"),
            _output(),
        ],
        "edges": _edges(
            _chain("x", "pool", "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "out")
        ),
    }


def _unet_up() -> Data:
    return {
        "help": (
            "A step up the decoder of a U-Net: doubles the size of the deeper features (x, nearest "
            "upsampling), stacks them with the encoder features of that size (skip) "
            "along the channels, then two Conv-BN-ReLU (3x3) give `channels` channels. "
            "skip must have exactly twice the height and width of x."
        ),
        "params": [_param("channels", "int", 32, "Output channels of both convolutions.")],
        "nodes": [
            _input("x", [64, 8, 8]),
            _input("skip", [32, 16, 16]),
            _layer("up", "Upsample", {"scale_factor": 2.0, "mode": "nearest"}),
            _layer("concat", "Concat"),
            *_conv_bn_relu("1", "channels"),
            *_conv_bn_relu("2", "channels"),
            _output(),
        ],
        "edges": _edges(
            [
                "x->up",
                "up->concat.in1",
                "skip->concat.in2",
                *_chain("concat", "conv1", "bn1", "relu1", "conv2", "bn2", "relu2", "out"),
            ]
        ),
    }


_BUILDERS = {
    "ConvBNReLU": _conv_bn_relu_block,
    "BasicBlock": lambda: _basic_block(down=False),
    "BasicBlockDown": lambda: _basic_block(down=True),
    "Bottleneck": lambda: _bottleneck(down=False),
    "BottleneckDown": lambda: _bottleneck(down=True),
    "InceptionBlock": _inception_block,
    "TransformerEncoderBlock": _transformer_block,
    "UNetDown": _unet_down,
    "UNetUp": _unet_up,
}


@functools.cache
def _canonical(name: str) -> Data:
    """Block ``name`` in canonical file form (all parameters written), laid out."""
    from engine.blocks.block_type import BlockType
    from engine.blocks.library import BlockLibrary
    from engine.layout import layered_positions

    data = _BUILDERS[name]()
    defaults = {p["name"]: p["default"] for p in data["params"]}
    for entry in data["nodes"]:  # the inner values say what the defaults give
        entry["params"].update({key: defaults[p] for key, p in entry.get("bind", {}).items()})
    block_type = BlockType.from_data(name, data, BlockLibrary())
    inside = block_type.network
    for node_id, pos in layered_positions(inside).items():
        inside.move_node(node_id, pos)
    return block_type.to_dict()


def builtin_block_names() -> list[str]:
    """The built-in block types' names, in palette order."""
    return list(_BUILDERS)


def builtin_block(name: str) -> Data:
    """The data of built-in block ``name`` (a fresh copy); NetworkError if unknown."""
    if name not in _BUILDERS:
        known = ", ".join(_BUILDERS)
        raise NetworkError(f"there is no built-in block {name!r} (there are: {known})")
    return copy.deepcopy(_canonical(name))


def builtin_blocks() -> dict[str, Data]:
    """Every built-in block type as ``{name: data}``, in palette order (fresh copies)."""
    return {name: builtin_block(name) for name in _BUILDERS}
