"""The part of a network that can run while the rest of it has errors.

A network being edited often has a problem somewhere (a node not wired yet, a Linear
after an image): the nodes before it can still show their outputs. ``runnable_part``
keeps a copy of the network without each node that has an error and everything it
feeds; when that takes the Output away (or there was none yet), an Output is wired to
the end of what is left, under an id the network does not use, so that the part
compiles (``engine.insight.probe.Probe`` takes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.network import Network


def runnable_part(network: Network) -> Network:
    """A copy of ``network`` that can run (see the module docstring); an empty one when
    nothing of it can."""
    import networkx as nx

    from engine.analysis import analyze
    from engine.network import Network

    part = network.copy()
    broken = {d.node for d in analyze(part).errors if d.node is not None and d.node in part}
    for node_id in list(broken):
        broken |= nx.descendants(part.graph, node_id)
    for node_id in broken:
        part.remove_node(node_id)
    if part.nodes and not any(node.spec.role == "output" for node in part.nodes):
        _end_with_output(part, network.suggest_id("output"))
    if not part.nodes or analyze(part).errors:
        return Network(network.name, network.library, direction=network.direction)
    return part


def _end_with_output(part: Network, output_id: str) -> None:
    """Wire a new Output ``output_id`` to the last node of ``part`` that has an output."""
    ends = [
        node
        for node in part.nodes
        if node.output_ports() and not any(w.src == node.id for w in part.wires_of(node.id))
    ]
    if ends:
        part.add_node("Output", {}, (0.0, 0.0), output_id)
        part.connect(ends[-1].id, ends[-1].output_ports()[0], output_id, "in")
