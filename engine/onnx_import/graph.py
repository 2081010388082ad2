"""The ONNX graph as the mapping rules see it: constants, shapes, consumers, attributes.

Initializers and ``Constant`` nodes are constants, and so is every node of a small set
of cheap operations whose inputs are all constants: shape arithmetic such as ``Shape ->
Gather -> Unsqueeze -> Concat -> Reshape`` folds into a constant target shape, since the
input shapes are fixed. ``Shape`` of a computed value is a constant too (from shape
inference). Folding runs ``onnx.reference`` on one node at a time, and refuses inputs or
outputs too large to hold, so a hostile file cannot make it allocate gigabytes.

Shapes here include the batch (ONNX's view); the rules drop it for Deepwire.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SMALL_CONSTANT = 4096  # numbers in a constant that shape inference is given the values of
MAX_FOLDED = 2**26  # numbers in one folded constant (256 MB of float32)
FOLDABLE = frozenset(
    {
        *("Identity", "Cast", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Reshape"),
        *("Transpose", "Add", "Sub", "Mul", "Div", "Neg", "Sqrt", "Pow", "Floor", "Ceil"),
        *("Equal", "Less", "Greater", "Where", "Min", "Max", "Abs", "Not", "ReduceProd"),
        *("ConstantOfShape", "Flatten", "Range", "Size"),
    }
)


class Unsupported(Exception):
    """A node Deepwire cannot express; ``cause`` names the group it is listed under."""

    def __init__(self, cause: str):
        super().__init__(cause)
        self.cause = cause


@dataclass
class Layer:
    """A catalogue layer that one ONNX node (or a pattern of nodes) becomes.

    Attributes:
        type: the catalogue type (``Conv2d``).
        params: its parameters, under the LayerSpec's names.
        inputs: the ONNX values feeding its input ports, in port order.
        output: the ONNX value it produces.
        name: the ONNX node name its id is made from.
        weights: its tensors keyed like its torch module's state_dict (``weight``).
        absorbed: the other ONNX nodes it stands for (an Add folded into a Linear's bias).
    """

    type: str
    params: dict[str, Any]
    inputs: list[str]
    output: str
    name: str
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    absorbed: list = field(default_factory=list)


class OnnxGraph:
    """A read-only view of a checked ONNX graph whose input sizes are fixed."""

    def __init__(self, model, shapes: dict[str, tuple], batch: int):
        from onnx import numpy_helper

        from engine.onnx_import.reading import opset

        self.model = model
        self.nodes = list(model.graph.node)
        self.opset = opset(model)
        self.shapes = shapes
        self.batch = batch
        self.constants: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in model.graph.initializer
        }
        self.outputs = [v.name for v in model.graph.output]
        self.consumers: dict[str, list] = defaultdict(list)
        self.producers: dict[str, Any] = {}
        for node in self.nodes:
            for value in node.input:
                self.consumers[value].append(node)
            for value in node.output:
                self.producers[value] = node

    def constant(self, value: str) -> np.ndarray | None:
        """The constant ``value`` holds, or None when it is computed from an input."""
        return self.constants.get(value)

    def shape(self, value: str) -> tuple[int, ...]:
        """The full shape of ``value`` (batch first); Unsupported if inference left it open."""
        if value in self.constants:
            return tuple(self.constants[value].shape)
        shape = self.shapes.get(value)
        if shape is None:
            raise Unsupported("a tensor whose shape cannot be worked out")
        return shape

    def producer(self, value: str):
        """The node that computes ``value``, or None (an input or an initializer)."""
        return self.producers.get(value)

    def only_consumer(self, value: str):
        """The single node that reads ``value``, or None (several, none, or a graph output)."""
        readers = self.consumers.get(value, [])
        if len(readers) != 1 or value in self.outputs:
            return None
        return readers[0]

    def try_fold(self, node) -> bool:
        """Compute ``node`` now if its result is a constant; True when it was folded."""
        if node.domain not in ("", "ai.onnx"):
            return False
        if node.op_type == "Constant":
            self._store(node, [_constant_value(node)])
            return True
        if node.op_type == "Shape" and node.input[0] not in self.constants:
            return self._fold_shape(node)
        inputs = [self.constants.get(v) for v in node.input if v]
        if node.op_type not in FOLDABLE or any(i is None for i in inputs):
            return False
        if not _small_enough(node.op_type, inputs):
            return False
        self._store(node, self._evaluate(node, inputs))
        return True

    def _fold_shape(self, node) -> bool:
        shape = self.shapes.get(node.input[0])
        if shape is None:
            return False
        start = attribute(node, "start", 0)
        end = attribute(node, "end", None)
        self._store(node, [np.array(shape[slice(start, end)], dtype=np.int64)])
        return True

    def _evaluate(self, node, inputs: list[np.ndarray]) -> list[np.ndarray]:
        from onnx import TypeProto, helper
        from onnx.reference import ReferenceEvaluator

        names = [v for v in node.input if v]
        graph = helper.make_graph(
            [node],
            "fold",
            [
                helper.make_tensor_value_info(n, _elem_type(a), a.shape)
                for n, a in zip(names, inputs)
            ],
            [helper.make_value_info(v, TypeProto()) for v in node.output if v],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)])
        try:
            return ReferenceEvaluator(model).run(None, dict(zip(names, inputs)))
        except Exception:  # a hostile or unusual node; left for the rules to name
            raise Unsupported(f"{node.op_type} on constants it cannot compute") from None

    def _store(self, node, results: list) -> None:
        for value, result in zip([v for v in node.output if v], results):
            self.constants[value] = np.asarray(result)


def attribute(node, name: str, default: Any = None) -> Any:
    """The value of ``node``'s attribute ``name`` (ints, floats, strings as str, lists)."""
    from onnx import helper

    for attr in node.attribute:
        if attr.name == name:
            value = helper.get_attribute_value(attr)
            if isinstance(value, bytes):
                return value.decode("utf-8", "replace")
            if isinstance(value, float):
                return float(f"{value:.7g}")  # ONNX keeps float32: 1e-5, not 9.9999997e-06
            return list(value) if isinstance(value, list | tuple) else value
    return default


def _constant_value(node) -> np.ndarray:
    from onnx import numpy_helper

    attr = node.attribute[0]  # the checker allows exactly one
    if attr.name == "value":
        return numpy_helper.to_array(attr.t)
    if attr.name in ("value_float", "value_int"):
        return np.array(attr.f if attr.name == "value_float" else attr.i)
    if attr.name in ("value_floats", "value_ints"):
        return np.array(list(attr.floats if attr.name == "value_floats" else attr.ints))
    raise Unsupported(f"Constant given as {attr.name}")


def _elem_type(array: np.ndarray) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(array.dtype)


def _small_enough(op_type: str, inputs: list[np.ndarray]) -> bool:
    """Whether folding stays within MAX_FOLDED numbers, judged before computing."""
    if any(a.size > MAX_FOLDED for a in inputs):
        return False
    if op_type == "ConstantOfShape":
        return _count(inputs[0]) <= MAX_FOLDED
    if op_type == "Range":
        start, limit, delta = (float(a) for a in inputs)
        return delta != 0 and abs((limit - start) / delta) <= MAX_FOLDED
    if op_type == "Gather":
        return inputs[1].size * max(1, inputs[0].size) <= MAX_FOLDED
    try:
        out = np.broadcast_shapes(*(a.shape for a in inputs))
    except ValueError:
        return True  # not elementwise (Concat, Slice): never larger than its inputs together
    return math.prod(out) <= MAX_FOLDED


def _count(shape: np.ndarray) -> int:
    sizes = [int(s) for s in np.asarray(shape).reshape(-1)]
    return math.prod(sizes) if all(s >= 0 for s in sizes) else MAX_FOLDED + 1


def inferred_shapes(model) -> dict[str, tuple[int, ...]]:
    """Every value's full shape that ONNX shape inference can fix, by value name."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(
            _skeleton(model), strict_mode=False, data_prop=True
        )
    except Exception:  # inference is a help, not a requirement: missing shapes name the node
        inferred = model
    shapes = {}
    graph = inferred.graph
    for value in [*graph.input, *graph.value_info, *graph.output]:
        dims = value.type.tensor_type.shape.dim
        if value.type.tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    return shapes


def _skeleton(model):
    """``model`` with its large weights given as typed inputs: inference copies the model,
    and needs the values of small constants only (shapes), the others' sizes."""
    from onnx import helper

    graph = model.graph
    small = [t for t in graph.initializer if math.prod(t.dims) <= SMALL_CONSTANT]
    large = [
        helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
        for t in graph.initializer
        if math.prod(t.dims) > SMALL_CONSTANT
    ]
    taken = {v.name for v in graph.input}
    inputs = [*graph.input, *(v for v in large if v.name not in taken)]
    light = helper.make_graph(
        graph.node, graph.name, inputs, graph.output, small, value_info=graph.value_info
    )
    skeleton = helper.make_model(
        light, opset_imports=model.opset_import, ir_version=model.ir_version
    )
    skeleton.functions.extend(model.functions)
    return skeleton
