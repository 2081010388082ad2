"""Rules for the ONNX operations without learned weights: activations, pooling, shape
changes, merges, Resize, ReduceMean, Dropout and Identity (and Mul by a per-channel
constant, a layer scale, whose factors become a Scale's weight).

A rule returns the ``Layer`` a node becomes, or the name of the value it passes on
unchanged (Identity, a Reshape to the same shape). Shape changes keep the batch first,
as a Deepwire network always does: a Reshape, Squeeze or Unsqueeze becomes a Reshape to
the inferred shape without the batch, and one that moves or merges the batch dimension
is refused. Dimension parameters keep torch's meaning, counting the batch (``dim`` 1).
"""

from __future__ import annotations

from engine.onnx_import.graph import Layer, OnnxGraph, Unsupported, attribute
from engine.onnx_import.weighted import computed, constant, int_or_tuple, padding

MAX_MERGE = 8  # the catalogue's largest num_inputs


def _layer(type_name: str, params: dict | None = None):
    """A rule for a one-input node with fixed params."""

    def rule(node, graph: OnnxGraph) -> Layer:
        return Layer(
            type_name, dict(params or {}), [computed(graph, node)], node.output[0], node.name
        )

    return rule


def _with(type_name: str, **attributes):
    """A rule for a one-input node whose params are attributes: ``alpha=("alpha", 1.0)``."""

    def rule(node, graph: OnnxGraph) -> Layer:
        params = {p: attribute(node, a, default) for p, (a, default) in attributes.items()}
        return Layer(type_name, params, [computed(graph, node)], node.output[0], node.name)

    return rule


def softmax(node, graph: OnnxGraph) -> Layer:
    """Softmax / LogSoftmax along ``axis`` (before opset 13: over all dims from ``axis``)."""
    x = computed(graph, node)
    shape = graph.shape(x)
    given = int(attribute(node, "axis", 1 if graph.opset < 13 else -1))
    axis = given % len(shape)
    if graph.opset < 13 and any(size != 1 for size in shape[axis + 1 :]):
        raise Unsupported(f"{node.op_type} over several dimensions (opset < 13)")
    if axis == 0:
        raise Unsupported(f"{node.op_type} over the batch")
    kind = "Softmax" if node.op_type == "Softmax" else "LogSoftmax"
    return Layer(kind, {"dim": given}, [x], node.output[0], node.name)


def clip(node, graph: OnnxGraph) -> Layer:
    """Clip from 0 -> ReLU (no upper bound) or ReLU6 (up to 6)."""
    if graph.opset < 11:
        low, high = attribute(node, "min", None), attribute(node, "max", None)
    else:
        low, high = (constant(graph, node, i, "bound") for i in (1, 2))
        low, high = (None if v is None else float(v) for v in (low, high))
    kinds = {(0.0, None): "ReLU", (0.0, 6.0): "ReLU6"}
    if (low, high) not in kinds:
        raise Unsupported(f"Clip to [{low}, {high}] (only [0, 6] and [0, inf) have layers)")
    return Layer(kinds[low, high], {}, [computed(graph, node)], node.output[0], node.name)


def hard_sigmoid(node, graph: OnnxGraph) -> Layer:
    """HardSigmoid with torch's slope 1/6 and offset 0.5 -> Hardsigmoid."""
    alpha, beta = attribute(node, "alpha", 0.2), attribute(node, "beta", 0.5)
    if abs(alpha - 1 / 6) > 1e-6 or beta != 0.5:
        raise Unsupported("HardSigmoid with a slope other than 1/6")
    return Layer("Hardsigmoid", {}, [computed(graph, node)], node.output[0], node.name)


def reduce_mean(node, graph: OnnxGraph) -> Layer:
    """ReduceMean over dimensions after the batch -> Mean."""
    x = computed(graph, node)
    rank = len(graph.shape(x))
    if graph.opset < 18:
        axes = attribute(node, "axes", None)
    else:
        given = constant(graph, node, 1, "axes")
        axes = None if given is None else [int(a) for a in given.reshape(-1)]
    if not axes or any(a % rank == 0 for a in axes):
        raise Unsupported("ReduceMean over the batch")
    params = {"dim": [int(a) for a in axes], "keepdim": bool(attribute(node, "keepdims", 1))}
    return Layer("Mean", params, [x], node.output[0], node.name)


def max_pool(node, graph: OnnxGraph) -> Layer:
    """MaxPool -> MaxPool1d / MaxPool2d."""
    if any(graph.consumers.get(v) or v in graph.outputs for v in node.output[1:] if v):
        raise Unsupported("MaxPool with indices")
    kernel = attribute(node, "kernel_shape")
    if len(kernel) not in (1, 2):
        raise Unsupported(f"MaxPool ({len(kernel)}-d)")
    params = _pool(node, kernel)
    params["dilation"] = int_or_tuple(attribute(node, "dilations", [1] * len(kernel)))
    kind = f"MaxPool{len(kernel)}d"
    return Layer(kind, params, [computed(graph, node)], node.output[0], node.name)


