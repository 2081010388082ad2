"""``BlockSpec``: a block type seen through the interface of a ``LayerSpec``.

The palette, the inspector, the network model and the analysis read a block instance
as they read any layer: its ports, parameters, summary and shape rule. The shape rule
analyses the instance's inside (``engine.blocks.resolve``) with the shapes that
arrive; the result is cached per library revision, so a ResNet's sixteen blocks are
analysed once per distinct input, not once per edit of an unrelated node.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from engine.blocks.resolve import MAX_DEPTH, resolve
from engine.errors import DeepwireError, ShapeError
from engine.layers.spec import LayerSpec, Shape

if TYPE_CHECKING:
    from engine.analysis import Analysis
    from engine.blocks.block_type import BlockType

_nesting = threading.local()  # per thread: the app's analysis and a training run's


class BlockSpec:
    """The LayerSpec-like view of one block type (see the module docstring)."""

    is_block = True
    family = "Blocks"
    role = "layer"
    input_dtype = "any"
    output_dtype = None
    examples = ()
    module = None
    emit = None

    param = LayerSpec.param
    defaults = LayerSpec.defaults

    def check_params(self, params: dict) -> dict[str, Any]:
        """The exposed parameters' values, defaults completed, each checked (values
        of parameters the type no longer exposes are left out)."""
        known = {k: v for k, v in params.items() if k in self.defaults()}
        return LayerSpec.check_params(self, known)

    def __init__(self, block_type: BlockType):
        self.block_type = block_type
        self.name = block_type.name
        self.params = block_type.params
        self.help = block_type.help or f"A block of {len(block_type.network)} nodes."

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input port names: the inside's Input ids."""
        return self.block_type.input_names()

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output port names: the inside's Output ids."""
        return self.block_type.output_names()

    def input_ports(self, params: dict) -> tuple[str, ...]:
        """Input port names (they do not depend on parameters)."""
        return self.inputs

    def describe(self, params: dict) -> str:
        """The exposed parameters' values, shown on the node."""
        shown = []
        for p in self.params:
            value = params.get(p.name, p.default)
            if isinstance(value, tuple | list):
                value = "x".join(str(v) for v in value)
            shown.append(f"{p.name} {value}")
        return ", ".join(shown)

    summary = describe

    # ----------------------------------------------------------------- analysis
    def analyze(
        self, params: dict, shapes: list[Shape] | None = None, dtypes: list[str] | None = None
    ) -> Analysis:
        """The analysis of one instance's inside (cached until the library changes).

        With ``shapes`` None, the type's own example shapes are used.
        """
        library = self.block_type.network.library
        params = self.check_params(params)
        key = (self.name, _frozen(params), _frozen(shapes), _frozen(dtypes))
        cached = library.cache.get(key)
        if cached is not None:
            return cached
        result = self._analyze(params, shapes, dtypes)
        library.cache[key] = result
        return result

    def _analyze(self, params, shapes, dtypes) -> Analysis:
        from engine.analysis import ERROR, Analysis, Diagnostic, analyze

        depth = getattr(_nesting, "depth", 0)
        if depth >= MAX_DEPTH:
            result = Analysis(self.block_type.network)
            message = (
                f"blocks are nested more than {MAX_DEPTH} deep (does {self.name} hold itself?)"
            )
            result.diagnostics.append(Diagnostic(ERROR, message))
            return result
        try:
            network, problems = resolve(self.block_type, params, shapes, dtypes)
        except DeepwireError as error:  # what arrives cannot even be set on the inside
            result = Analysis(self.block_type.network)
            result.diagnostics.append(Diagnostic(ERROR, str(error)))
            return result
        _nesting.depth = depth + 1
        try:
            result = analyze(network)
        finally:
            _nesting.depth = depth
        result.add([Diagnostic(ERROR, message, node_id) for node_id, message in problems])
        return result

    def outputs_of(self, inside: Analysis) -> list[tuple[Shape, str]]:
        """``(shape, dtype)`` of each output port, from an analysis of the inside."""
        return [(inside.shapes[n], inside.dtypes[n]) for n in self.outputs]

    def infer(self, params: dict, inputs: list[Shape]) -> Shape:
        """The first output's shape for float inputs; ShapeError naming the inner node."""
        inside = self.analyze(params, inputs, ["float"] * len(inputs))
        if inside.errors:
            raise ShapeError(f"inside: {inside.errors[0].message}")
        if not self.outputs:
            raise ShapeError(f"block {self.name} has no Output")
        return inside.shapes[self.outputs[0]]

    def count_params(self, params: dict, inputs: list[Shape]) -> int:
        """Trainable scalars of one instance."""
        return self.analyze(params, inputs, ["float"] * len(inputs)).total_params

    def macs(self, params: dict, inputs: list[Shape], output: Shape) -> int:
        """Multiply-accumulates of one sample through one instance."""
        return self.analyze(params, inputs, ["float"] * len(inputs)).total_macs

    def has_weights(self) -> bool:
        """Whether the block holds weights, judged on its example shapes."""
        return self.analyze(self.defaults()).total_params > 0


def _frozen(value: Any) -> Any:
    """A hashable copy of plain data (dicts, lists, tuples)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value
