"""Normalization and regularization: BatchNorm1d, BatchNorm2d, LayerNorm, Dropout,
Dropout2d.

Normalization rescales activations to a steady mean and spread, which lets deeper
networks train faster; dropout switches random units off during training so that the
network cannot rely on any single one, which fights overfitting. ``num_features`` and
``normalized_shape`` are inferred from the input.
"""

from engine.errors import ShapeError
from engine.layers.conv import expect_grid
from engine.layers.rules import expect_rank, fmt, numel
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param, arguments

_EPS = Param(
    "eps",
    "float",
    1e-5,
    "Small positive number added to the variance to avoid dividing by 0.",
    minimum=1e-12,
)
_MOMENTUM = Param(
    "momentum",
    "float",
    0.1,
    "How fast the running mean and variance used at evaluation follow the batches.",
    minimum=0.0,
    maximum=1.0,
)
_AFFINE = Param("affine", "bool", True, "Learn a scale and a shift per channel after normalizing.")
_P = Param(
    "p",
    "float",
    0.5,
    "Probability that a value is zeroed during training.",
    minimum=0.0,
    maximum=1.0,
)


def _batchnorm1d_shape(params, inputs):
    (shape,) = inputs
    expect_rank(
        shape,
        (1, 2),
        "features (C,) or channels over a length (C, L)",
        "add a Flatten before it, or use BatchNorm2d for images",
    )
    return shape


def _batchnorm2d_shape(params, inputs):
    (shape,) = inputs
    expect_grid(shape, 2)
    return shape


def _batchnorm_spec(name, help, infer, examples):
    return LayerSpec(
        name=name,
        family="Normalization",
        help=help,
        params=(_EPS, _MOMENTUM, _AFFINE),
        infer=infer,
        count_params=lambda p, i: 2 * i[0][0] if p["affine"] else 0,
        macs=lambda p, i, o: numel(o),
        module=lambda p, i: (name, {"num_features": i[0][0], **p}),
        examples=examples,
    )


def _normalized_shape(params, inputs):
    (shape,) = inputs
    count = params["normalized_dims"]
    if count > len(shape):
        raise ShapeError(
            f"normalizes over the last {count} dimensions, but its input {fmt(shape)} has only "
            f"{len(shape)}; lower normalized_dims"
        )
    return shape[-count:]


def _layernorm_count(params, inputs):
    if not params["elementwise_affine"]:
        return 0
    return numel(_normalized_shape(params, inputs)) * (2 if params["bias"] else 1)


def _layernorm_module(params, inputs):
    return "LayerNorm", {
        "normalized_shape": _normalized_shape(params, inputs),
        "eps": params["eps"],
        "elementwise_affine": params["elementwise_affine"],
        "bias": params["bias"],
    }


def _layernorm_shape(params, inputs):
    _normalized_shape(params, inputs)
    return inputs[0]


def _dropout2d_shape(params, inputs):
    (shape,) = inputs
    expect_grid(shape, 2)
    return shape


def _read_drop_path(module) -> dict:
    """timm's DropPath(drop_prob) and torchvision's StochasticDepth(p, "row") drop
    whole samples, as Deepwire's DropPath does; "batch" mode drops the whole batch."""
    if getattr(module, "mode", "row") != "row":
        raise NoMatch(f"in {module.mode!r} mode (Deepwire drops single samples: 'row')")
    if not getattr(module, "scale_by_keep", True):
        raise NoMatch("without scale_by_keep")
    return {"p": float(getattr(module, "drop_prob", getattr(module, "p", 0.0)) or 0.0)}