def average_pool(node, graph: OnnxGraph) -> Layer:
    """AveragePool -> AvgPool2d, whose mean counts the padding (count_include_pad)."""
    kernel = attribute(node, "kernel_shape")
    if len(kernel) != 2:
        raise Unsupported(f"AveragePool ({len(kernel)}-d)")
    if any(d != 1 for d in attribute(node, "dilations", [1, 1])):
        raise Unsupported("AveragePool with dilations")
    params = _pool(node, kernel)
    if params["padding"] != 0 and not attribute(node, "count_include_pad", 0):
        raise Unsupported("AveragePool that leaves the padding out of the mean")
    return Layer("AvgPool2d", params, [computed(graph, node)], node.output[0], node.name)


def _pool(node, kernel) -> dict:
    stride = attribute(node, "strides", [1] * len(kernel))
    dilation = attribute(node, "dilations", [1] * len(kernel))
    return {
        "kernel_size": int_or_tuple(kernel),
        "stride": None if list(stride) == list(kernel) else int_or_tuple(stride),
        "padding": int_or_tuple(padding(node, kernel, stride, dilation)),
        "ceil_mode": bool(attribute(node, "ceil_mode", 0)),
    }


def global_average_pool(node, graph: OnnxGraph) -> Layer:
    """GlobalAveragePool on images -> AdaptiveAvgPool2d(1)."""
    x = computed(graph, node)
    if len(graph.shape(x)) != 4:
        raise Unsupported(f"GlobalAveragePool ({len(graph.shape(x)) - 2}-d)")
    return Layer("AdaptiveAvgPool2d", {"output_size": 1}, [x], node.output[0], node.name)


def flatten(node, graph: OnnxGraph) -> Layer:
    """Flatten from axis 1 -> Flatten; other axes merge the batch and are refused."""
    x = computed(graph, node)
    if int(attribute(node, "axis", 1)) % len(graph.shape(x)) != 1:
        raise Unsupported("Flatten that merges the batch")
    return Layer("Flatten", {"start_dim": 1, "end_dim": -1}, [x], node.output[0], node.name)


def reshape(node, graph: OnnxGraph) -> Layer | str:
    """Reshape, Squeeze, Unsqueeze -> Reshape to the inferred shape (batch kept first)."""
    x = computed(graph, node)
    before, after = graph.shape(x), graph.shape(node.output[0])
    if not after or after[0] != before[0]:
        raise Unsupported(f"{node.op_type} that changes the batch dimension")
    if after == before:
        return x
    if len(after) == 1:
        raise Unsupported(f"{node.op_type} to one number per sample")
    return Layer("Reshape", {"shape": list(after[1:])}, [x], node.output[0], node.name)


def transpose(node, graph: OnnxGraph) -> Layer | str:
    """Transpose that keeps the batch first -> Permute (or Reshape when only size-1 dims move)."""
    x = computed(graph, node)
    shape = graph.shape(x)
    perm = [int(p) for p in attribute(node, "perm", range(len(shape) - 1, -1, -1))]
    if perm[0] != 0:
        raise Unsupported("Transpose that moves the batch dimension")
    if perm == sorted(perm):
        return x
    if [p for p in perm if shape[p] != 1] == [i for i in range(len(shape)) if shape[i] != 1]:
        return reshape(node, graph)
    return Layer("Permute", {"dims": perm}, [x], node.output[0], node.name)


def merge(type_name: str):
    """A rule for Add / Mul / Sum of computed tensors of one shape -> Add / Multiply."""

    def rule(node, graph: OnnxGraph) -> Layer | str:
        values = [v for v in node.input if v]
        if any(graph.constant(v) is not None for v in values):
            if node.op_type == "Mul":
                return scale(node, graph)
            raise Unsupported(f"{node.op_type} with a constant")
        if len({graph.shape(v) for v in values}) > 1:
            raise Unsupported(f"{node.op_type} of tensors of different shapes (broadcasting)")
        return _joined(node, type_name, values, {})

    return rule


def scale(node, graph: OnnxGraph) -> Layer:
    """Mul by a constant of one number per channel (a layer scale) -> Scale."""
    x, factor = (node.input[0], node.input[1])
    if graph.constant(x) is not None:
        x, factor = factor, x
    values, shape = graph.constant(factor), graph.shape(x)
    if graph.constant(x) is not None or values.ndim > len(shape):
        raise Unsupported("Mul with a constant")
    sizes = (1,) * (len(shape) - values.ndim) + values.shape  # aligned to the right
    spread = [i for i, n in enumerate(sizes) if n != 1]
    if len(spread) != 1 or spread[0] == 0 or sizes[spread[0]] != shape[spread[0]]:
        raise Unsupported("Mul by a constant other than one number per channel")
    dim = spread[0] if spread[0] < len(shape) - 1 else -1
    params = {"dim": dim, "init": 1.0}
    weights = {"weight": values.reshape(-1)}
    return Layer("Scale", params, [x], node.output[0], node.name, weights)


