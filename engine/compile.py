"""Compilation of a network into a torch.fx ``GraphModule``.

The GraphModule's submodules are named after the node ids (``model.fc1``), its
``forward`` takes the Input nodes in network order and returns the Output (or a tuple of
Outputs, in network order), and its ``code`` is readable Python. Nodes that reach no
Output are left out. What trains is what is exported: ``engine.codegen`` prints this same
graph as a standalone torch.nn.Module.

Each fx node that holds a network node's result is tagged in its ``meta`` under
``PORTS_META`` with ``(node id, output port)`` pairs (an Output node: ``(id, "in")``), so
that a pass over the graph (``engine.insight.probe``) finds every node's output; with
``keep_unused`` the nodes that reach no Output are compiled too.

A block instance becomes a submodule of its own, the GraphModule of its inside (class
named after the block type), so state_dict keys follow the nesting
(``layer1_0.conv1.weight``). A block with several outputs returns a tuple, read by index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.analysis import Analysis, analyze, format_bytes
from engine.errors import CompileError
from engine.network import Network

if TYPE_CHECKING:
    import torch.fx

#: the key of ``fx.Node.meta`` that lists the ``(node id, port)`` results a node holds
PORTS_META = "deepwire_ports"


def build_module(class_name: str, kwargs: dict):
    """Instantiate ``torch.nn.<class_name>(**kwargs)``, or Deepwire's own class of that name."""
    from engine.layers.modules import module_class

    return module_class(class_name)(**kwargs)


def _build(node, declared: tuple[str, dict], analysis: Analysis):
    """``build_module`` for ``node``; weights no machine can allocate are a CompileError."""
    try:
        return build_module(*declared)
    except (MemoryError, RuntimeError) as error:
        if not isinstance(error, MemoryError) and "alloc" not in str(error).lower():
            raise
        size = format_bytes(4 * analysis.params.get(node.id, 0))
        raise CompileError(
            f"{node.id}: {node.type} needs {size} for its weights, more than this machine "
            "can allocate; make the layer smaller"
        ) from None


def default_emit(graph, target: str, args: list, params: dict, inputs: list):
    """Call the node's module on its inputs: ``fc1 = self.fc1(x)``."""
    return graph.call_module(target, tuple(args))


def compile_network(
    network: Network,
    analysis: Analysis | None = None,
    *,
    all_inputs: bool = False,
    keep_unused: bool = False,
) -> torch.fx.GraphModule:
    """Turn ``network`` into a GraphModule; raises CompileError if it has errors.

    Args:
        network: the network to compile.
        analysis: its analysis, when the caller already has a fresh one.
        all_inputs: take every Input as an argument, even one that reaches no Output
            (a block's forward takes all its ports).
        keep_unused: also compute the nodes that reach no Output (their weights join
            the state_dict; the forward still returns the Outputs only).
    """
    import torch
    import torch.fx

    analysis = analysis or analyze(network)
    if analysis.errors:
        count = len(analysis.errors)
        first = analysis.errors[0].message
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise CompileError(f"the network cannot be built: {first}{more}", analysis.errors)

    used = {n.id for n in network.nodes} if keep_unused else nodes_in_use(network, analysis)
    root = torch.nn.Module()
    graph = torch.fx.Graph()
    values: dict[str, torch.fx.Node] = {}
    for node in network.nodes:
        if node.spec.role == "input" and (node.id in used or all_inputs):
            values[node.id] = _tag(graph.placeholder(node.id), node.id, _out_port(node))
    results = {}
    for node_id in analysis.order:
        node = network.node(node_id)
        spec = node.spec
        if node_id not in used or spec.role == "input":
            continue
        wires = [network.wire_into(node_id, port) for port in node.input_ports()]
        args = [values.get((w.src, w.src_port), values.get(w.src)) for w in wires]
        if spec.role == "output":
            results[node_id] = _tag(args[0], node_id, "in")
            continue
        params = spec.check_params(node.params)
        inputs = [analysis.wire_shape(w) for w in wires]
        if getattr(spec, "is_block", False):
            block_values = _add_block(root, graph, node, params, wires, args, analysis)
            for key, value in block_values.items():
                _tag(value, node_id, key[1] if isinstance(key, tuple) else _out_port(node))
            values.update(block_values)
            continue
        declared = spec.module(params, inputs) if spec.module else None
        if declared is not None:
            module = _build(node, declared, analysis)
            if not node.trainable:
                module.requires_grad_(False)
            root.add_module(node_id, module)
        emit = spec.emit or default_emit
        value = emit(graph, node_id, args, params, inputs)
        if declared is None and value.name != node_id:
            value._rename(node_id)  # `skip = bn_b + stem_act`, not `add = ...`
        values[node_id] = _tag(value, node_id, _out_port(node))
    outputs = [results[node.id] for node in network.nodes if node.id in results]
    graph.output(outputs[0] if len(outputs) == 1 else tuple(outputs))
    module = torch.fx.GraphModule(root, graph, class_name=_class_name(network.name))
    return module


