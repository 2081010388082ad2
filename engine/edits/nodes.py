"""Edits of nodes: add (one or several, with wires), remove (with their wires), move,
change parameters, rename, freeze, bind to a block's parameters, expand.

Nodes are copied and restored only as ``network.node_entry`` data through
``network.add_entry``, so every field a node has (``bind``, ``expanded``, and any added
later) survives a removal and its undo. Removing remembers the node order and the wires,
so that undo puts the nodes back in their places and the saved file is the same again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from engine.edits.base import Edit
from engine.edits.wires import connect_all
from engine.errors import NetworkError
from engine.network import Network, Wire


@dataclass
class AddNodes(Edit):
    """Add nodes (``node_entry`` data, ids free) and then ``wires``.

    ``order``, when given, is the node order afterwards (every id once): undoing a
    removal uses it to put nodes back in the middle of the order.
    """

    entries: list[dict]
    wires: list[Wire] = field(default_factory=list)
    order: list[str] | None = None
    text: str = ""

    def __post_init__(self):
        if not self.text:
            one = len(self.entries) == 1
            self.text = (
                f"Add {self.entries[0]['type']}" if one else f"Add {len(self.entries)} nodes"
            )

    @property
    def ids(self) -> list[str]:
        """The ids of the nodes it adds, in order."""
        return [entry["id"] for entry in self.entries]

    def apply(self, network: Network) -> Edit:
        before = [node.id for node in network.nodes]
        added, wired = [], []
        try:
            for entry in self.entries:
                added.append(network.add_entry(copy.deepcopy(entry)).id)
            if self.order is not None:
                network.set_order(list(self.order))
            for w in self.wires:
                network.connect(w.src, w.src_port, w.dst, w.dst_port, restoring=True)
                wired.append(w)
        except Exception:
            RemoveNodes(added, wired).apply(network)
            network.set_order(before)
            raise
        return RemoveNodes(self.ids, list(self.wires), self.text)


@dataclass
class RemoveNodes(Edit):
    """Remove nodes ``ids`` with their wires, and the other ``wires`` given."""

    ids: list[str]
    wires: list[Wire] = field(default_factory=list)
    text: str = ""

    def __post_init__(self):
        if not self.text:
            names = [*self.ids, *map(str, self.wires)]
            self.text = "Delete " + names[0] if len(names) == 1 else "Delete"

    def apply(self, network: Network) -> Edit:
        order = [node.id for node in network.nodes]
        chosen = {network.node(node_id).id for node_id in self.ids}
        entries = [network.node_entry(node_id) for node_id in order if node_id in chosen]
        touching = {w for node_id in chosen for w in network.wires_of(node_id)}
        loose = sorted(set(self.wires) - touching)
        missing = set(loose) - set(network.wires)
        if missing:
            raise NetworkError(f"there is no wire {min(missing)}")
        for wire in loose:
            network.disconnect(wire)
        for entry in entries:
            network.remove_node(entry["id"])
        return AddNodes(entries, sorted(touching | set(loose)), order, self.text)


@dataclass
class Move(Edit):
    """Move nodes: ``positions`` maps ids to their new ``(x, y)``."""

    positions: dict[str, tuple[float, float]]
    text: str = ""

    def __post_init__(self):
        count = len(self.positions)
        self.text = self.text or ("Move node" if count == 1 else f"Move {count} nodes")

    def apply(self, network: Network) -> Edit:
        old = {node_id: network.node(node_id).pos for node_id in self.positions}
        try:
            for node_id, pos in self.positions.items():
                network.move_node(node_id, pos)
        except Exception:
            for node_id, pos in old.items():
                network.move_node(node_id, pos)
            raise
        return Move(old, self.text)


@dataclass
class SetParams(Edit):
    """Set a node's parameters (ranges unchecked: out-of-range values become
    diagnostics), then make ``wires`` (those a previous change dropped).

    Wires on input ports the new parameters remove are dropped; the inverse makes them
    again.
    """

    node_id: str
    params: dict
    wires: list[Wire] = field(default_factory=list)
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Edit {self.node_id}"

    def apply(self, network: Network) -> Edit:
        old = copy.deepcopy(network.node(self.node_id).params)
        dropped = network.set_params(self.node_id, copy.deepcopy(self.params), check=False)
        try:
            connect_all(network, self.wires)
        except Exception:
            SetParams(self.node_id, old, dropped).apply(network)
            raise
        return SetParams(self.node_id, old, dropped, self.text)


@dataclass
class Rename(Edit):
    """Give node ``old`` the id ``new``."""

    old: str
    new: str
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Rename {self.old} to {self.new}"

    def apply(self, network: Network) -> Edit:
        network.rename_node(self.old, self.new)
        return Rename(self.new, self.old, self.text)


@dataclass
class SetTrainable(Edit):
    """Freeze (False) or unfreeze (True) a node's weights."""

    node_id: str
    value: bool
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"{'Unfreeze' if self.value else 'Freeze'} {self.node_id}"

    def apply(self, network: Network) -> Edit:
        old = network.node(self.node_id).trainable
        network.set_trainable(self.node_id, self.value)
        return SetTrainable(self.node_id, old, self.text)


@dataclass
class SetBind(Edit):
    """Make a node inside a block type read some parameters from the block's exposed
    parameters (``{"out_channels": "channels"}``; empty: none)."""

    node_id: str
    bind: dict[str, str]
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Bind parameters of {self.node_id}"

    def apply(self, network: Network) -> Edit:
        old = dict(network.node(self.node_id).bind)
        network.set_bind(self.node_id, dict(self.bind))
        return SetBind(self.node_id, old, self.text)


@dataclass
class SetExpanded(Edit):
    """Draw a block instance open (True) or collapsed (False)."""

    node_id: str
    value: bool
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"{'Expand' if self.value else 'Collapse'} {self.node_id}"

    def apply(self, network: Network) -> Edit:
        old = network.node(self.node_id).expanded
        network.set_expanded(self.node_id, self.value)
        return SetExpanded(self.node_id, old, self.text)


@dataclass
class SetDirection(Edit):
    """Draw the network flowing left to right ("LR") or top to bottom ("TB")."""

    direction: str
    text: str = ""

    def __post_init__(self):
        self.text = self.text or "Change the layout direction"

    def apply(self, network: Network) -> Edit:
        old = network.direction
        network.set_direction(self.direction)
        return SetDirection(old, self.text)