def resize(node, graph: OnnxGraph) -> Layer:
    """Resize -> Interpolate, when its coordinate rules are one of torch's modes."""
    x = computed(graph, node)
    before, after = graph.shape(x), graph.shape(node.output[0])
    if after[:2] != before[:2] or not 3 <= len(before) <= 5:
        raise Unsupported("Resize of the batch or channels")
    if attribute(node, "antialias", 0) or attribute(node, "exclude_outside", 0):
        raise Unsupported("Resize with antialias")
    mode, corners = _resize_mode(node, len(before) - 2)
    params = {"mode": mode, "align_corners": corners, **_resize_target(before, after)}
    return Layer("Interpolate", params, [x], node.output[0], node.name)


_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
_HALF_PIXEL = ("half_pixel", "pytorch_half_pixel")


def _resize_mode(node, dims: int) -> tuple[str, bool]:
    """Interpolate's mode and align_corners for a Resize's attributes, or Unsupported."""
    mode = attribute(node, "mode", "nearest")
    where = attribute(node, "coordinate_transformation_mode", "half_pixel")
    rounding = attribute(node, "nearest_mode", "round_prefer_floor")
    if mode == "nearest" and where == "asymmetric" and rounding == "floor":
        return "nearest", False
    if mode == "nearest" and where in (*_HALF_PIXEL, "tf_half_pixel_for_nn"):
        return "nearest-exact", False
    if mode in ("linear", "cubic") and where in (*_HALF_PIXEL, "align_corners"):
        if mode == "cubic" and (dims != 2 or attribute(node, "cubic_coeff_a", -0.75) != -0.75):
            raise Unsupported("Resize with a cubic mode torch does not have")
        return ("bicubic" if mode == "cubic" else _LINEAR[dims]), where == "align_corners"
    raise Unsupported(f"Resize ({mode}, {where})")


def _resize_target(before, after) -> dict:
    """One scale_factor when it gives exactly the output sizes, else the sizes."""
    factors = {n / m for n, m in zip(after[2:], before[2:])}
    if len(factors) == 1:
        factor = factors.pop()
        if factor == int(factor) or factor in (0.5, 0.25):
            return {"scale_factor": float(factor), "size": None}
    return {"scale_factor": None, "size": list(after[2:])}


def concat(node, graph: OnnxGraph) -> Layer | str:
    """Concat of computed tensors along a dimension after the batch -> Concat."""
    values = [v for v in node.input if v]
    if any(graph.constant(v) is not None for v in values):
        raise Unsupported("Concat with a constant")
    given = int(attribute(node, "axis", 0))
    if given % len(graph.shape(values[0])) == 0:
        raise Unsupported("Concat along the batch")
    return _joined(node, "Concat", values, {"dim": given})


def _joined(node, type_name: str, values: list[str], params: dict) -> Layer | str:
    if len(values) == 1:
        return values[0]
    if len(values) > MAX_MERGE:
        raise Unsupported(f"{node.op_type} of more than {MAX_MERGE} inputs")
    params = {"num_inputs": len(values), **params}
    return Layer(type_name, params, values, node.output[0], node.name)


def dropout(node, graph: OnnxGraph) -> Layer:
    """Dropout -> Dropout (nothing at evaluation, as in the model); its mask is refused."""
    if any(graph.consumers.get(v) or v in graph.outputs for v in node.output[1:] if v):
        raise Unsupported("Dropout whose mask is used")
    if graph.opset < 12:
        ratio = attribute(node, "ratio", 0.5)
    else:
        given = constant(graph, node, 1, "ratio")
        ratio = 0.5 if given is None else float(given)
    return Layer("Dropout", {"p": float(ratio)}, [computed(graph, node)], node.output[0], node.name)


def identity(node, graph: OnnxGraph) -> str:
    """Identity passes its input on."""
    return node.input[0]


RULES = {
    "Relu": _layer("ReLU"),
    "Sigmoid": _layer("Sigmoid"),
    "Tanh": _layer("Tanh"),
    "LeakyRelu": _with("LeakyReLU", negative_slope=("alpha", 0.01)),
    "Elu": _with("ELU", alpha=("alpha", 1.0)),
    "Gelu": _with("GELU", approximate=("approximate", "none")),
    "HardSwish": _layer("Hardswish"),
    "HardSigmoid": hard_sigmoid,
    "Mish": _layer("Mish"),
    "Clip": clip,
    "ReduceMean": reduce_mean,
    "Resize": resize,
    "Softmax": softmax,
    "LogSoftmax": softmax,
    "MaxPool": max_pool,
    "AveragePool": average_pool,
    "GlobalAveragePool": global_average_pool,
    "Flatten": flatten,
    "Reshape": reshape,
    "Squeeze": reshape,
    "Unsqueeze": reshape,
    "Transpose": transpose,
    "Add": merge("Add"),
    "Sum": merge("Add"),
    "Mul": merge("Multiply"),
    "Concat": concat,
    "Dropout": dropout,
    "Identity": identity,
}