SPECS = [
    _batchnorm_spec(
        "BatchNorm1d",
        "Normalizes each feature to zero mean and unit variance over the batch, then "
        "rescales it. Put it after a Linear (features,) or Conv1d (channels, length) to "
        "train faster and more stably.",
        _batchnorm1d_shape,
        (Example(((6,),)), Example(((3, 7),), {"affine": False, "momentum": 0.3})),
    ),
    _batchnorm_spec(
        "BatchNorm2d",
        "Normalizes each channel of a feature map over the batch and the pixels, then "
        "rescales it. Put it after a Conv2d to train deeper CNNs faster.",
        _batchnorm2d_shape,
        (Example(((4, 5, 5),)), Example(((2, 3, 6),), {"eps": 1e-3})),
    ),
    LayerSpec(
        name="LayerNorm",
        family="Normalization",
        help=(
            "Normalizes each sample on its own over its last dimension(s), so it does not "
            "depend on the batch. The normalization of Transformers and RNNs."
        ),
        params=(
            Param(
                "normalized_dims",
                "int",
                1,
                "How many trailing dimensions to normalize over (1 = the last one).",
                minimum=1,
                maximum=8,
            ),
            _EPS,
            Param("elementwise_affine", "bool", True, "Learn a scale per normalized value."),
            Param("bias", "bool", True, "Also learn a shift (needs elementwise_affine)."),
        ),
        infer=_layernorm_shape,
        count_params=_layernorm_count,
        macs=lambda p, i, o: numel(o),
        module=_layernorm_module,
        read=lambda m: {"normalized_dims": len(m.normalized_shape)},
        summary=lambda p: (
            "last dim" if p["normalized_dims"] == 1 else f"last {p['normalized_dims']} dims"
        ),
        examples=(
            Example(((8,),)),
            Example(((3, 4, 5),), {"normalized_dims": 2}),
            Example(((5, 6),), {"bias": False}),
        ),
    ),
    LayerSpec(
        name="Dropout",
        family="Normalization",
        help=(
            "During training, zeroes each value with probability p and scales up the rest; "
            "at evaluation it does nothing. Add it before large Linear layers against "
            "overfitting."
        ),
        params=(_P,),
        infer=lambda p, i: i[0],
        module=lambda p, i: ("Dropout", {"p": p["p"]}),
        calls=(Call(("torch.nn.functional.dropout",), read=arguments(p=(1, 0.5))),),
        summary=lambda p: f"p {p['p']:g}",
        examples=(Example(((10,),)), Example(((2, 3, 4),), {"p": 0.1})),
    ),
    LayerSpec(
        name="Dropout2d",
        family="Normalization",
        help=(
            "During training, zeroes whole channels of a feature map with probability p. "
            "Dropout for CNNs, where neighbouring pixels are too alike for plain Dropout."
        ),
        params=(_P,),
        infer=_dropout2d_shape,
        module=lambda p, i: ("Dropout2d", {"p": p["p"]}),
        calls=(Call(("torch.nn.functional.dropout2d",), read=arguments(p=(1, 0.5))),),
        summary=lambda p: f"p {p['p']:g}",
        examples=(Example(((3, 4, 4),)),),
    ),
    LayerSpec(
        name="DropPath",
        family="Normalization",
        help=(
            "Stochastic depth: during training, drops a whole residual branch for a sample "
            "with probability p (and scales up the kept ones); at evaluation it does "
            "nothing. Put it at the end of a branch, before the Add, as ConvNeXt, "
            "EfficientNet and ViTs do, to regularise deep networks."
        ),
        params=(
            Param(
                "p",
                "float",
                0.1,
                "Probability that a sample's branch is dropped during training.",
                minimum=0.0,
                maximum=1.0,
            ),
        ),
        infer=lambda p, i: i[0],
        module=lambda p, i: ("DropPath", {"p": p["p"]}),
        modules=(
            "DropPath",
            "timm.layers.drop.DropPath",
            "torchvision.ops.stochastic_depth.StochasticDepth",
        ),
        read=_read_drop_path,
        summary=lambda p: f"p {p['p']:g}",
        examples=(Example(((10,),)), Example(((2, 3, 4),), {"p": 0.1})),
    ),
]
