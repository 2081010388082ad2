"""Analysis of a network: structure checks, shapes, parameter and MAC counts, memory.

``analyze(network)`` never raises on a bad network and never allocates its tensors: it
reads the catalogue's shape rules and counts, so a Linear with a billion outputs is
analysed at once and reported. Like torch.fx's ``ShapeProp``, it writes a result on
each node rather than stopping at the first problem: a shape error on one node leaves
the nodes after it unknown, and the rest of the network is still checked.

The editor runs it on every edit; ``deepwire validate`` and ``summary`` print it; the
compiler refuses a network whose analysis has errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import networkx as nx

from engine.bounds import INT_MAX
from engine.errors import DeepwireError
from engine.layers.dense import LINEAR_INPUT
from engine.layers.rules import fmt, numel
from engine.layers.spec import Shape
from engine.network import Network, Node, Wire

ERROR = "error"
WARNING = "warning"

DTYPE_BYTES = {"float": 4, "long": 8}
# Scalars of optimizer state kept per trainable weight.
OPTIMIZER_STATE = {"SGD": 0, "SGD+momentum": 1, "RMSprop": 1, "Adam": 2, "AdamW": 2}
HUGE_WEIGHTS_BYTES = 2**30


@dataclass(frozen=True)
class Diagnostic:
    """A problem of the network, worded so that a user can act on it.

    Attributes:
        severity: ``"error"`` (the network cannot run) or ``"warning"``.
        message: the whole sentence, starting with the node id when there is one.
        node: the node it is about, or None for the whole network.
    """

    severity: str
    message: str
    node: str | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes needed to train at a batch size, by kind."""

    weights: int
    gradients: int
    optimizer_state: int
    activations: int

    @property
    def total(self) -> int:
        """All of it together."""
        return self.weights + self.gradients + self.optimizer_state + self.activations


@dataclass
class Analysis:
    """What ``analyze`` found. Shapes leave out the batch dimension.

    Attributes:
        diagnostics: errors first, then warnings, each in network order.
        shapes: the output shape of each node whose shape is known (for an Output,
            the shape it receives).
        dtypes: ``"float"`` or ``"long"`` for each node with a known shape.
        params: trainable scalars per node (nodes with known input shapes).
        macs: multiply-accumulates per sample, per node.
        order: node ids in a valid execution order (nodes in cycles left out).
        inside: for each block instance of known input shapes, the analysis of its
            inside (``engine.blocks``).
        port_shapes / port_dtypes: per ``(node, port)`` for nodes with several outputs
            (blocks); ``wire_shape`` reads them.
    """

    network: Network
    diagnostics: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, Shape] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    params: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    inside: dict[str, Analysis] = field(default_factory=dict)
    port_shapes: dict[tuple[str, str], Shape] = field(default_factory=dict)
    port_dtypes: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        """Diagnostics of severity error."""
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Diagnostics of severity warning."""
        return [d for d in self.diagnostics if d.severity == WARNING]

    @property
    def ok(self) -> bool:
        """True when the network has no errors and can be compiled."""
        return not self.errors

    @property
    def total_params(self) -> int:
        """All parameters of the network."""
        return sum(self.params.values())

    @property
    def trainable_params(self) -> int:
        """Parameters of the nodes whose ``trainable`` switch is on."""
        total = 0
        for node_id, count in self.params.items():
            if self.network.node(node_id).trainable:
                inside = self.inside.get(node_id)
                total += inside.trainable_params if inside is not None else count
        return total

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of one sample through the whole network."""
        return sum(self.macs.values())

    def add(self, diagnostics: list[Diagnostic]) -> None:
        """Add diagnostics found by another check (the data check), keeping the order:
        errors first, then warnings, each in network order."""
        index = {node.id: i for i, node in enumerate(self.network.nodes)}
        self.diagnostics = sorted(
            [*self.diagnostics, *diagnostics],
            key=lambda d: (d.severity != ERROR, index.get(d.node, -1)),
        )

    def has_weights(self, node_id: str) -> bool:
        """Whether the node holds weights that training changes (so that freezing it
        means something); nodes of unknown input shape are judged by their type."""
        if node_id in self.params:
            return self.params[node_id] > 0
        return type_has_weights(self.network.node(node_id))

    def for_node(self, node_id: str) -> list[Diagnostic]:
        """The diagnostics about one node."""
        return [d for d in self.diagnostics if d.node == node_id]

    def wire_shape(self, wire: Wire) -> Shape | None:
        """The shape a wire carries, when known (None from a port its node lost)."""
        if wire.src_port not in self.network.node(wire.src).output_ports():
            return None
        shape = self.port_shapes.get((wire.src, wire.src_port))
        return shape if shape is not None else self.shapes.get(wire.src)

    def wire_dtype(self, wire: Wire) -> str | None:
        """The dtype (``"float"`` or ``"long"``) a wire carries, when known."""
        dtype = self.port_dtypes.get((wire.src, wire.src_port))
        return dtype if dtype is not None else self.dtypes.get(wire.src)

    def activation_bytes(self, node_id: str) -> int:
        """Bytes of one sample of a node's output (0 when its shape is unknown)."""
        shape = self.shapes.get(node_id)
        if shape is None:
            return 0
        return numel(shape) * DTYPE_BYTES.get(self.dtypes.get(node_id, "float"), 4)

    def memory_estimate(self, batch_size: int, optimizer: str = "Adam") -> MemoryEstimate:
        """An estimate of the memory that training takes at ``batch_size``.

        Counts float32 weights, their gradients (trainable nodes only), the optimizer's
        per-weight state and every node's output kept for the backward pass.
        """
        weights = 4 * self.total_params
        gradients = 4 * self.trainable_params
        state = OPTIMIZER_STATE.get(optimizer, 2) * gradients
        activations = batch_size * sum(self.activation_bytes(n) for n in self.shapes)
        return MemoryEstimate(weights, gradients, state, activations)


