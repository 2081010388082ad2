"""Patterns of several ONNX nodes that are one catalogue layer: GELU written with Erf,
and SiLU written as ``x * Sigmoid(x)``.

Exporters before opset 20 write ``GELU(x) = x * 0.5 * (1 + erf(x / sqrt(2)))`` as five
nodes: ``Div(x, 1.414) -> Erf -> Add(1) -> Mul(x) -> Mul(0.5)`` (torch), or with
``Mul(x, 0.707)`` and the halving applied to ``x`` first (other converters). A match
needs every inner value read only inside the pattern, so nothing else loses its input.
"""

from __future__ import annotations

import math

import numpy as np

from engine.onnx_import.graph import Layer, OnnxGraph

_ROOT2 = math.sqrt(2.0)


def gelu(node, graph: OnnxGraph) -> Layer | None:
    """The GELU layer that starts at ``node`` (the division by sqrt 2), or None."""
    x = _scaled_input(node, graph)
    erf = graph.only_consumer(node.output[0]) if x is not None else None
    if erf is None or erf.op_type != "Erf":
        return None
    plus_one = graph.only_consumer(erf.output[0])
    if not _is_op_with(plus_one, "Add", graph, 1.0):
        return None
    product = graph.only_consumer(plus_one.output[0])
    if product is None or product.op_type != "Mul":
        return None
    other = [v for v in product.input if v != plus_one.output[0]]
    inner = [erf, plus_one, product]
    if other == [x]:  # x * (1 + erf) * 0.5
        half = graph.only_consumer(product.output[0])
        if not _is_op_with(half, "Mul", graph, 0.5):
            return None
        inner.append(half)
    else:  # (x * 0.5) * (1 + erf)
        half = graph.producer(other[0]) if len(other) == 1 else None
        if not _is_op_with(half, "Mul", graph, 0.5) or x not in half.input:
            return None
        if graph.only_consumer(half.output[0]) is not product:
            return None
        inner.append(half)
    output = inner[-1].output[0] if other == [x] else product.output[0]
    layer = Layer("GELU", {"approximate": "none"}, [x], output, node.name)
    layer.absorbed.extend(inner)
    return layer


def _scaled_input(node, graph: OnnxGraph) -> str | None:
    """``x`` when ``node`` is ``x / sqrt(2)`` or ``x * (1 / sqrt(2))``."""
    if node.op_type == "Div" and _near(graph.constant(node.input[1]), _ROOT2):
        return node.input[0] if graph.constant(node.input[0]) is None else None
    if node.op_type == "Mul":
        for mine, other in ((0, 1), (1, 0)):
            if _near(graph.constant(node.input[other]), 1 / _ROOT2):
                value = node.input[mine]
                return value if graph.constant(value) is None else None
    return None


def _is_op_with(node, op_type: str, graph: OnnxGraph, number: float) -> bool:
    """Whether ``node`` is ``op_type`` with a constant input equal to ``number``."""
    if node is None or node.op_type != op_type:
        return False
    return any(_near(graph.constant(v), number) for v in node.input)


def _near(value, number: float) -> bool:
    if value is None or value.size != 1 or not np.issubdtype(value.dtype, np.floating):
        return False
    return abs(float(value.reshape(-1)[0]) - number) < 1e-4


def silu(node, graph: OnnxGraph) -> Layer | None:
    """The SiLU layer of ``x * sigmoid(x)`` starting at the Sigmoid ``node``, or None."""
    if node.op_type != "Sigmoid" or graph.constant(node.input[0]) is not None:
        return None
    product = graph.only_consumer(node.output[0])
    if (
        product is None
        or product.op_type != "Mul"
        or sorted(product.input) != sorted([node.input[0], node.output[0]])
    ):
        return None
    layer = Layer("SiLU", {}, [node.input[0]], product.output[0], node.name)
    layer.absorbed.append(product)
    return layer


PATTERNS = (gelu, silu)
