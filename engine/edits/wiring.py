"""Planning wire edits: what may be wired where, replacing the wire already on an
input, putting a free node into a wire, and adding a node already wired to a port.

Like ``engine.edits.plans``, each ``plan_*`` checks first and raises NetworkError
(changing nothing) when the engine refuses, then returns the edit.
"""

from __future__ import annotations

from engine.edits.base import Compound, Edit, trial_copy
from engine.edits.plans import plan_add_node, plan_move
from engine.edits.wires import Connect, Disconnect
from engine.errors import NetworkError
from engine.network import Network, Wire, spec_of


def wire_problem(network: Network, src: str, src_port: str, dst: str, dst_port: str):
    """Why this wire cannot be made, or None. A wire already on ``dst_port`` is no
    problem: connecting replaces it."""
    try:
        network.check_connection(src, src_port, dst, dst_port)
    except NetworkError as error:
        existing = network.wire_into(dst, dst_port) if dst in network else None
        if existing is None or not _only_blocked_by_existing(network, src, src_port, dst):
            return str(error)
        if existing.src == src and existing.src_port == src_port:
            return f"{src}.{src_port} is already wired to {dst}.{dst_port}"
    return None


def _only_blocked_by_existing(network: Network, src: str, src_port: str, dst: str) -> bool:
    return src != dst and src_port in network.node(src).output_ports()


def plan_connect(network: Network, src: str, src_port: str, dst: str, dst_port: str) -> Edit:
    """Wire ``src.src_port`` to ``dst.dst_port``; a wire already on that input is
    replaced (one compound edit). NetworkError with the reason when refused."""
    problem = wire_problem(network, src, src_port, dst, dst_port)
    if problem:
        raise NetworkError(problem)
    wire = Wire(src, src_port, dst, dst_port)
    existing = network.wire_into(dst, dst_port)
    if existing is None:
        return Connect(wire)
    return Compound(f"Replace wire into {dst}.{dst_port}", [Disconnect(existing), Connect(wire)])


def plan_disconnect(network: Network, wire: Wire) -> Disconnect:
    """Remove one wire; NetworkError if it is not there."""
    if wire not in set(network.wires):
        raise NetworkError(f"there is no wire {wire}")
    return Disconnect(wire)


def insertion_ports(network: Network, node_id: str, wire: Wire):
    """``(input, output)`` ports through which ``node_id`` can be put into ``wire``,
    or None: the node needs a free input and output and must not be an end of it."""
    node = network.node(node_id)
    if node_id in (wire.src, wire.dst) or not node.input_ports() or not node.output_ports():
        return None
    if network.wires_of(node_id):
        return None
    return node.input_ports()[0], node.output_ports()[0]


def plan_insert_on_wire(network: Network, node_id: str, wire: Wire, pos=None) -> Compound | None:
    """Put a free node into a wire (src -> node -> dst), moved to ``pos`` when given.
    None when the node does not fit (see ``insertion_ports``) or the wire is not there."""
    ports = insertion_ports(network, node_id, wire)
    if ports is None or wire not in set(network.wires):
        return None
    move = plan_move(network, {node_id: pos}) if pos is not None else None
    return Compound(
        f"Insert {node_id}",
        [
            *([move] if move else []),
            Disconnect(wire),
            Connect(Wire(wire.src, wire.src_port, node_id, ports[0])),
            Connect(Wire(node_id, ports[1], wire.dst, wire.dst_port)),
        ],
    )


def plan_add_connected_node(
    network: Network, type_name: str, pos, src=None, dst=None
) -> tuple[Compound, str]:
    """Add a node and wire it: ``src=(node, port)`` feeds the new node's first input;
    ``dst=(node, port)`` takes its first output (replacing a wire there).

    Returns:
        ``(edit, new node id)``.
    Raises:
        NetworkError: the type has no such port, or a wire is refused.
    """
    spec = spec_of(type_name, network.library)
    ins, outs = spec.input_ports(spec.defaults()), spec.outputs
    if (src and not ins) or (dst and not outs):
        raise NetworkError(f"{type_name} has no {'input' if src else 'output'} to wire")
    add = plan_add_node(network, type_name, pos)
    node_id = add.ids[0]
    scratch = trial_copy(network)  # the wires are checked against the network with the node
    edits: list[Edit] = [add]
    add.apply(scratch)
    if src:
        edits.append(plan_connect(scratch, src[0], src[1], node_id, ins[0]))
        edits[-1].apply(scratch)
    if dst:
        edits.append(plan_connect(scratch, node_id, outs[0], dst[0], dst[1]))
    return Compound(f"Add {type_name}", edits), node_id