def _out_port(node) -> str:
    """The name of a one-output node's output port (``out``)."""
    ports = node.output_ports()
    return ports[0] if ports else "out"


def _tag(value, node_id: str, port: str):
    """Note in ``value``'s meta that it is ``node_id``'s result on ``port``; returns it."""
    value.meta.setdefault(PORTS_META, []).append((node_id, port))
    return value


def _add_block(root, graph, node, params, wires, args, analysis: Analysis) -> dict:
    """Compile a block instance as a submodule and call it; returns its output values."""
    import operator

    from engine.blocks.resolve import resolve

    spec = node.spec
    shapes = [analysis.wire_shape(w) for w in wires]
    dtypes = [analysis.wire_dtype(w) for w in wires]
    inside, _ = resolve(spec.block_type, params, shapes, dtypes)
    module = compile_network(inside, analysis.inside.get(node.id), all_inputs=True)
    module.__class__.__name__ = spec.name
    if not node.trainable:
        module.requires_grad_(False)
    root.add_module(node.id, module)
    value = graph.call_module(node.id, tuple(args))
    if len(spec.outputs) == 1:
        return {node.id: value}
    values = {}
    for index, port in enumerate(spec.outputs):
        item = graph.call_function(operator.getitem, (value, index))
        item._rename(f"{node.id}_{port}")
        values[(node.id, port)] = item
    return values


def input_specs(network: Network, analysis: Analysis | None = None) -> list[tuple[str, tuple, str]]:
    """``(id, shape, dtype)`` of each Input the compiled forward takes, in order."""
    analysis = analysis or analyze(network)
    used = nodes_in_use(network, analysis)
    return [
        (node.id, analysis.shapes[node.id], analysis.dtypes[node.id])
        for node in network.nodes
        if node.spec.role == "input" and node.id in used
    ]


def example_inputs(specs, batch: int = 2, seed: int = 0) -> tuple:
    """Random tensors for ``(id, shape, dtype)`` specs, each with a batch dimension of
    ``batch``: normal floats from ``seed``, token ids 0."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    values = []
    for _, shape, dtype in specs:
        if dtype == "long":
            values.append(torch.zeros((batch, *shape), dtype=torch.long))
        else:
            values.append(torch.randn((batch, *shape), generator=generator))
    return tuple(values)


def output_ids(network: Network) -> list[str]:
    """Ids of the Output nodes, in the order the compiled forward returns them."""
    return [node.id for node in network.nodes if node.spec.role == "output"]


def nodes_in_use(network: Network, analysis: Analysis | None = None) -> set[str]:
    """Ids of the nodes that reach an Output (the ones ``compile_network`` keeps)."""
    import networkx as nx

    used: set[str] = set()
    for node_id in output_ids(network):
        used |= {node_id, *nx.ancestors(network.graph, node_id)}
    return used


def _class_name(name: str) -> str:
    words = [w for w in name.replace("-", "_").split("_") if w]
    title = "".join(w[:1].upper() + w[1:] for w in words)
    return title if title.isidentifier() and title[0].isalpha() else "Model"
