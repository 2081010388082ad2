"""Rules for the ONNX operations that hold weights: Conv, ConvTranspose, Gemm, MatMul,
BatchNormalization, LayerNormalization and Gather from a table (an Embedding).

Each rule reads a node's attributes and constant inputs and returns the ``Layer`` it
becomes, its tensors already in the torch module's layout: a Gemm's weight is
transposed unless ``transB`` and scaled by ``alpha``, a MatMul's constant right operand
``(in, out)`` becomes a Linear weight ``(out, in)`` and a following Add of a constant
vector its bias. What a catalogue layer cannot compute raises ``Unsupported``.
"""

from __future__ import annotations

import math

import numpy as np

from engine.onnx_import.graph import Layer, OnnxGraph, Unsupported, attribute


def computed(graph: OnnxGraph, node, index: int = 0) -> str:
    """The computed (not constant) value ``node`` reads at ``index``."""
    value = node.input[index]
    if graph.constant(value) is not None:
        raise Unsupported(f"{node.op_type} of a constant")
    return value


def constant(graph: OnnxGraph, node, index: int, what: str) -> np.ndarray | None:
    """The constant input ``index`` of ``node`` (None when absent); Unsupported if computed."""
    if len(node.input) <= index or not node.input[index]:
        return None
    value = graph.constant(node.input[index])
    if value is None:
        raise Unsupported(f"{node.op_type} with a computed {what}")
    return value


