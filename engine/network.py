"""The network model: nodes, ports and wires, kept in a networkx graph.

A ``Network`` is the one source of truth of a drawn network. Each node has an id (a
safe Python name users see), a layer type from the catalogue, parameters, a canvas
position and a ``trainable`` switch. A wire runs from an output port of one node to an
input port of another; an input port takes at most one wire, so merge layers (Add,
Concat) have numbered ports ``in1``, ``in2``... and their order is the port order.

Every change is announced on ``network.events`` (plain-Python signals) only when
something really changed, so that views mirror the network without polling:

- ``node_added(node)``, ``node_removed(node)``, ``node_renamed(old_id, new_id)``
- ``params_changed(node_id, old_params, new_params)``
- ``node_moved(node_id, old_pos, new_pos)``, ``trainable_changed(node_id, value)``
- ``wired(wire)``, ``unwired(wire)``
- ``bind_changed(node_id, old, new)``, ``expanded_changed(node_id, value)``
- ``direction_changed(old, new)``: the drawing now flows the other way

A network shares a ``library`` of block types (``engine.blocks``) with the other
networks of its project. A node whose type names a block type is an instance of that
block; inside a block type's own network, a node's ``bind`` maps some of its
parameters to the block's exposed parameters (``{"out_channels": "channels"}``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from engine.blocks.library import BlockLibrary
from engine.blocks.resolve import MAX_DEPTH
from engine.bounds import FLOAT_MAX
from engine.errors import NetworkError, ParamError
from engine.events import EventGroup
from engine.layers import get_spec
from engine.layers.spec import LayerSpec
from engine.naming import check_id, check_network_name, suggest_id

DIRECTIONS = ("LR", "TB")


@dataclass
class Node:
    """One layer of the network. Change it only through ``Network`` methods."""

    id: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float] = (0.0, 0.0)
    trainable: bool = True
    bind: dict[str, str] = field(default_factory=dict)
    expanded: bool = False
    library: BlockLibrary | None = field(default=None, repr=False, compare=False)

    @property
    def spec(self) -> LayerSpec:
        """The LayerSpec of this node's type (a BlockSpec for a block instance)."""
        return spec_of(self.type, self.library)

    @property
    def is_block(self) -> bool:
        """Whether the node is an instance of a block type."""
        return self.library is not None and self.type in self.library

    def input_ports(self) -> tuple[str, ...]:
        """Names of the input ports (they depend on params for merge layers)."""
        return self.spec.input_ports(self.params)

    def output_ports(self) -> tuple[str, ...]:
        """Names of the output ports."""
        return self.spec.outputs


