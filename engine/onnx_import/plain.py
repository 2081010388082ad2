"""Rules for the ONNX operations without weights: activations, pooling, shape changes,
merges, Dropout and Identity.

A rule returns the ``Layer`` a node becomes, or the name of the value it passes on
unchanged (Identity, a Reshape to the same shape). Shape changes keep the batch first,
as a Deepwire network always does: a Reshape, Squeeze or Unsqueeze becomes a Reshape to
the inferred shape without the batch, and one that moves or merges the batch dimension
is refused. Dimension parameters keep torch's meaning, counting the batch (``dim`` 1).
"""

from __future__ import annotations

from engine.layers import CATALOGUE
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
    if "Permute" not in CATALOGUE:
        raise Unsupported("Transpose (Deepwire has no Permute layer yet)")
    return Layer("Permute", {"dims": perm}, [x], node.output[0], node.name)


def merge(type_name: str):
    """A rule for Add / Mul / Sum of computed tensors of one shape -> Add / Multiply."""

    def rule(node, graph: OnnxGraph) -> Layer | str:
        values = [v for v in node.input if v]
        if any(graph.constant(v) is not None for v in values):
            raise Unsupported(f"{node.op_type} with a constant")
        if len({graph.shape(v) for v in values}) > 1:
            raise Unsupported(f"{node.op_type} of tensors of different shapes (broadcasting)")
        return _joined(node, type_name, values, {})

    return rule


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
