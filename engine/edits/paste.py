"""Planning a paste: nodes copied elsewhere (``node_entry`` data, for example from the
clipboard) come back shifted, with fresh ids where theirs are taken (or not valid),
together with the wires between them whose ports exist (one per input port).
Duplicating is pasting a copy of the network's own nodes.

Block instances carry their block types with them (``selection_data``), so that they
paste into another project: a type the project lacks is added with the paste; one it
has under the same name but with another inside is added under a fresh name
(``BasicBlock2``), so that pasting never changes the project's own blocks.
"""

from __future__ import annotations

from engine.edits.base import Compound, Edit, scratch_copy, trial_copy
from engine.edits.nodes import AddNodes
from engine.edits.plans import position, wires_between
from engine.errors import NetworkError, ProjectError
from engine.naming import check_id, suggest_id
from engine.network import Network, Wire, spec_of


def selection_data(network: Network, ids) -> dict:
    """Nodes ``ids`` (in network order), the wires between them and the block types
    they use at any depth, as plain data: what a copy puts on the clipboard."""
    chosen = set(ids)
    data = network.to_dict()
    nodes = [n for n in data["nodes"] if n["id"] in chosen]
    edges = [e for e in data["edges"] if e["from"][0] in chosen and e["to"][0] in chosen]
    library = network.library
    names, todo = [], [n["type"] for n in nodes if n["type"] in library]
    while todo:
        name = todo.pop()
        if name not in names:
            names.append(name)
            todo.extend(library.get(name).used_types())
    blocks = {name: library.get(name).to_dict() for name in library.names() if name in names}
    return {"nodes": nodes, "edges": edges, "blocks": blocks}


def plan_paste(
    network: Network, nodes: list[dict], edges, offset=(0.0, 0.0), blocks: dict | None = None
) -> Edit | None:
    """Add ``nodes`` (``node_entry`` data) shifted by ``offset`` and the ``edges``
    (``((src, port), (dst, port))``) between them, with the block types ``blocks``
    (``{name: data}``) the project lacks; the new ids are ``edit.ids``, in the order of
    ``nodes``. None when there are no nodes.

    Raises:
        NetworkError / ParamError: a node names an unknown type or holds a wrong
            parameter, or a block type is damaged (nothing is planned).
    """
    if blocks:
        return _paste_with_blocks(network, nodes, edges, offset, blocks)
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
    edit.apply(trial_copy(network))  # a node the network would refuse raises here
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


def adopt_network(project, name: str, network: Network) -> Network:
    """Put ``network`` (from another project) into ``project`` as network ``name``,
    replacing the one of that name, with the block types it uses; a type the project
    has with another inside comes in renamed (``BasicBlock2``), as a paste does.

    Returns:
        The network as the project now holds it.
    """
    adopted = Network(name, project.blocks)
    adopted.direction = network.direction
    ids = [node.id for node in network.nodes]
    data = selection_data(network, ids)
    edges = [((w.src, w.src_port), (w.dst, w.dst_port)) for w in wires_between(network, set(ids))]
    edit = plan_paste(adopted, data["nodes"], edges, (0.0, 0.0), data["blocks"])
    if edit is not None:
        edit.apply(adopted)
    project.networks[name] = adopted
    return adopted


class _PasteWithBlocks(Compound):
    """The block types a paste adds, then its nodes (``ids`` as AddNodes has them)."""

    @property
    def ids(self) -> list[str]:
        return self.edits[-1].ids


def _paste_with_blocks(network: Network, nodes, edges, offset, blocks: dict) -> Edit | None:
    from engine.edits.blocks import AddBlockType
    from engine.project import library_from_dict

    try:  # damaged or hostile data stops here, with the checks of a project file
        library_from_dict(blocks, "the pasted blocks")
    except ProjectError as error:
        raise NetworkError(str(error)) from None
    library = network.library
    renamed = _new_type_names(library, blocks)
    nodes = [{**n, "type": renamed.get(n["type"], n["type"])} for n in nodes]
    added = []
    for name, data in blocks.items():
        if name in renamed:
            data = _retyped(data, renamed)
            added.append(AddBlockType(renamed[name], data))
    scratch = scratch_copy(network)
    for edit in _inner_first(added):
        edit.apply(scratch)  # a damaged block raises here, before anything is planned
    paste = plan_paste(scratch, nodes, edges, offset)
    if paste is None:
        return None
    return _PasteWithBlocks(paste.text, [*_inner_first(added), paste])


def _new_type_names(library, blocks: dict) -> dict[str, str]:
    """For each pasted type the project lacks, or has with another inside (at any
    depth): its name in the project (itself, or a fresh ``Name2``)."""
    from engine.edits.blocks import free_block_name

    different = {
        name
        for name, data in blocks.items()
        if name not in library or not _same(library.get(name).to_dict(), data)
    }
    while True:  # a type holding a renamed type is a different type too
        more = {
            name
            for name, data in blocks.items()
            if name not in different
            and any(n.get("type") in different for n in data.get("nodes", []))
        }
        if not more:
            break
        different |= more
    renamed = {}
    for name in blocks:
        if name in different:
            renamed[name] = name if name not in library else free_block_name(library, name)
    return renamed


def _same(a: dict, b: dict) -> bool:
    strip = lambda d: {k: v for k, v in d.items() if k != "help"}  # noqa: E731
    return strip(a) == strip(b)


def _retyped(data: dict, renamed: dict) -> dict:
    nodes = [
        {**n, "type": renamed.get(n.get("type"), n.get("type"))} for n in data.get("nodes", [])
    ]
    return {**data, "nodes": nodes}


def _inner_first(added: list) -> list:
    """AddBlockType edits ordered so that a type comes after the types it holds."""
    names = {edit.name for edit in added}
    done, ordered = set(), []
    while len(ordered) < len(added):
        progress = False
        for edit in added:
            inner = {n.get("type") for n in edit.data.get("nodes", [])} & names
            if edit.name not in done and inner <= done:
                ordered.append(edit)
                done.add(edit.name)
                progress = True
        if not progress:
            raise NetworkError("the pasted blocks hold each other in a loop")
    return ordered