def type_has_weights(node: Node) -> bool:
    """Whether a node's layer type, with its settings, has weights: counted on the
    type's examples (first with the node's settings, then with the example's own)."""
    spec = node.spec
    if getattr(spec, "is_block", False):
        try:
            return spec.has_weights()
        except Exception:  # a broken block: its errors are reported on its instances
            return False
    for example in spec.examples:
        for params in ({**spec.defaults(), **example.params, **node.params},
                       {**spec.defaults(), **example.params}):  # fmt: skip
            try:
                return spec.count_params(params, list(example.inputs)) > 0
            except Exception:  # settings that do not suit this example: try the next
                continue
    return False


def analyze(network: Network) -> Analysis:
    """Check a network and infer its shapes and sizes; never raises for a bad network.

    The inside of a block type (``network.owner`` set) is analysed as one instance
    with the type's default parameters and example input shapes.
    """
    if network.owner is not None:
        return _analyze_inside(network)
    result = Analysis(network)
    diagnostics: list[Diagnostic] = []
    cyclic = _check_structure(network, diagnostics)
    dag = network.graph.subgraph(n for n in network.graph if n not in cyclic)
    position = {node_id: index for index, node_id in enumerate(network.graph)}
    order = list(nx.lexicographical_topological_sort(dag, key=position.__getitem__))
    result.order = order
    for node_id in order:
        _infer_node(network.node(node_id), network, result, diagnostics)
    _check_weights_size(result, diagnostics)
    result.add(diagnostics)
    return result


def _analyze_inside(network: Network) -> Analysis:
    block_type = network.owner
    inside = network.library.spec(block_type.name).analyze(block_type.defaults())
    return replace(inside, network=network)


