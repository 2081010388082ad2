"""Layers that are calls of torch.nn.functional: Interpolate and ScaledDotProductAttention.

Interpolate resizes a signal, an image or a volume (``F.interpolate``), to a size, by a
factor, or to the size of a second input (a U-Net's skip connection). Scaled
dot-product attention is the core of attention without its projections
(``F.scaled_dot_product_attention`` on query, key and value); its module only stops
the dropout in evaluation, which the bare function would not do.
"""

import operator
from math import floor, prod

from engine.errors import ParamError, ShapeError
from engine.layers.rules import fmt
from engine.layers.spec import Call, Example, LayerSpec, NoMatch, Param, argument

# The modes that need a given number of spatial dimensions (the others take any).
_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_GRIDS = {1: "a signal (channels, length)", 2: "an image (channels, height, width)"}
_GRIDS[3] = "a volume (channels, depth, height, width)"


def _interpolate_ports(params):
    return ("in", "like") if params["match_input"] else ("in",)


def _spatial(shape, mode):
    """The spatial sizes of ``shape`` (channels first), checked against ``mode``."""
    needed = _MODE_DIMS.get(mode)
    if needed is not None and len(shape) != needed + 1:
        raise ShapeError(f"with mode {mode} expects {_GRIDS[needed]}, got {fmt(shape)}")
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            f"expects a signal (channels, length), an image (channels, height, width) or a "
            f"volume (channels, depth, height, width), got {fmt(shape)}"
        )
    return shape[1:]


def _interpolate_shape(params, inputs):
    shape = inputs[0]
    spatial = _spatial(shape, params["mode"])
    if params["match_input"]:
        like = inputs[1]
        if len(like) != len(shape):
            raise ShapeError(
                f"takes its size from like, which must have as many dimensions as in; got "
                f"{fmt(shape)} on in and {fmt(like)} on like"
            )
        return (shape[0], *like[1:])
    size, scale = params["size"], params["scale_factor"]
    if (size is None) == (scale is None):
        raise ParamError("needs either size or scale_factor (clear the other one)")
    if scale is not None:
        return (shape[0], *(floor(float(n) * scale) for n in spatial))
    if len(size) not in (1, len(spatial)):
        raise ShapeError(
            f"has size {fmt(tuple(size))} for {len(spatial)} spatial dimension(s) of "
            f"{fmt(shape)}; give one size, or one per dimension"
        )
    return (shape[0], *(size * len(spatial) if len(size) == 1 else size))


def _interpolate_emit(graph, target, args, params, inputs):
    import torch

    if params["match_input"]:
        shape = graph.call_function(getattr, (args[1], "shape"))
        shape._rename(f"{target}_like_shape")
        kwargs = {"size": graph.call_function(operator.getitem, (shape, slice(2, None)))}
        kwargs["size"]._rename(f"{target}_size")  # named after the node, not getitem
    elif params["size"] is not None:
        size = tuple(params["size"])
        kwargs = {"size": size[0] if len(size) == 1 else size}
    else:
        kwargs = {"scale_factor": params["scale_factor"]}
    kwargs["mode"] = params["mode"]
    if params["mode"] in _MODE_DIMS:
        kwargs["align_corners"] = params["align_corners"]
    return graph.call_function(torch.nn.functional.interpolate, (args[0],), kwargs)


def _like(size):
    """The tensor ``y`` of a size given as ``y.shape[2:]`` or ``y.size()[2:]`` (fx nodes)."""
    if getattr(size, "target", None) is not operator.getitem or size.args[1] != slice(2, None):
        return None
    shape = size.args[0]
    if shape.op == "call_function" and shape.target is getattr and shape.args[1] == "shape":
        return shape.args[0]
    if shape.op == "call_method" and shape.target == "size" and len(shape.args) == 1:
        return shape.args[0]
    return None


def _read_interpolate(args, kwargs):
    """``F.interpolate(x, size=..., scale_factor=..., mode=..., align_corners=...)``."""
    size = argument(args, kwargs, 1, "size")
    scale = argument(args, kwargs, 2, "scale_factor")
    mode = argument(args, kwargs, 3, "mode", "nearest")
    if mode not in _MODES:
        raise NoMatch(f"with mode {mode!r}")
    if argument(args, kwargs, 5, "recompute_scale_factor") or argument(
        args, kwargs, 6, "antialias"
    ):
        raise NoMatch("with recompute_scale_factor or antialias")
    params = {"mode": mode, "align_corners": bool(argument(args, kwargs, 4, "align_corners"))}
    if hasattr(size, "op"):
        if _like(size) is None:
            raise NoMatch("to a size computed other than as y.shape[2:]")
        return {**params, "match_input": True}
    if size is not None:
        sizes = list(size) if isinstance(size, list | tuple) else [size]
        if not all(type(s) is int for s in sizes):
            raise NoMatch("to sizes that are not plain numbers")
        return {**params, "size": sizes, "scale_factor": None}
    scales = set(scale) if isinstance(scale, list | tuple) else {scale}
    if len(scales) != 1 or not isinstance(scale := scales.pop(), int | float):
        raise NoMatch("by one scale_factor per dimension")
    return {**params, "scale_factor": float(scale)}


def _interpolate_inputs(args, kwargs):
    x, size = argument(args, kwargs, 0, "input"), argument(args, kwargs, 1, "size")
    like = _like(size) if hasattr(size, "op") else None
    return [x] if like is None else [x, like]


def _interpolate_summary(params):
    if params["match_input"]:
        target = "like"
    elif params["size"] is not None:
        target = "to " + "x".join(map(str, params["size"]))
    else:
        target = f"x{params['scale_factor']:g}"
    return f"{target}, {params['mode']}"