@dataclass(frozen=True, order=True)
class Wire:
    """A connection from ``src``'s output port to ``dst``'s input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass
class Network:
    """A graph of layers. See the module docstring for the events it emits."""

    name: str = "model"
    library: BlockLibrary = field(default_factory=BlockLibrary, repr=False, compare=False)
    _nodes: dict[str, Node] = field(default_factory=dict, repr=False)
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph, repr=False)
    #: the block type whose inside this network is (None for a project's networks)
    owner: object = field(default=None, repr=False, compare=False)
    #: how the drawing flows: "LR" (left to right, inputs on the left of each node) or
    #: "TB" (top to bottom, inputs on top); Auto-layout sets it
    direction: str = "LR"

    def __post_init__(self):
        check_network_name(self.name)
        self.library.register(self)
        self.events = EventGroup(
            "node_added",
            "node_removed",
            "node_renamed",
            "params_changed",
            "node_moved",
            "trainable_changed",
            "wired",
            "unwired",
            "bind_changed",
            "expanded_changed",
            "direction_changed",
        )

    def use_library(self, library: BlockLibrary) -> None:
        """Resolve block instances through ``library`` (the project's) from now on."""
        self.library = library
        library.register(self)
        for node in self._nodes.values():
            node.library = library

    def complete_params(self, type_name: str, defaults: dict) -> None:
        """Instances of block type ``type_name`` get ``defaults`` for the parameters
        they have no value for (the type exposes new ones)."""
        for node in self._nodes.values():
            if node.type == type_name:
                for name, value in defaults.items():
                    node.params.setdefault(name, value)

    def retype_all(self, old: str, new: str) -> None:
        """Instances of block type ``old`` become instances of ``new`` (the type was
        renamed); each is announced as a change of its parameters."""
        for node in self._nodes.values():
            if node.type == old:
                node.type = new
                params = copy.deepcopy(node.params)
                self.events.params_changed.emit(node.id, params, copy.deepcopy(params))

    # ----------------------------------------------------------------- queries
    @property
    def nodes(self) -> list[Node]:
        """The nodes in the order they were added."""
        return list(self._nodes.values())

    @property
    def wires(self) -> list[Wire]:
        """Every wire, ordered by the node and port it arrives at.

        The order follows from the nodes' order alone, not from the history of edits,
        so undoing an edit gives back exactly the same file.
        """
        index = {node_id: i for i, node_id in enumerate(self._nodes)}

        def key(wire: Wire):
            ports = self._nodes[wire.dst].input_ports()
            port = ports.index(wire.dst_port) if wire.dst_port in ports else len(ports)
            return (index[wire.dst], port, index[wire.src], wire.src_port)

        return sorted((data["wire"] for _, _, data in self.graph.edges(data=True)), key=key)

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``; raises NetworkError if there is none."""
        try:
            return self._nodes[node_id]
        except KeyError:
            raise NetworkError(f"there is no node {node_id!r}") from None

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def wire_into(self, node_id: str, port: str) -> Wire | None:
        """The wire arriving at ``node_id``'s input ``port``, if any."""
        for _, _, data in self.graph.in_edges(node_id, data=True):
            if data["wire"].dst_port == port:
                return data["wire"]
        return None

    def wires_of(self, node_id: str) -> list[Wire]:
        """Every wire that starts or ends at ``node_id``."""
        edges = [
            *self.graph.in_edges(node_id, data=True),
            *self.graph.out_edges(node_id, data=True),
        ]
        return sorted({data["wire"] for _, _, data in edges})

    def suggest_id(self, base: str) -> str:
        """An unused id derived from ``base`` (a type name or an id)."""
        return suggest_id(base.lower() if base[:1].isupper() else base, self._nodes)

    # ----------------------------------------------------------------- nodes
    def add_node(
        self,
        type_name: str,
        params: dict | None = None,
        pos: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
        trainable: bool = True,
        check: bool = True,
        bind: dict | None = None,
        expanded: bool = False,
    ) -> Node:
        """Add a node and return it.

        Args:
            type_name: a layer type of the catalogue.
            params: parameter values; missing ones take their defaults.
            pos: canvas position.
            node_id: its id; a fresh one (``linear1``) when None.
            trainable: whether training updates its weights.
            check: refuse wrong types and out-of-range values (ParamError). With
                False, only types are checked and ranges become diagnostics of the
                analysis, which is what loading a file needs.
            bind: parameters read from the enclosing block's exposed parameters.
            expanded: a block instance drawn open, showing its inside.
        """
        spec = spec_of(type_name, self.library)
        self.check_can_hold(type_name)
        node_id = self.suggest_id(type_name) if node_id is None else check_id(node_id)
        if node_id in self._nodes:
            raise NetworkError(f"there is already a node called {node_id!r}")
        params = _complete(spec, params or {}, check)
        bind = check_bind(spec, bind or {})
        if not isinstance(trainable, bool):
            raise ParamError(f"trainable must be true or false, got {trainable!r}")
        node = Node(node_id, type_name, params, _pos(pos), trainable, bind, bool(expanded))
        node.library = self.library
        self._nodes[node_id] = node
        self.graph.add_node(node_id)
        self.events.node_added.emit(node)
        return node

    def check_can_hold(self, type_name: str) -> None:
        """Refuse (NetworkError) a node of ``type_name`` inside a block type that it is
        or holds: a block cannot contain itself."""
        owner = self.owner
        if owner is not None and type_name in self.library:  # a file refuses deeper ones
            levels = self.library.nesting(owner.name, type_name)
            if levels > MAX_DEPTH:
                raise NetworkError(
                    f"a {type_name} cannot go inside {owner.name}: blocks would nest {levels} "
                    f"deep, and at most {MAX_DEPTH} are allowed"
                )
        if owner is not None and self.library.contains_type(type_name, owner.name):
            raise NetworkError(
                f"a {type_name} cannot go inside {owner.name}: "
                + (
                    "a block cannot hold itself"
                    if type_name == owner.name
                    else f"{type_name} holds {owner.name}, and a block cannot hold itself"
                )
            )

    def remove_node(self, node_id: str) -> list[Wire]:
        """Remove a node and its wires; returns the wires removed (for undo)."""
        node = self.node(node_id)
        removed = self.wires_of(node_id)
        for wire in removed:
            self.disconnect(wire)
        del self._nodes[node_id]
        self.graph.remove_node(node_id)
        self.events.node_removed.emit(node)
        return removed

    def rename_node(self, old_id: str, new_id: str) -> None:
        """Give a node a new id, keeping its wires and its place in the order."""
        node = self.node(old_id)
        if new_id == old_id:
            return
        check_id(new_id)
        if new_id in self._nodes:
            raise NetworkError(f"there is already a node called {new_id!r}")
        node.id = new_id
        self._nodes = {(new_id if k == old_id else k): v for k, v in self._nodes.items()}
        nx.relabel_nodes(self.graph, {old_id: new_id}, copy=False)
        for _, _, data in self.graph.edges(data=True):
            wire = data["wire"]
            if old_id in (wire.src, wire.dst):
                data["wire"] = Wire(
                    new_id if wire.src == old_id else wire.src,
                    wire.src_port,
                    new_id if wire.dst == old_id else wire.dst,
                    wire.dst_port,
                )
        self.events.node_renamed.emit(old_id, new_id)

    def set_params(self, node_id: str, params: dict, check: bool = True) -> list[Wire]:
        """Change some parameters of a node.

        Wires on input ports that the new parameters remove (a Concat going from three
        inputs to two) are disconnected first; they are returned, for undo.
        """
        node = self.node(node_id)
        new = _complete(node.spec, {**node.params, **params}, check)
        if new == node.params:
            return []
        ports = node.spec.input_ports(new)
        dropped = [
            w for w in self.wires_of(node_id) if w.dst == node_id and w.dst_port not in ports
        ]
        for wire in dropped:
            self.disconnect(wire)
        old, node.params = node.params, new
        self.events.params_changed.emit(node_id, copy.deepcopy(old), copy.deepcopy(new))
        return dropped

    def move_node(self, node_id: str, pos: tuple[float, float]) -> None:
        """Move a node on the canvas."""
        node = self.node(node_id)
        pos = _pos(pos)
        if pos != node.pos:
            old, node.pos = node.pos, pos
            self.events.node_moved.emit(node_id, old, pos)

    def set_trainable(self, node_id: str, trainable: bool) -> None:
        """Freeze (False) or unfreeze (True) a node's weights during training."""
        node = self.node(node_id)
        if bool(trainable) != node.trainable:
            node.trainable = bool(trainable)
            self.events.trainable_changed.emit(node_id, node.trainable)

    def set_bind(self, node_id: str, bind: dict) -> None:
        """Make some of a node's parameters read the enclosing block's parameters
        (``{"out_channels": "channels"}``); an empty dict reads none."""
        node = self.node(node_id)
        bind = check_bind(node.spec, bind)
        if bind != node.bind:
            old, node.bind = node.bind, bind
            self.events.bind_changed.emit(node_id, dict(old), dict(bind))

    def set_expanded(self, node_id: str, expanded: bool) -> None:
        """Draw a block instance open (its inside shown) or collapsed."""
        node = self.node(node_id)
        if bool(expanded) != node.expanded:
            node.expanded = bool(expanded)
            self.events.expanded_changed.emit(node_id, node.expanded)

    def set_direction(self, direction: str) -> None:
        """Draw the network flowing left to right ("LR") or top to bottom ("TB")."""
        if direction not in DIRECTIONS:
            raise NetworkError(f"direction must be LR or TB, not {direction!r}")
        if direction != self.direction:
            old, self.direction = self.direction, direction
            self.events.direction_changed.emit(old, direction)

    def set_order(self, ids: list[str]) -> None:
        """Put the nodes in the order of ``ids`` (all of them): undoing a removal
        puts a node back in its place, so the saved file is the same again."""
        if sorted(ids) != sorted(self._nodes):
            raise NetworkError("set_order needs every node id exactly once")
        self._nodes = {node_id: self._nodes[node_id] for node_id in ids}

    # ----------------------------------------------------------------- wires
    def check_connection(
        self, src: str, src_port: str, dst: str, dst_port: str, restoring: bool = False
    ) -> Wire:
        """The wire, if it may be made; otherwise NetworkError with the reason.

        With ``restoring`` (undo, a saved file), a wire on a port that a block instance
        no longer has is accepted: its block type lost the port after the wire was
        made, the analysis reports it, and undoing must give the wire back.
        """
        source, target = self.node(src), self.node(dst)
        if src == dst:
            raise NetworkError(f"cannot wire {src} to itself")
        if restoring and (source.is_block or target.is_block):
            return self._check_lost_port_wire(source, src_port, target, dst_port)
        if src_port not in source.output_ports():
            raise NetworkError(f"{src} has no output port {src_port!r}")
        if dst_port not in target.input_ports():
            if not target.input_ports():
                raise NetworkError(f"{dst} ({target.type}) takes no input")
            raise NetworkError(f"{dst} has no input port {dst_port!r}")
        existing = self.wire_into(dst, dst_port)
        if existing is not None:
            raise NetworkError(
                f"{dst}.{dst_port} already has a wire from {existing.src}; remove it first"
            )
        return Wire(src, src_port, dst, dst_port)

    def _check_lost_port_wire(self, source: Node, src_port: str, target: Node, dst_port: str):
        """``check_connection`` for a wire being restored onto a block instance."""
        for node, port, ports, side in (
            (source, src_port, source.output_ports(), "output"),
            (target, dst_port, target.input_ports(), "input"),
        ):
            if port not in ports and not node.is_block:
                raise NetworkError(f"{node.id} has no {side} port {port!r}")
            if not isinstance(port, str) or not port.isidentifier():
                raise NetworkError(f"{port!r} is not a port name")
        existing = self.wire_into(target.id, dst_port)
        if existing is not None:
            raise NetworkError(
                f"{target.id}.{dst_port} already has a wire from {existing.src}; remove it first"
            )
        return Wire(source.id, src_port, target.id, dst_port)

    def connect(
        self, src: str, src_port: str, dst: str, dst_port: str, restoring: bool = False
    ) -> Wire:
        """Wire ``src.src_port`` to ``dst.dst_port``; refuses impossible wires
        (``restoring``: see ``check_connection``)."""
        wire = self.check_connection(src, src_port, dst, dst_port, restoring)
        self.graph.add_edge(src, dst, key=(src_port, dst_port), wire=wire)
        self.events.wired.emit(wire)
        return wire

    def disconnect(self, wire: Wire) -> None:
        """Remove a wire; raises NetworkError if it is not there."""
        key = (wire.src_port, wire.dst_port)
        if not self.graph.has_edge(wire.src, wire.dst, key):
            raise NetworkError(f"there is no wire {wire}")
        self.graph.remove_edge(wire.src, wire.dst, key)
        self.events.unwired.emit(wire)

    # ----------------------------------------------------------------- copies
    def to_dict(self) -> dict:
        """The network as plain data, in the project file's layout."""
        nodes = [self.node_entry(node_id) for node_id in self._nodes]
        edges = [{"from": [w.src, w.src_port], "to": [w.dst, w.dst_port]} for w in self.wires]
        data = {"direction": self.direction} if self.direction != "LR" else {}
        return {**data, "nodes": nodes, "edges": edges}

    def node_entry(self, node_id: str) -> dict:
        """One node as plain data, in the project file's layout (``add_entry`` takes it
        back): what an edit keeps to put a removed node back exactly."""
        node = self.node(node_id)
        spec = node.spec
        entry = {
            "id": node.id,
            "type": node.type,
            "params": {p.name: p.to_json(node.params.get(p.name, p.default)) for p in spec.params},
            "pos": [_round(node.pos[0]), _round(node.pos[1])],
        }
        if not node.trainable:
            entry["trainable"] = False
        if node.bind:
            entry["bind"] = dict(node.bind)
        if node.expanded:
            entry["expanded"] = True
        return entry

    def add_entry(self, entry: dict, check: bool = False) -> Node:
        """Add a node from ``node_entry`` data (ranges checked only with ``check``)."""
        return self.add_node(
            entry["type"],
            entry.get("params", {}),
            tuple(entry.get("pos", (0, 0))),
            entry["id"],
            entry.get("trainable", True),
            check=check,
            bind=entry.get("bind"),
            expanded=entry.get("expanded", False),
        )

    @classmethod
    def from_dict(
        cls,
        data: dict,
        name: str = "model",
        check: bool = False,
        library: BlockLibrary | None = None,
    ) -> Network:
        """Build a network from ``to_dict`` data (already validated by the caller);
        block instances resolve through ``library``."""
        network = cls(name, library if library is not None else BlockLibrary())
        network.direction = data.get("direction", "LR")
        for entry in data.get("nodes", []):
            network.add_entry(entry, check=check)
        for edge in data.get("edges", []):
            network.connect(*edge["from"], *edge["to"])
        return network

    def copy(self) -> Network:
        """An independent copy with no event listeners, sharing the block library.

        Built directly rather than through ``to_dict``: the analysis of every block
        instance starts from a copy of its type's inside.
        """
        twin = Network(self.name, self.library, direction=self.direction)
        for node_id, node in self._nodes.items():
            twin._nodes[node_id] = replace(
                node, params=copy.deepcopy(node.params), bind=dict(node.bind)
            )
            twin.graph.add_node(node_id)
        for src, dst, key, data in self.graph.edges(keys=True, data=True):
            twin.graph.add_edge(src, dst, key=key, wire=data["wire"])
        return twin


def spec_of(type_name: str, library: BlockLibrary | None = None) -> LayerSpec:
    """The spec of a layer type or, when ``library`` has it, of a block type."""
    if library is not None and type_name in library:
        return library.spec(type_name)
    return get_spec(type_name)


def check_bind(spec: LayerSpec, bind: dict) -> dict[str, str]:
    """``bind`` checked for shape: parameter names of ``spec`` mapped to names."""
    if not isinstance(bind, dict):
        raise ParamError("bind must map parameter names to block parameter names")
    for name, source in bind.items():
        spec.param(name)
        if not isinstance(source, str) or not source.isidentifier():
            raise ParamError(f"{name} is bound to {source!r}, which is not a parameter name")
    return dict(bind)


def _complete(spec: LayerSpec, params: dict, check: bool) -> dict:
    """Defaults completed by ``params``; checks types always, ranges when ``check``.

    A block instance keeps values of parameters its type no longer exposes (unwritten
    and unread), so that undoing the change of the type finds them again.
    """
    block = getattr(spec, "is_block", False)
    for name in params:
        if not block or name in spec.defaults():
            spec.param(name)
    out = {k: v for k, v in params.items() if k not in spec.defaults()} if block else {}
    for p in spec.params:
        value = params.get(p.name, p.default)
        out[p.name] = p.check(value) if check else p.check_type(value)
    return out


def _pos(pos: Any) -> tuple[float, float]:
    """``pos`` as two floats; ParamError unless they are finite and within FLOAT_MAX (a
    position of NaN or 1e300 would be saved into a file that no longer opens)."""
    try:
        x, y = (float(v) for v in pos)
    except (TypeError, ValueError):
        raise ParamError(f"a position must be two numbers, got {pos!r}") from None
    if not all(math.isfinite(v) and abs(v) <= FLOAT_MAX for v in (x, y)):
        raise ParamError(f"a position must be two numbers within +-{FLOAT_MAX:g}, got {pos!r}")
    return (x, y)


def _round(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded.is_integer() else rounded
