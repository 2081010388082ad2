"""Block edits: group nodes into a block, ungroup an instance, make an instance unique,
place a block type from a library, and add or remove a block type.

Each is planned here (checked first; NetworkError with the reason when refused) and is
a ``Compound`` of the plain node and wire edits plus ``AddBlockType`` /
``RemoveBlockType``, so its inverse comes for free and undo gives back the same file.
Block types live in ``network.library`` (the project's, shared by every network).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import networkx as nx

from engine.blocks import BlockType, check_block_name
from engine.blocks.block_type import MAX_NAME, param_from_dict, param_to_dict
from engine.blocks.resolve import resolve
from engine.edits.base import Compound, Edit, scratch_copy
from engine.edits.nodes import AddNodes, RemoveNodes, SetBind
from engine.errors import NetworkError
from engine.naming import check_id, suggest_id
from engine.network import Network, Wire

COLUMN = 220.0  # horizontal room for a block's Input and Output nodes


@dataclass
class AddBlockType(Edit):
    """Add block type ``name`` from ``data`` to the library, at ``order`` when given."""

    name: str
    data: dict
    order: list[str] | None = None
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Add block type {self.name}"

    def apply(self, network: Network) -> Edit:
        library = network.library
        library.add(BlockType.from_data(self.name, copy.deepcopy(self.data), library))
        if self.order is not None:
            library.set_order(list(self.order))
        return RemoveBlockType(self.name, self.text)


@dataclass
class RemoveBlockType(Edit):
    """Remove block type ``name`` (refused while another type holds it)."""

    name: str
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Remove block type {self.name}"

    def apply(self, network: Network) -> Edit:
        library = network.library
        order = library.names()
        data = library.get(self.name).to_dict()
        library.remove(self.name)
        return AddBlockType(self.name, data, order, self.text)


@dataclass
class InsideBlock(Edit):
    """``edit`` applied to the inside of block type ``type_name``, found by name in the
    library of the network it is applied to: undoing a grouping and redoing it builds a
    new BlockType, and the edits made inside must reach that one."""

    type_name: str
    edit: Edit
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"{self.edit.text} (in {self.type_name})"

    def apply(self, network: Network) -> Edit:
        inside = network.library.get(self.type_name).network
        return InsideBlock(self.type_name, self.edit.apply(inside), self.text)


@dataclass
class RenameBlockType(Edit):
    """Give block type ``old`` the name ``new``; its instances in every network of the
    project follow."""

    old: str
    new: str
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Rename block {self.old} to {self.new}"

    def apply(self, network: Network) -> Edit:
        network.library.rename(self.old, self.new)
        return RenameBlockType(self.new, self.old, self.text)


def plan_rename_block_type(network: Network, old: str, new: str) -> RenameBlockType | None:
    """Rename block type ``old``; NetworkError when ``new`` is not a free block name."""
    network.library.get(old)
    if new == old:
        return None
    check_block_name(new, network.library)
    return RenameBlockType(old, new)


@dataclass
class SetBlockParams(Edit):
    """Give block type ``type_name`` the exposed parameters ``params`` (file-layout
    data, as ``BlockType.to_dict`` writes them)."""

    type_name: str
    params: list[dict]
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Change the parameters of {self.type_name}"

    def apply(self, network: Network) -> Edit:
        library = network.library
        old = [param_to_dict(p) for p in library.get(self.type_name).params]
        library.set_params(self.type_name, tuple(param_from_dict(p) for p in self.params))
        return SetBlockParams(self.type_name, old, self.text)


def plan_expose(
    inside: Network, node_id: str, param: str, exposed: str | None = None
) -> Compound | None:
    """Make parameter ``param`` of node ``node_id``, inside a block type, read the
    block's parameter ``exposed`` (by default named like ``param``), which is added
    to the block with the node's value as its default when the block lacks it; then
    each instance sets it. None when it is bound so already.

    Raises:
        NetworkError / ParamError: not inside a block, no such parameter, a shape
            (which a block cannot expose), or a block parameter of another kind.
    """
    block_type = inside.owner
    if block_type is None:
        raise NetworkError(f"{node_id} is not inside a block; only a block's layers expose")
    node = inside.node(node_id)
    own = node.spec.param(param)
    exposed = exposed or param
    if node.bind.get(param) == exposed:
        return None
    edits: list[Edit] = []
    known = {p.name: p for p in block_type.params}
    if exposed in known:
        if known[exposed].kind != own.kind or known[exposed].choices != own.choices:
            raise NetworkError(
                f"{block_type.name}'s parameter {exposed} is a {known[exposed].kind}; "
                f"{node_id}.{param} is a {own.kind}, so it cannot read it"
            )
    else:
        declared = param_to_dict(own)
        declared.update(name=exposed, default=own.to_json(node.params[param]))
        param_from_dict(declared)  # a shape, or a name that is no identifier, raises here
        new = [*(param_to_dict(p) for p in block_type.params), declared]
        edits.append(SetBlockParams(block_type.name, new))
    edits.append(SetBind(node_id, {**node.bind, param: exposed}))
    text = f"Expose {node_id}.{param} as {block_type.name}.{exposed}"
    return Compound(
        text, [InsideBlock(block_type.name, e) if isinstance(e, SetBind) else e for e in edits]
    )


def plan_unexpose(inside: Network, node_id: str, param: str) -> Compound | None:
    """Let parameter ``param`` of node ``node_id`` keep its own value again; the block
    parameter it read goes too when no other node reads it. None when it is not bound."""
    block_type = inside.owner
    node = inside.node(node_id)
    exposed = node.bind.get(param)
    if block_type is None or exposed is None:
        return None
    bind = {k: v for k, v in node.bind.items() if k != param}
    edits: list[Edit] = [InsideBlock(block_type.name, SetBind(node_id, bind))]
    readers = [(n.id, k) for n in inside.nodes for k, v in n.bind.items() if v == exposed]
    if readers == [(node_id, param)]:
        kept = [param_to_dict(p) for p in block_type.params if p.name != exposed]
        edits.append(SetBlockParams(block_type.name, kept))
    return Compound(f"Stop exposing {node_id}.{param}", edits)


def free_id(base: str, taken) -> str:
    """``base`` itself when it is a valid id nobody has, else a numbered variant."""
    try:
        if check_id(base) not in taken:
            return base
    except NetworkError:
        pass
    return suggest_id(base, taken)


def free_block_name(library, base: str = "Block") -> str:
    """``base`` or ``base2``, ``base3``... whichever the library does not have yet
    (``base`` shortened so that the number fits in a block name's 64 characters)."""
    if base not in library:
        return base
    number = 2
    while (name := f"{base[: MAX_NAME - len(str(number))]}{number}") in library:
        number += 1
    return name


# ----------------------------------------------------------------- group
def plan_group(
    network: Network, ids, name: str | None = None, analysis=None, tried: bool = True
) -> Compound:
    """Replace nodes ``ids`` by one instance of a new block type holding them.

    The wires that cross the selection's border become the block's ports: one Input
    per distinct source outside (``x``, or ``x1``, ``x2``...), one Output per distinct
    inner result used outside (``out``...). ``analysis`` (of ``network``), when given,
    gives the Inputs their example shapes. ``tried``: the edit is first applied to a
    copy of the network, so that what the network refuses raises here; a caller that
    applies the edit at once (and catches the refusal, which leaves the network as it
    was) may skip that copy of a big network.

    Raises:
        NetworkError: nothing selected, the network's own Input/Output selected, a node
            outside lies on a path between selected nodes, or the name is taken.
    """
    wanted = set(ids)
    chosen = [n.id for n in network.nodes if n.id in wanted]
    if not chosen:
        raise NetworkError("select the nodes to group first")
    for node_id in chosen:
        if network.node(node_id).spec.role != "layer":
            raise NetworkError(
                f"{node_id} is an {network.node(node_id).type} of the network; a block holds "
                "layers, and its ports come from the wires that cross its border"
            )
    _check_convex(network, set(chosen))
    name = name or free_block_name(network.library)
    check_block_name(name, network.library)
    inner, ports_in, ports_out = _inside_of_selection(network, chosen, analysis)
    instance_id = free_id(name.lower(), {n.id for n in network.nodes if n.id not in chosen})
    xs = [network.node(i).pos[0] for i in chosen]
    ys = [network.node(i).pos[1] for i in chosen]
    entry = {
        "id": instance_id,
        "type": name,
        "params": {},
        "pos": (sum(xs) / len(xs), sum(ys) / len(ys)),
    }
    read = _outer_params_read(network, chosen)
    if read:  # inside a block: the new block exposes what its nodes read, bound through
        inner["params"] = [param_to_dict(p) for p in read]
        entry["params"] = {p.name: p.default for p in read}
        entry["bind"] = {p.name: p.name for p in read}
    wires = [Wire(src, sp, instance_id, port) for port, (src, sp) in ports_in.items()]
    for port, (_, consumers) in ports_out.items():
        wires.extend(Wire(instance_id, port, dst, dp) for dst, dp in consumers)
    order = [n.id for n in network.nodes if n.id not in chosen]
    order.insert(_first_index(network, chosen), instance_id)
    edit = Compound(
        f"Group {len(chosen)} nodes into {name}",
        [
            AddBlockType(name, inner),
            RemoveNodes(chosen),
            AddNodes([entry], sorted(wires), order),
        ],
    )
    if tried:
        edit.apply(scratch_copy(network))  # what the network refuses (nesting too deep)
    return edit


def _outer_params_read(network: Network, chosen: list[str]) -> list:
    """The parameters of the block whose inside ``network`` is that nodes ``chosen``
    read through their bindings, in the block's order (none at a network's top)."""
    owner = network.owner
    if owner is None:
        return []
    names = {source for node_id in chosen for source in network.node(node_id).bind.values()}
    return [p for p in owner.params if p.name in names]


def _first_index(network: Network, chosen: list[str]) -> int:
    """Where the instance goes in the node order: where the first grouped node was,
    counted among the nodes that stay."""
    count = 0
    for node in network.nodes:
        if node.id in chosen:
            return count
        count += 1
    return count


def _check_convex(network: Network, chosen: set[str]) -> None:
    """Refuse a selection that a path leaves and re-enters (grouping it makes a loop)."""
    below = set().union(*(nx.descendants(network.graph, n) for n in chosen)) - chosen
    above = set().union(*(nx.ancestors(network.graph, n) for n in chosen)) - chosen
    between = [n.id for n in network.nodes if n.id in below & above]
    if between:
        raise NetworkError(
            f"{between[0]} lies on a path between the selected nodes; select it too, or fewer nodes"
        )


def _inside_of_selection(network: Network, chosen: list[str], analysis):
    """The block's data (selected nodes plus boundary Inputs and Outputs), and its
    ports: ``{input port: outer source}``, ``{output port: (inner source, consumers)}``."""
    selected = set(chosen)
    sources: dict[tuple[str, str], list[Wire]] = {}
    results: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for wire in network.wires:
        if wire.dst in selected and wire.src not in selected:
            sources.setdefault((wire.src, wire.src_port), []).append(wire)
        elif wire.src in selected and wire.dst not in selected:
            results.setdefault((wire.src, wire.src_port), []).append((wire.dst, wire.dst_port))
    taken = set(chosen)
    in_names = _port_names("x", len(sources), taken)
    out_names = _port_names("out", len(results), taken)
    entries = [network.node_entry(i) for i in chosen]
    left = min(e["pos"][0] for e in entries) - COLUMN
    right = max(e["pos"][0] for e in entries) + COLUMN
    edges = [
        {"from": [w.src, w.src_port], "to": [w.dst, w.dst_port]}
        for w in network.wires
        if w.src in selected and w.dst in selected
    ]
    inputs, ports_in = [], {}
    for port, (source, wires) in zip(in_names, sources.items()):
        shape, dtype = _example(analysis, wires[0])
        y = network.node(wires[0].dst).pos[1]
        params = {"shape": list(shape), "dtype": dtype}
        inputs.append({"id": port, "type": "Input", "params": params, "pos": [left, y]})
        edges.extend({"from": [port, "out"], "to": [w.dst, w.dst_port]} for w in wires)
        ports_in[port] = source
    outputs, ports_out = [], {}
    for port, (source, consumers) in zip(out_names, results.items()):
        y = network.node(source[0]).pos[1]
        outputs.append({"id": port, "type": "Output", "params": {}, "pos": [right, y]})
        edges.append({"from": list(source), "to": [port, "in"]})
        ports_out[port] = (source, consumers)
    data = {"params": [], "nodes": [*inputs, *entries, *outputs], "edges": edges}
    return data, ports_in, ports_out


def _port_names(base: str, count: int, taken: set[str]) -> list[str]:
    names = [base] if count == 1 else [f"{base}{i + 1}" for i in range(count)]
    result = []
    for name in names:
        name = free_id(name, taken)
        taken.add(name)
        result.append(name)
    return result


def _example(analysis, wire: Wire) -> tuple[tuple, str]:
    """The example shape and dtype of a block Input fed by ``wire``."""
    shape = analysis.wire_shape(wire) if analysis is not None else None
    dtype = analysis.wire_dtype(wire) if analysis is not None else None
    return (shape or (1,)), ("int64" if dtype == "long" else "float32")


# ----------------------------------------------------------------- ungroup
def plan_ungroup(network: Network, node_id: str) -> Compound:
    """Put the inside of block instance ``node_id`` in its place: its nodes (ids
    prefixed with the instance's, parameters read from the instance) and wires."""
    node = network.node(node_id)
    if not node.is_block:
        raise NetworkError(f"{node_id} is a {node.type}, not a block; only blocks ungroup")
    block_type = node.spec.block_type
    inside, _ = resolve(block_type, node.spec.check_params(node.params))
    ports_in, ports_out = set(block_type.input_names()), set(block_type.output_names())
    taken = {n.id for n in network.nodes if n.id != node_id}
    renamed = {}
    for inner in inside.nodes:
        if inner.id not in ports_in | ports_out:
            renamed[inner.id] = free_id(f"{node_id}_{inner.id}", taken)
            taken.add(renamed[inner.id])
    origin = _origin(inside, renamed)
    entries = []
    for inner_id, new_id in renamed.items():
        entry = inside.node_entry(inner_id)
        x, y = entry["pos"]
        entry.update(id=new_id, pos=(node.pos[0] + x - origin[0], node.pos[1] + y - origin[1]))
        if not node.trainable:
            entry["trainable"] = False
        bind = _bind_through(block_type.network.node(inner_id).bind, node.bind)
        if bind:
            entry["bind"] = bind
        entries.append(entry)
    wires = _inlined_wires(network, node_id, inside, renamed, ports_in, ports_out)
    order = []
    for n in network.nodes:
        order.extend(renamed.values() if n.id == node_id else [n.id])
    return Compound(
        f"Ungroup {node_id}",
        [RemoveNodes([node_id]), AddNodes(entries, sorted(set(wires)), order)],
    )


def _bind_through(inner: dict, instance: dict) -> dict:
    """The binding of an ungrouped node: a parameter it read from the block keeps
    reading what the instance read it from (inside a block, one of that block's)."""
    return {param: instance[source] for param, source in inner.items() if source in instance}


def _origin(inside: Network, renamed: dict) -> tuple[float, float]:
    points = [inside.node(i).pos for i in renamed] or [(0.0, 0.0)]
    return (min(p[0] for p in points), min(p[1] for p in points))


def _inlined_wires(network, node_id, inside, renamed, ports_in, ports_out) -> list[Wire]:
    """The wires of an ungrouped instance: its inside's, with its port wires joined."""
    outer_in = {w.dst_port: w for w in network.wires if w.dst == node_id}
    outer_out = [w for w in network.wires if w.src == node_id]
    wires = []
    for w in inside.wires:
        if w.dst in ports_out:
            wires.extend(
                Wire(renamed[w.src], w.src_port, o.dst, o.dst_port)
                for o in outer_out
                if o.src_port == w.dst and w.src in renamed
            )
            continue
        if w.src in ports_in:
            source = outer_in.get(w.src)
            if source is not None and w.dst in renamed:
                wires.append(Wire(source.src, source.src_port, renamed[w.dst], w.dst_port))
            continue
        wires.append(Wire(renamed[w.src], w.src_port, renamed[w.dst], w.dst_port))
    return wires


# ----------------------------------------------------------------- types
def plan_make_unique(network: Network, node_id: str, name: str | None = None) -> Compound:
    """Give instance ``node_id`` its own copy of its block type (``BasicBlock2``), so
    that editing it changes no other instance."""
    node = network.node(node_id)
    if not node.is_block:
        raise NetworkError(f"{node_id} is not a block")
    name = name or free_block_name(network.library, node.type)
    check_block_name(name, network.library)
    entry = network.node_entry(node_id)
    entry["type"] = name
    wires = network.wires_of(node_id)
    order = [n.id for n in network.nodes]
    return Compound(
        f"Make {node_id} unique",
        [
            AddBlockType(name, node.spec.block_type.to_dict()),
            RemoveNodes([node_id]),
            AddNodes([entry], wires, order),
        ],
    )


def plan_place_block(
    network: Network, name: str, data: dict | None, pos, params: dict | None = None
) -> Compound:
    """Place an instance of block type ``name`` at ``pos``; ``data`` (a library's
    definition) is added to the project first when the project lacks the type."""
    edits: list[Edit] = []
    network.check_can_hold(name)
    if name not in network.library:
        if data is None:
            raise NetworkError(f"there is no block type {name!r}")
        check_block_name(name, network.library)
        edits.append(AddBlockType(name, data))
    entry = {"id": None, "type": name, "params": dict(params or {}), "pos": tuple(pos)}
    edit = Compound(f"Add {name}", [*edits, _AddInstance(entry)])
    edit.apply(scratch_copy(network))  # what the network refuses (nesting too deep) raises
    return edit


@dataclass
class _AddInstance(Edit):
    """Add an instance whose id is chosen when applied (its type may be new)."""

    entry: dict
    text: str = ""

    def apply(self, network: Network) -> Edit:
        spec = network.library.spec(self.entry["type"])
        entry = dict(self.entry)
        entry["id"] = entry["id"] or network.suggest_id(self.entry["type"])
        entry["params"] = spec.check_params(entry["params"])
        self.entry = entry  # redo gives the same id
        return AddNodes([entry]).apply(network)


def flattened(network: Network) -> Network:
    """A copy of ``network`` with every block instance, at every depth, replaced by its
    inside (ids ``instance_inner``, as the module paths of the compiled model read)."""
    flat = network.copy()
    while True:
        instance = next((n.id for n in flat.nodes if n.is_block), None)
        if instance is None:
            return flat
        plan_ungroup(flat, instance).apply(flat)