def _check_structure(network: Network, diagnostics: list[Diagnostic]) -> set[str]:
    """Cycles, missing inputs and outputs, dangling ports; returns the nodes in cycles."""
    nodes = network.nodes
    roles = {node.id: node.spec.role for node in nodes}
    if not any(role == "input" for role in roles.values()):
        diagnostics.append(Diagnostic(ERROR, "the network has no Input; add one for the data"))
    outputs = [node_id for node_id, role in roles.items() if role == "output"]
    if not outputs:
        diagnostics.append(
            Diagnostic(ERROR, "the network has no Output; add one after the last layer")
        )
    cyclic: set[str] = set()
    for component in nx.strongly_connected_components(network.graph):
        if len(component) > 1:
            members = [n.id for n in nodes if n.id in component]
            cyclic.update(members)
            loop = " -> ".join([*members, members[0]])
            diagnostics.append(
                Diagnostic(
                    ERROR,
                    f"{members[0]}: the wires form a loop ({loop}); a network must flow one "
                    "way, remove one of these wires",
                    members[0],
                )
            )
    _check_lost_ports(network, diagnostics)
    reaches_output = set(outputs)
    for output in outputs:
        reaches_output |= nx.ancestors(network.graph, output)
    for node in nodes:
        for port in node.input_ports():
            if network.wire_into(node.id, port) is None:
                what = (
                    "nothing is wired into it" if port == "in" else f"its input {port} has no wire"
                )
                diagnostics.append(Diagnostic(ERROR, f"{node.id}: {what}", node.id))
        if node.spec.role != "output" and node.id not in reaches_output and outputs:
            diagnostics.append(
                Diagnostic(
                    WARNING,
                    f"{node.id}: its result reaches no Output, so it is never used",
                    node.id,
                )
            )
    return cyclic


def _check_lost_ports(network: Network, diagnostics: list[Diagnostic]) -> None:
    """Wires on ports their node no longer has (its block type lost an Input or Output)."""
    for wire in network.wires:
        source, target = network.node(wire.src), network.node(wire.dst)
        if wire.src_port not in source.output_ports():
            message = (
                f"{source.id}: {source.type} has no output {wire.src_port} any more, so the "
                f"wire to {target.id} carries nothing; remove it"
            )
            diagnostics.append(Diagnostic(ERROR, message, source.id))
        if wire.dst_port not in target.input_ports():
            message = (
                f"{target.id}: {target.type} has no input {wire.dst_port} any more; remove the "
                f"wire from {source.id}"
            )
            diagnostics.append(Diagnostic(ERROR, message, target.id))


def input_refusal(network: Network, result: Analysis, type_name: str, source: str, shape):
    """Why a layer of ``type_name`` fed by node ``source`` (output ``shape``) is refused
    although its shape rule takes the shape, or None. The one such rule: a Linear on a
    channels-first feature map, which would mix the pixels of each row; that is never
    what a learner means (a Flatten first), while after a Permute it is ConvNeXt's
    per-position MLP."""
    if type_name == "Linear" and len(shape) >= 3 and _from_feature_map(network, source, result):
        return f"expects {LINEAR_INPUT}, got {fmt(tuple(shape))}; add a Flatten before it"
    return None


def _from_feature_map(network: Network, source_id: str, result: Analysis) -> bool:
    """Whether node ``source_id`` puts out a channels-first feature map: walking back
    through layers that keep its shape (activations, normalization), an Input or a
    convolution or pooling layer comes first, not a Permute or another layer that moved
    the channels last."""
    seen = set()
    while source_id not in seen:
        seen.add(source_id)
        source = network.node(source_id)
        spec = source.spec
        if source.type == "Input" or spec.family == "Convolution":
            return True
        ports = source.input_ports()
        if getattr(spec, "is_block", False) or spec.family == "Shape" or not ports:
            return False
        before = network.wire_into(source.id, ports[0])
        if before is None or result.wire_shape(before) != result.shapes.get(source.id):
            return False
        source_id = before.src
    return False