def _attention_shape(params, inputs):
    query, key, value = inputs
    for name, shape in zip(("query", "key", "value"), inputs):
        if len(shape) < 2:
            raise ShapeError(f"expects a sequence (steps, features) on {name}, got {fmt(shape)}")
    if not len(query) == len(key) == len(value) or not query[:-2] == key[:-2] == value[:-2]:
        raise ShapeError(
            f"needs query, key and value with the same leading dimensions (heads), got "
            f"{fmt(query)}, {fmt(key)} and {fmt(value)}"
        )
    if query[-1] != key[-1]:
        raise ShapeError(
            f"compares query and key feature by feature, so their last sizes must match, "
            f"got {fmt(query)} and {fmt(key)}"
        )
    if key[-2] != value[-2]:
        raise ShapeError(
            f"takes one value per key, so key and value need the same number of steps, got "
            f"{fmt(key)} and {fmt(value)}"
        )
    return (*query[:-1], value[-1])


def _attention_macs(params, inputs, output):
    """Scores (query x key) and mixing (weights x value), for every head."""
    query, key, value = inputs
    steps, keys = query[-2], key[-2]
    return prod(query[:-2]) * steps * keys * (query[-1] + value[-1])


def _read_attention(args, kwargs):
    """``F.scaled_dot_product_attention(q, k, v, dropout_p=0.1, is_causal=True)``."""
    if argument(args, kwargs, 3, "attn_mask") is not None:
        raise NoMatch("with an attention mask")
    if argument(args, kwargs, 7, "enable_gqa", False):
        raise NoMatch("with grouped query attention (enable_gqa)")
    params = {
        "dropout_p": argument(args, kwargs, 4, "dropout_p", 0.0),
        "is_causal": argument(args, kwargs, 5, "is_causal", False),
        "scale": argument(args, kwargs, 6, "scale", None),
    }
    plain = (type(params["dropout_p"]) in (int, float), type(params["is_causal"]) is bool)
    scale = params["scale"]
    if not all(plain) or not (scale is None or type(scale) in (int, float)):
        raise NoMatch("with settings that are not plain numbers")
    return params


SPECS = [
    LayerSpec(
        name="Interpolate",
        family="Convolution",
        help=(
            "Resizes a signal, an image or a volume by scale_factor, to a fixed size, or to "
            "the size of a second input (match_input), as a U-Net does before joining a skip "
            "connection. Learns nothing; nearest copies values, the linear modes blend them."
        ),
        params=(
            Param(
                "size",
                "shape",
                None,
                "Output size (one, or one per spatial dimension); none = use scale_factor.",
                minimum=1,
                optional=True,
            ),
            Param(
                "scale_factor",
                "float",
                2.0,
                "How many times larger each spatial size becomes; none = use size.",
                minimum=0.01,
                maximum=100.0,
                optional=True,
            ),
            Param(
                "mode",
                "choice",
                "nearest",
                "nearest copies values; linear (signals), bilinear and bicubic (images) and "
                "trilinear (volumes) blend them; area averages.",
                choices=_MODES,
            ),
            Param(
                "align_corners",
                "bool",
                False,
                "For the blending modes: line up the corner pixels of input and output.",
            ),
            Param(
                "match_input",
                "bool",
                False,
                "Take the output size from a second input, like (size and scale_factor are "
                "then unused).",
            ),
        ),
        inputs=_interpolate_ports,
        infer=_interpolate_shape,
        emit=_interpolate_emit,
        calls=(
            Call(
                ("torch.nn.functional.interpolate",),
                read=_read_interpolate,
                inputs=_interpolate_inputs,
            ),
        ),
        summary=_interpolate_summary,
        examples=(
            Example(((2, 3, 4),)),
            Example(((3, 5),), {"scale_factor": 1.5, "mode": "linear", "align_corners": True}),
            Example(((2, 4, 6),), {"size": [3, 5], "scale_factor": None, "mode": "bilinear"}),
            Example(((1, 2, 3, 3),), {"size": [4], "scale_factor": None, "mode": "trilinear"}),
            Example(((4, 3, 3), (2, 6, 7)), {"match_input": True, "mode": "bicubic"}),
            Example(((2, 8, 8),), {"scale_factor": 0.5, "mode": "area"}),
        ),
    ),
    LayerSpec(
        name="ScaledDotProductAttention",
        family="Attention",
        help=(
            "Attention itself, without learned projections: each query step takes a mix of "
            "the value steps, weighted by softmax(query . key * scale). Feed it query, key "
            "and value (steps, features), or (heads, steps, features) for several heads."
        ),
        params=(
            Param(
                "is_causal",
                "bool",
                False,
                "Let each step see only itself and earlier steps, as in a GPT decoder.",
            ),
            Param(
                "dropout_p",
                "float",
                0.0,
                "Dropout on the attention weights, during training only.",
                minimum=0.0,
                maximum=1.0,
            ),
            Param(
                "scale",
                "float",
                None,
                "Factor of the scores; auto = 1 / sqrt(features).",
                minimum=0.0,
                optional=True,
            ),
        ),
        inputs=("query", "key", "value"),
        infer=_attention_shape,
        macs=_attention_macs,
        module=lambda p, i: ("ScaledDotProductAttention", dict(p)),
        calls=(Call(("torch.nn.functional.scaled_dot_product_attention",), read=_read_attention),),
        summary=lambda p: "causal" if p["is_causal"] else "",
        examples=(
            Example(((5, 8), (5, 8), (5, 8))),
            Example(((2, 4, 6), (2, 7, 6), (2, 7, 3)), {"is_causal": True, "dropout_p": 0.1}),
            Example(((3, 4), (6, 4), (6, 2)), {"scale": 0.5}),
        ),
    ),
]
