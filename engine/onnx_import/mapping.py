"""Map a whole ONNX graph onto catalogue layers, or name everything that cannot be.

Three passes: fold every constant (initializers, ``Constant`` nodes, shape arithmetic),
find the patterns that span several nodes (a GELU written with Erf), then map each node
that an output needs through the rules of ``plain`` and ``weighted``. Nodes no output
needs are left out. Every node that cannot be mapped is collected, and the import is
refused once, in one sentence grouped by cause: ``Resize: 3 nodes, e.g. /up1/Resize,
...``.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field

from engine.errors import DeepwireError
from engine.import_report import grouped
from engine.importer import ImportModelError
from engine.layers import CATALOGUE
from engine.onnx_import.graph import Layer, OnnxGraph, Unsupported
from engine.onnx_import.patterns import PATTERNS
from engine.onnx_import.plain import RULES as PLAIN_RULES
from engine.onnx_import.weighted import RULES as WEIGHTED_RULES

RULES = {**PLAIN_RULES, **WEIGHTED_RULES}


@dataclass
class Mapping:
    """What the graph becomes: layers in graph order, and values that equal others."""

    layers: list[Layer] = field(default_factory=list)
    alias: dict[str, str] = field(default_factory=dict)

    def resolve(self, value: str) -> str:
        """The value that ``value`` passes on unchanged (through Identity nodes)."""
        while value in self.alias:
            value = self.alias[value]
        return value


def map_graph(graph: OnnxGraph, label: str) -> Mapping:
    """The layers of ``graph``; ImportModelError naming, by cause, all it cannot map."""
    for node in graph.nodes:
        with suppress(Unsupported):  # a node it cannot fold is named by its rule, if needed
            graph.try_fold(node)
    needed = _needed(graph)
    anchors, absorbed = _patterns(graph, needed)
    mapping, problems = Mapping(), defaultdict(list)
    for node in graph.nodes:
        if id(node) not in needed or id(node) in absorbed:
            continue
        try:
            result = anchors.get(id(node)) or _rule(node, graph)
            _add(mapping, result, node)
        except Unsupported as unsupported:
            problems[unsupported.cause].append(node.name or node.op_type)
            continue
        if isinstance(result, Layer):
            absorbed.update(id(n) for n in result.absorbed)
    if problems:
        raise ImportModelError(
            f"cannot import {label}: no Deepwire layer for {grouped(problems, 'node')}"
        )
    return mapping


def _rule(node, graph: OnnxGraph) -> Layer | str:
    if node.domain not in ("", "ai.onnx"):
        raise Unsupported(f"{node.domain}.{node.op_type}")
    rule = RULES.get(node.op_type)
    if rule is None:
        raise Unsupported(node.op_type)
    return rule(node, graph)


def _add(mapping: Mapping, result: Layer | str, node) -> None:
    if isinstance(result, str):
        mapping.alias[node.output[0]] = result
        return
    try:
        result.params = CATALOGUE[result.type].check_params(result.params)
    except DeepwireError as error:
        raise Unsupported(f"{node.op_type} whose {error}") from None
    mapping.layers.append(result)


def _needed(graph: OnnxGraph) -> set[int]:
    """The nodes (by id) whose results some graph output depends on."""
    needed, stack = set(), [v for v in graph.outputs if graph.constant(v) is None]
    seen = set(stack)
    while stack:
        node = graph.producer(stack.pop())
        if node is None or id(node) in needed:
            continue
        needed.add(id(node))
        for value in node.input:
            if value and value not in seen and graph.constant(value) is None:
                seen.add(value)
                stack.append(value)
    return needed


def _patterns(graph: OnnxGraph, needed: set[int]) -> tuple[dict[int, Layer], set[int]]:
    """The layers that start at a node and the other nodes they stand for, by id."""
    anchors, absorbed = {}, set()
    for node in graph.nodes:
        if id(node) not in needed or id(node) in absorbed:
            continue
        for pattern in PATTERNS:
            layer = pattern(node, graph)
            if layer is not None:
                anchors[id(node)] = layer
                absorbed.update(id(n) for n in layer.absorbed)
                break
    return anchors, absorbed
