"""Planning a paste: nodes copied elsewhere (``node_entry`` data, for example from the
clipboard) come back shifted, with fresh ids where theirs are taken (or not valid),
together with the wires between them whose ports exist (one per input port).
Duplicating is pasting a copy of the network's own nodes.
"""

from __future__ import annotations

from engine.edits.nodes import AddNodes
from engine.edits.plans import position, wires_between
from engine.errors import NetworkError
from engine.naming import check_id, suggest_id
from engine.network import Network, Wire, spec_of


def plan_paste(network: Network, nodes: list[dict], edges, offset=(0.0, 0.0)) -> AddNodes | None:
    """Add ``nodes`` (``node_entry`` data) shifted by ``offset`` and the ``edges``
    (``((src, port), (dst, port))``) between them; the new ids are ``edit.ids``, in
    the order of ``nodes``. None when there are no nodes.

    Raises:
        NetworkError / ParamError: a node names an unknown type or holds a wrong
            parameter (nothing is planned).
    """
    dx, dy = position(offset)
    taken = {node.id for node in network.nodes}
    renamed, entries = {}, []
    for entry in nodes:
        old = entry["id"]
        new = old if _free(old, taken) else suggest_id(str(old), taken)
        taken.add(new)
        renamed[old] = new
        x, y = position(entry.get("pos", (0, 0)))
        entries.append({**entry, "id": new, "pos": (x + dx, y + dy)})
    if not entries:
        return None
    text = "Paste" if len(entries) != 1 else f"Paste {entries[0]['id']}"
    edit = AddNodes(entries, _pasted_wires(network, entries, edges, renamed), text=text)
    edit.apply(network.copy())  # a node the network would refuse raises here
    return edit


def _free(node_id, taken: set) -> bool:
    """Whether ``node_id`` is a valid id that no node has."""
    try:
        return check_id(node_id) not in taken
    except NetworkError:
        return False


def _pasted_wires(network: Network, entries: list[dict], edges, renamed: dict) -> list[Wire]:
    """Wires whose ends were both pasted and whose ports exist, one per input port."""
    by_id = {e["id"]: e for e in entries}
    wires, used = [], set()
    for (src, src_port), (dst, dst_port) in edges:
        if src not in renamed or dst not in renamed or src == dst:
            continue
        source, target = by_id[renamed[src]], by_id[renamed[dst]]
        if src_port not in spec_of(source["type"], network.library).outputs:
            continue
        target_spec = spec_of(target["type"], network.library)
        if dst_port not in target_spec.input_ports(target.get("params", {})):
            continue
        if (target["id"], dst_port) not in used:
            used.add((target["id"], dst_port))
            wires.append(Wire(source["id"], src_port, target["id"], dst_port))
    return wires


def plan_duplicate(network: Network, ids, offset=(40.0, 40.0)) -> AddNodes | None:
    """Copies of nodes ``ids`` (in network order) and the wires between them, shifted
    by ``offset``; None when none of the ids is a node."""
    chosen = set(ids)
    nodes = [network.node_entry(node.id) for node in network.nodes if node.id in chosen]
    edges = [((w.src, w.src_port), (w.dst, w.dst_port)) for w in wires_between(network, chosen)]
    if not nodes:
        return None
    return plan_paste(network, nodes, edges, offset)
