"""An imported model's module hierarchy as blocks.

A model written in PyTorch is a tree of modules: torchvision's ResNet-18 holds
``layer1.0``, a ``BasicBlock`` whose forward calls ``conv1``, ``bn1``, ``relu``... After
import the network is flat; ``group_modules`` groups the nodes of each module into a
block instance named after the module's path (``layer1_0``), innermost modules first,
so that the network reads like its paper figure. Modules of one class that are built
alike share one block type: the settings that differ between them (``out_channels``,
``stride``) become the type's exposed parameters, which each instance sets; a class
whose modules differ in structure (a block with a projection shortcut and one without)
gives one type per structure (``BasicBlock``, ``BasicBlock2``). Containers
(``Sequential``, ``ModuleList``) are not blocks: their children stay at their level.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

from engine.analysis import analyze
from engine.blocks.block_type import EXPOSABLE_KINDS, check_block_name, param_to_dict
from engine.edits.base import Compound
from engine.edits.blocks import SetBlockParams, free_block_name, free_id, plan_group
from engine.edits.nodes import AddNodes, RemoveNodes, SetBind
from engine.errors import DeepwireError
from engine.network import Network
from engine.progress import Steps

CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def group_modules(
    network: Network, paths: dict[str, str], classes: dict[str, str], progress=None
) -> dict[str, str]:
    """Group ``network``'s nodes by the modules they come from.

    Args:
        network: the flat imported network (changed in place).
        paths: for each node id, the path of the innermost module whose forward made it
            (``"layer1.0"``; ``""`` for the model's own forward).
        classes: each module path's class name (``{"layer1.0": "BasicBlock"}``).
        progress: told how many modules are done (``engine.progress``): a DenseNet's
            65 modules take seconds.

    Returns:
        Where each node of the flat network is now, as the dotted path of its module in
        the compiled network (``"layer1_0.conv1"``), for the nodes that moved: the keys
        of the weights follow it.
    """
    where = {node.id: [node.id] for node in network.nodes}
    owner = dict(paths)  # node id -> module path, updated as modules become instances
    modules = _modules(paths, classes)
    told = Steps(progress, "grouping the model's modules into blocks", len(modules))
    done = 0
    for depth in sorted({p.count(".") for p in modules}, reverse=True):
        made_here: dict[str, list[str]] = defaultdict(list)  # class -> types made
        for path in sorted(p for p in modules if p.count(".") == depth):
            told.tell(done)
            done += 1
            members = [n.id for n in network.nodes if _within(owner.get(n.id, ""), path)]
            if len(members) < 2:
                continue
            name = _type_name(classes[path], network)
            try:
                plan_group(network, members, name, analyze(network), tried=False).apply(network)
            except DeepwireError:  # the edit, refused, left the network as it was
                continue  # a module whose nodes are not one piece of the graph stays flat
            inner = _canonical_ids(network.library.get(name).network, path.replace(".", "_") + "_")
            instance = _rename_instance(network, name, path)
            for steps in where.values():
                if steps[0] in inner:
                    steps[:1] = [instance, inner[steps[0]]]
            for node_id in members:
                owner.pop(node_id, None)
            owner[instance] = path.rpartition(".")[0]
            made_here[classes[path]].append(name)
        for names in made_here.values():
            _share_types(network, names)
    told.tell(done)
    return {flat: ".".join(steps) for flat, steps in where.items() if steps != [flat]}


def _canonical_ids(inside: Network, prefix: str) -> dict[str, str]:
    """Inner ids without the module's path (``layer1_0_conv1`` -> ``conv1``) and
    without fx's call counters (``add_1`` -> ``add``), so that modules built alike
    have equal insides; returns ``{old id: new id}`` of the inner layers."""
    taken = {n.id for n in inside.nodes if n.type in ("Input", "Output")}
    renames = {}
    for node in inside.nodes:
        if node.type in ("Input", "Output"):
            continue
        stem = node.id[len(prefix) :] if node.id.startswith(prefix) else node.id
        stem = re.sub(r"_\d+$", "", stem) or node.id
        if stem[0].isdigit():  # a numbered child (``layer1.0`` inside ``layer1``)
            stem = f"block{stem}"
        renames[node.id] = free_id(stem, taken)
        taken.add(renames[node.id])
    changed = {old: new for old, new in renames.items() if old != new}
    used = {n.id for n in inside.nodes} | taken
    temporary = {}
    for index, old in enumerate(changed):
        temporary[old] = free_id(f"renaming_{index}", used)
        used.add(temporary[old])
    for old, temp in temporary.items():  # through free names: a new id may be an old one
        inside.rename_node(old, temp)
    for old, temp in temporary.items():
        inside.rename_node(temp, changed[old])
    return renames


def _modules(paths: dict[str, str], classes: dict[str, str]) -> set[str]:
    """Every module path that holds a node (at any depth) and is not a container."""
    found = set()
    for path in paths.values():
        while path:
            if classes.get(path, "Sequential") not in CONTAINERS:
                found.add(path)
            path = path.rpartition(".")[0]
    return found


def _within(path: str, module: str) -> bool:
    return path == module or path.startswith(module + ".")


def _type_name(class_name: str, network: Network) -> str:
    """A free block type name for a module class (``Block`` when the class name
    cannot be one)."""
    base = class_name
    try:
        check_block_name(base)
    except DeepwireError:
        base = f"{class_name}Block" if class_name.isidentifier() else "Block"
        try:
            check_block_name(base)
        except DeepwireError:
            base = "Block"
    return free_block_name(network.library, base)


def _rename_instance(network: Network, type_name: str, path: str) -> str:
    """Give the new instance of ``type_name`` the module's path as id (``layer1_0``)."""
    instance = next(n.id for n in network.nodes if n.type == type_name)
    wanted = path.replace(".", "_")
    if wanted[:1].isdigit():
        wanted = "m" + wanted
    if wanted != instance and wanted not in network:
        try:
            network.rename_node(instance, wanted)
            return wanted
        except DeepwireError:
            pass
    return instance


# ----------------------------------------------------------------- shared types
def _share_types(network: Network, names: list[str]) -> None:
    """Merge the block types ``names`` (made for modules of one class, one instance
    each) that have the same structure, exposing the settings in which they differ."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        inside = network.library.get(name).network
        groups[_structure(network.library.get(name).to_dict(), inside)].append(name)
    for same in groups.values():
        if len(same) > 1:
            _merge(network, same)
    library, base = network.library, names[0]
    kept = sorted((same[0] for same in groups.values()), key=names.index)
    for index, name in enumerate(kept):  # BasicBlock, BasicBlock2... without gaps
        wanted = base if index == 0 else f"{base}{index + 1}"
        if wanted != name and wanted not in library:
            library.rename(name, wanted)


def _structure(data: dict, inside: Network) -> str:
    """A block's data without the parameter values a block can expose: equal for
    modules built alike. Values it cannot expose (an Interpolate's fixed size) stay,
    so that blocks differing in them stay apart."""
    nodes = []
    for n in data["nodes"]:
        if n["type"] == "Input":
            continue
        kinds = {p.name: p.kind for p in inside.node(n["id"]).spec.params}
        fixed = {
            key: value
            for key, value in n.get("params", {}).items()
            if kinds.get(key, "int") not in EXPOSABLE_KINDS
        }
        nodes.append({"id": n["id"], "type": n["type"], "trainable": n.get("trainable", True),
                      "fixed": fixed})  # fmt: skip
    return json.dumps([nodes, data["edges"]], sort_keys=True, default=list)


def _merge(network: Network, names: list[str]) -> None:
    """Make every instance of types ``names`` an instance of the first, whose
    differing inner settings become exposed parameters."""
    library = network.library
    keep = library.get(names[0])
    insides = [library.get(name).network for name in names]
    varying = _varying(insides)
    exposed = _expose(keep, insides[0], varying)
    for index, name in enumerate(names):
        values = {
            param: insides[index].node(node_id).params[key]
            for param, pairs in exposed.items()
            for node_id, key in pairs[:1]
        }
        for node in [n for n in network.nodes if n.type == name]:
            _retype(network, node.id, keep.name, values)
    for name in names[1:]:
        library.remove(name)


def _varying(insides: list[Network]) -> dict[tuple[str, str], list]:
    """``(node id, param) -> values per type`` for the inner settings that differ."""
    varying = {}
    for node in insides[0].nodes:
        if node.type == "Input":
            continue
        for key in node.params:
            values = [inside.node(node.id).params.get(key) for inside in insides]
            if any(v != values[0] for v in values):
                varying[(node.id, key)] = values
    return varying


def _expose(block_type, inside: Network, varying: dict) -> dict[str, list[tuple[str, str]]]:
    """Expose the varying settings on ``block_type`` (settings that always vary
    together share one parameter); returns ``{param name: [(node id, key)...]}``."""
    together: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair, values in varying.items():
        together[json.dumps(values, default=list)].append(pair)
    exposed: dict[str, list[tuple[str, str]]] = {}
    declared = []
    for pairs in together.values():
        keys = {key for _, key in pairs}
        name = pairs[0][1] if len(keys) == 1 else f"{pairs[0][0]}_{pairs[0][1]}"
        if name in exposed or not name.isidentifier():
            name = f"{pairs[0][0]}_{pairs[0][1]}"
        node_id, key = pairs[0]
        own = inside.node(node_id).spec.param(key)
        data = param_to_dict(own)
        data.update(name=name, default=own.to_json(inside.node(node_id).params[key]))
        declared.append(data)
        exposed[name] = pairs
    edits = [SetBlockParams(block_type.name, declared)]
    for node in inside.nodes:
        bind = {key: name for name, pairs in exposed.items() for n, key in pairs if n == node.id}
        if bind:
            edits.append(SetBind(node.id, {**node.bind, **bind}))
    Compound("share", edits[:1]).apply(inside)
    Compound("bind", edits[1:]).apply(inside)
    return exposed


def _retype(network: Network, node_id: str, type_name: str, params: dict) -> None:
    """Make ``node_id`` an instance of ``type_name`` with ``params``, in its place."""
    entry = network.node_entry(node_id)
    entry.update(type=type_name, params=params)
    wires = network.wires_of(node_id)
    order = [n.id for n in network.nodes]
    Compound("retype", [RemoveNodes([node_id]), AddNodes([entry], wires, order)]).apply(network)
