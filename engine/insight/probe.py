"""Every node's output for one sample: what the network computes inside, node by node.

``Probe(network)`` compiles the network once, with every node (also those that reach no
Output, so that a user editing sees each node) and every Input, and makes a second
GraphModule over the same layers whose forward returns the result of each node instead
of the Outputs. ``run(inputs)`` then costs one forward pass in eval mode without
gradients; ``load_state`` swaps in new weights (a training snapshot) without compiling
again. Results are keyed ``(node id, output port)`` at the network's top level: a block
instance is one node, with one result per port of the block; an Output node is keyed by
its input port ``in`` (what the network returns there).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.errors import DataError
from engine.insight.stats import TensorStats, tensor_stats

if TYPE_CHECKING:
    import torch

    from engine.network import Network


@dataclass
class NodeOutput:
    """One node's result for one sample.

    Attributes:
        node_id: the node's id.
        port: its output port (``in`` for an Output node).
        tensor: the result: float, on the CPU, detached, without the batch dimension.
        stats: its statistics.
        kind: how to picture it (``render.picture``'s hint): ``image`` for an Input or
            an Output of one or three channels (and the node that feeds that Output),
            else None.
    """

    node_id: str
    port: str
    tensor: torch.Tensor
    stats: TensorStats
    kind: str | None = None


class Probe:
    """Every node's output for one sample, on the given weights (random ones: a fresh compile).

    Args:
        network: the network to look into; it must have no errors.
        state: weights keyed like the compiled network's state_dict (a weights file,
            a training snapshot); None for fresh weights drawn from ``seed``.
        seed: the seed of the fresh weights (torch's global random state is kept).

    Raises:
        CompileError: the network has errors.
        WeightsError: ``state`` does not fit the network.
    """

    def __init__(self, network: Network, *, state: Mapping | None = None, seed: int = 0):
        import torch

        from engine.analysis import analyze
        from engine.compile import compile_network, nodes_in_use

        self.network = network
        self.analysis = analyze(network)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            compiled = compile_network(network, self.analysis, all_inputs=True, keep_unused=True)
        self._used = nodes_in_use(network, self.analysis)
        self.kinds = picture_kinds(network, self.analysis)
        self.module, self.keys = _all_results_module(compiled)
        self.module.eval()
        self.inputs = [n.target for n in self.module.graph.nodes if n.op == "placeholder"]
        if state is not None:
            self.load_state(state)

    def load_state(self, state: Mapping, name: str = "the weights") -> None:
        """Use the weights ``state``; nodes that reach no Output keep their own.

        ``name`` names the weights in the message (a file's name).

        Raises:
            WeightsError: naming every tensor that is missing, unexpected or of
                another shape (the weights in use are then left as they were).
        """
        from engine.weights import WeightsError, describe_problems, weight_problems

        expected = {
            key: value
            for key, value in self.module.state_dict().items()
            if key.split(".", 1)[0] in self._used
        }
        problems = weight_problems(expected, state)
        if problems:
            raise WeightsError(describe_problems(problems, name))
        self.module.load_state_dict(dict(state), strict=False)

    def run(self, inputs: Mapping[str, torch.Tensor]) -> dict[tuple[str, str], NodeOutput]:
        """Every node's output for one sample.

        Args:
            inputs: a tensor per Input node id, with or without its batch dimension (a
                batch of several samples: the first is shown); a tensor with as many
                numbers as the Input's shape is reshaped to it.

        Returns:
            ``(node id, port)`` -> ``NodeOutput``, in the order the network computes them.

        Raises:
            DataError: an Input is missing or its tensor does not fit.
        """
        import torch

        arguments = [self._argument(node_id, inputs) for node_id in self.inputs]
        with torch.no_grad():
            results = self.module(*arguments)
        outputs = {}
        for keys, value in zip(self.keys, results):
            tensor = value[0].detach().float().cpu()
            stats = tensor_stats(tensor)
            for node_id, port in keys:
                kind = self.kinds.get(node_id)
                outputs[(node_id, port)] = NodeOutput(node_id, port, tensor, stats, kind)
        return outputs

    def _argument(self, node_id: str, inputs: Mapping) -> torch.Tensor:
        """The tensor for Input ``node_id``: one sample with its batch dimension, of the
        Input's dtype and shape."""
        import math

        import torch

        from engine.data.base import fmt_shape

        if node_id not in inputs:
            raise DataError(f"no sample for the Input {node_id!r}")
        value = torch.as_tensor(inputs[node_id]).detach().cpu()
        shape = tuple(self.analysis.shapes[node_id])
        if value.dim() > len(shape) and math.prod(value.shape[1:]) == math.prod(shape):
            value = value[:1]
        if value.numel() != math.prod(shape):
            raise DataError(
                f"{node_id}: takes samples of shape {fmt_shape(shape)}, got "
                f"{fmt_shape(tuple(value.shape))}"
            )
        dtype = torch.long if self.analysis.dtypes[node_id] == "long" else torch.float32
        return value.reshape(1, *shape).to(dtype)


def picture_kinds(network: Network, analysis) -> dict[str, str]:
    """``{node id: "image"}`` for the nodes whose output is an image: an Input or an
    Output of shape ``(1 or 3, H, W)``, and the node that feeds such an Output (a
    decoder's reconstruction, a generator's sample)."""
    kinds = {}
    for node in network.nodes:
        role = node.spec.role
        if role == "input" and _is_image(analysis.shapes.get(node.id)):
            kinds[node.id] = "image"
        elif role == "output":
            wire = network.wire_into(node.id, "in")
            if wire is not None and _is_image(analysis.wire_shape(wire)):
                kinds[node.id] = kinds[wire.src] = "image"
    return kinds


def _is_image(shape) -> bool:
    return shape is not None and len(shape) == 3 and shape[0] in (1, 3)


def _all_results_module(compiled) -> tuple:
    """A GraphModule sharing ``compiled``'s layers whose forward returns every tagged
    result, and the ``(node id, port)`` keys of each returned value."""
    import torch.fx

    from engine.compile import PORTS_META

    graph = torch.fx.Graph()
    copies: dict = {}
    graph.graph_copy(compiled.graph, copies, return_output_node=False)
    tagged = [copies[n] for n in compiled.graph.nodes if n.meta.get(PORTS_META)]
    keys = [
        list(dict.fromkeys(n.meta[PORTS_META]))
        for n in compiled.graph.nodes
        if n.meta.get(PORTS_META)
    ]
    graph.output(tuple(tagged))
    return torch.fx.GraphModule(compiled, graph), keys