def int_or_tuple(values) -> int | list[int]:
    """``[3, 3]`` -> ``3``; ``[3, 1]`` stays a list (a parameter's two forms)."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def padding(node, kernel, stride, dilation) -> list[int]:
    """The padding per dimension, equal on both sides, from ``pads`` or ``auto_pad``."""
    dims = len(kernel)
    mode = attribute(node, "auto_pad", "NOTSET")
    if mode == "VALID":
        return [0] * dims
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(s != 1 for s in stride) or any(t % 2 for t in totals):
            raise Unsupported(f"{node.op_type} with auto_pad {mode} that pads unevenly")
        return [t // 2 for t in totals]
    pads = attribute(node, "pads", [0] * 2 * dims)
    if pads[:dims] != pads[dims:]:
        raise Unsupported(f"{node.op_type} with uneven padding")
    return [int(p) for p in pads[:dims]]


def _window(node, kernel) -> tuple[list[int], list[int], list[int]]:
    dims = len(kernel)
    stride = attribute(node, "strides", [1] * dims)
    dilation = attribute(node, "dilations", [1] * dims)
    return stride, dilation, padding(node, kernel, stride, dilation)


def conv(node, graph: OnnxGraph) -> Layer:
    """Conv -> Conv1d / Conv2d."""
    x = computed(graph, node)
    weight, bias = constant(graph, node, 1, "weight"), constant(graph, node, 2, "bias")
    dims = weight.ndim - 2
    if dims not in (1, 2):
        raise Unsupported(f"Conv ({dims}-d)")
    kernel = list(weight.shape[2:])
    stride, dilation, pad = _window(node, kernel)
    params = {
        "out_channels": int(weight.shape[0]),
        "kernel_size": int_or_tuple(kernel),
        "stride": int_or_tuple(stride),
        "padding": int_or_tuple(pad),
        "dilation": int_or_tuple(dilation),
        "groups": int(attribute(node, "group", 1)),
        "bias": bias is not None,
    }
    return Layer(f"Conv{dims}d", params, [x], node.output[0], node.name, _tensors(weight, bias))


def conv_transpose(node, graph: OnnxGraph) -> Layer:
    """ConvTranspose -> ConvTranspose2d."""
    x = computed(graph, node)
    weight, bias = constant(graph, node, 1, "weight"), constant(graph, node, 2, "bias")
    if weight.ndim != 4:
        raise Unsupported(f"ConvTranspose ({weight.ndim - 2}-d)")
    if attribute(node, "output_shape") is not None:
        raise Unsupported("ConvTranspose with output_shape")
    if attribute(node, "auto_pad", "NOTSET") != "NOTSET":
        raise Unsupported("ConvTranspose with auto_pad")
    kernel = list(weight.shape[2:])
    stride, dilation, pad = _window(node, kernel)
    groups = int(attribute(node, "group", 1))
    params = {
        "out_channels": int(weight.shape[1]) * groups,
        "kernel_size": int_or_tuple(kernel),
        "stride": int_or_tuple(stride),
        "padding": int_or_tuple(pad),
        "output_padding": int_or_tuple(attribute(node, "output_padding", [0, 0])),
        "dilation": int_or_tuple(dilation),
        "groups": groups,
        "bias": bias is not None,
    }
    return Layer("ConvTranspose2d", params, [x], node.output[0], node.name, _tensors(weight, bias))


def gemm(node, graph: OnnxGraph) -> Layer:
    """Gemm (x @ B' * alpha + C * beta) -> Linear."""
    x = computed(graph, node)
    if attribute(node, "transA", 0):
        raise Unsupported("Gemm with transA")
    matrix = constant(graph, node, 1, "weight")
    weight = _scaled(matrix if attribute(node, "transB", 0) else matrix.T, node, "alpha")
    bias = constant(graph, node, 2, "bias")
    if bias is not None:
        bias = _scaled(_vector(bias, weight.shape[0], "Gemm"), node, "beta")
    return _linear(node, x, weight, bias, node.output[0])


def matmul(node, graph: OnnxGraph) -> Layer:
    """MatMul by a constant matrix (and an Add of a constant vector after it) -> Linear."""
    if graph.constant(node.input[0]) is not None:
        raise Unsupported("MatMul with the constant on the left")
    x = node.input[0]
    matrix = graph.constant(node.input[1])
    if matrix is None:
        raise Unsupported("MatMul of two computed tensors")
    if matrix.ndim != 2:
        raise Unsupported(f"MatMul by a {matrix.ndim}-d constant")
    layer = _linear(node, x, matrix.T, None, node.output[0])
    add = graph.only_consumer(node.output[0])
    if add is not None and add.op_type == "Add":
        other = [v for v in add.input if v != node.output[0]]
        bias = graph.constant(other[0]) if len(other) == 1 else None
        if bias is not None and bias.size == matrix.shape[1] and bias.shape[-1:] == (bias.size,):
            layer = _linear(node, x, matrix.T, bias.reshape(-1), add.output[0])
            layer.absorbed.append(add)
    return layer


def _linear(node, x: str, weight, bias, output: str) -> Layer:
    params = {"out_features": int(weight.shape[0]), "bias": bias is not None}
    return Layer("Linear", params, [x], output, node.name, _tensors(weight, bias))


def _scaled(values: np.ndarray, node, name: str) -> np.ndarray:
    """``values`` times the attribute ``name`` (alpha, beta), untouched when it is 1."""
    factor = attribute(node, name, 1.0)
    return values if factor == 1.0 else values * np.float32(factor)


def _vector(values: np.ndarray, size: int, op: str) -> np.ndarray:
    """A bias broadcast to ``(size,)``: one number, or ``size`` along the last axis."""
    if values.size == 1:
        return np.full(size, values.reshape(-1)[0], dtype=np.float32)
    if values.size == size and values.shape[-1] == size:
        return values.reshape(size)
    raise Unsupported(f"{op} with a bias per sample")


def batch_norm(node, graph: OnnxGraph) -> Layer:
    """BatchNormalization -> BatchNorm1d / BatchNorm2d, with its running statistics."""
    x = computed(graph, node)
    if attribute(node, "training_mode", 0) or any(
        graph.consumers.get(v) or v in graph.outputs for v in node.output[1:] if v
    ):
        raise Unsupported("BatchNormalization in training mode")
    scale, shift, mean, var = (constant(graph, node, i, "statistic") for i in range(1, 5))
    rank = len(graph.shape(x))
    if rank not in (2, 3, 4):
        raise Unsupported(f"BatchNormalization on {rank - 1}-d samples")
    params = {
        "eps": float(attribute(node, "epsilon", 1e-5)),
        "momentum": round(1.0 - float(attribute(node, "momentum", 0.9)), 6),
        "affine": True,
    }
    weights = {"weight": scale, "bias": shift, "running_mean": mean, "running_var": var}
    kind = "BatchNorm2d" if rank == 4 else "BatchNorm1d"
    return Layer(kind, params, [x], node.output[0], node.name, weights)


def layer_norm(node, graph: OnnxGraph) -> Layer:
    """LayerNormalization -> LayerNorm over the trailing dimensions from ``axis``."""
    x = computed(graph, node)
    shape = graph.shape(x)
    axis = int(attribute(node, "axis", -1)) % len(shape)
    if axis == 0:
        raise Unsupported("LayerNormalization over the batch")
    normalized = shape[axis:]
    scale, shift = constant(graph, node, 1, "scale"), constant(graph, node, 2, "bias")
    for tensor in (scale, shift):
        if tensor is not None and tensor.size != math.prod(normalized):
            raise Unsupported("LayerNormalization with a broadcast scale")
    params = {
        "normalized_dims": len(normalized),
        "eps": float(attribute(node, "epsilon", 1e-5)),
        "elementwise_affine": True,
        "bias": shift is not None,
    }
    weights = {"weight": scale.reshape(normalized)}
    if shift is not None:
        weights["bias"] = shift.reshape(normalized)
    return Layer("LayerNorm", params, [x], node.output[0], node.name, weights)


def gather(node, graph: OnnxGraph) -> Layer:
    """Gather of rows of a constant table by computed ids -> Embedding."""
    table = graph.constant(node.input[0])
    if table is None or table.ndim != 2 or attribute(node, "axis", 0) != 0:
        raise Unsupported("Gather other than rows of a table (an Embedding)")
    ids = computed(graph, node, 1)
    params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
    return Layer("Embedding", params, [ids], node.output[0], node.name, {"weight": table})


def _tensors(weight, bias) -> dict[str, np.ndarray]:
    return {"weight": weight} if bias is None else {"weight": weight, "bias": bias}


RULES = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": gemm,
    "MatMul": matmul,
    "BatchNormalization": batch_norm,
    "LayerNormalization": layer_norm,
    "Gather": gather,
}