def _infer_node(node: Node, network: Network, result: Analysis, diagnostics: list) -> None:
    """Check one node's parameters and infer its output shape, writing into ``result``."""
    spec = node.spec
    try:
        params = spec.check_params(node.params)
    except DeepwireError as error:
        diagnostics.append(Diagnostic(ERROR, f"{node.id}: {error}", node.id))
        return
    if node.bind:
        names = ", ".join(sorted(node.bind))
        diagnostics.append(
            Diagnostic(
                ERROR,
                f"{node.id}: {names} read a block parameter, but {node.id} is not inside a "
                "block; remove the binding",
                node.id,
            )
        )
        return
    wires = [network.wire_into(node.id, port) for port in node.input_ports()]
    if any(w is None or result.wire_shape(w) is None for w in wires):
        return  # unconnected (already reported) or fed by a node of unknown shape
    shapes = [result.wire_shape(w) for w in wires]
    dtypes = [result.wire_dtype(w) for w in wires]
    if getattr(spec, "is_block", False):
        _infer_block(node, params, shapes, dtypes, result, diagnostics)
        return
    problem = _dtype_problem(spec.input_dtype, dtypes, shapes)
    if problem:
        diagnostics.append(Diagnostic(ERROR, f"{node.id}: {node.type} {problem}", node.id))
        return
    refusal = input_refusal(network, result, node.type, wires[0].src, shapes[0]) if wires else None
    if refusal:
        diagnostics.append(Diagnostic(ERROR, f"{node.id}: {node.type} {refusal}", node.id))
        return
    try:
        shape = tuple(spec.infer(params, shapes))
        if any(d < 1 for d in shape):
            raise DeepwireError(f"would output {fmt(shape)}, which has an empty dimension")
        if numel(shape) > INT_MAX:
            raise DeepwireError(
                f"would output {fmt(shape)}, {numel(shape):,} numbers a sample; a tensor "
                f"holds at most {INT_MAX:,}"
            )
        result.params[node.id] = spec.count_params(params, shapes)
        result.macs[node.id] = spec.macs(params, shapes, shape)
    except DeepwireError as error:
        diagnostics.append(Diagnostic(ERROR, f"{node.id}: {node.type} {error}", node.id))
        return
    except Exception as error:  # a bug in a shape rule must not take the editor down
        message = f"{node.id}: {node.type} could not be checked ({type(error).__name__}: {error})"
        diagnostics.append(Diagnostic(ERROR, message, node.id))
        return
    output_dtype = spec.output_dtype
    if callable(output_dtype):
        output_dtype = output_dtype(params)
    result.shapes[node.id] = shape
    result.dtypes[node.id] = output_dtype or (dtypes[0] if dtypes else "float")


def _infer_block(node: Node, params, shapes, dtypes, result: Analysis, diagnostics) -> None:
    """A block instance: analyse its inside; an error inside marks the instance."""
    spec = node.spec
    inside = spec.analyze(params, shapes, dtypes)
    result.inside[node.id] = inside  # the editor shows an error inside on its node
    if inside.errors:
        first, count = inside.errors[0].message, len(inside.errors)
        more = f" (and {count - 1} more)" if count > 1 else ""
        message = f"{node.id}: inside {node.type}, {first}{more}"
        diagnostics.append(Diagnostic(ERROR, message, node.id))
        return
    outputs = spec.outputs_of(inside)
    if not outputs:
        diagnostics.append(
            Diagnostic(ERROR, f"{node.id}: block {node.type} has no Output", node.id)
        )
        return
    result.shapes[node.id], result.dtypes[node.id] = outputs[0]
    if len(outputs) > 1:
        for port, (shape, dtype) in zip(spec.outputs, outputs):
            result.port_shapes[(node.id, port)] = shape
            result.port_dtypes[(node.id, port)] = dtype
    result.params[node.id] = inside.total_params
    result.macs[node.id] = inside.total_macs


def _dtype_problem(expected: str, dtypes: list[str], shapes: list[Shape]) -> str | None:
    if expected == "any":
        return None
    for dtype, shape in zip(dtypes, shapes):
        if expected == "float" and dtype == "long":
            return (
                f"expects numbers but receives token ids {fmt(shape)} int64; add an "
                "Embedding before it"
            )
        if expected == "long" and dtype == "float":
            return (
                f"expects int64 token ids but receives float32 values {fmt(shape)}; set the "
                "Input's dtype to int64"
            )
    return None


def _check_weights_size(result: Analysis, diagnostics: list[Diagnostic]) -> None:
    for node_id, count in result.params.items():
        if 4 * count >= HUGE_WEIGHTS_BYTES:
            diagnostics.append(
                Diagnostic(
                    WARNING,
                    f"{node_id}: {count:,} parameters take {format_bytes(4 * count)} of memory "
                    "before training starts; is that size intended?",
                    node_id,
                )
            )


def format_bytes(count: int) -> str:
    """``1536`` -> ``1.5 KB``: sizes as users read them."""
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
