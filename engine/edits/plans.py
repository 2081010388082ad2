"""Planning node edits: each function checks a change the user asked for against the
network and returns the ``Edit`` that makes it, or None when it would change nothing.
A refused change raises NetworkError or ParamError (with the reason, as a sentence)
and leaves the network untouched, so an editor can show the reason and push nothing.

Wires are planned in ``engine.edits.wiring``, pasting in ``engine.edits.paste``.
"""

from __future__ import annotations

from typing import Any

from engine.edits.base import Compound, Edit
from engine.edits.nodes import (
    AddNodes,
    Move,
    RemoveNodes,
    Rename,
    SetBind,
    SetDirection,
    SetExpanded,
    SetParams,
    SetTrainable,
)
from engine.errors import NetworkError, ParamError
from engine.naming import check_id
from engine.network import DIRECTIONS, Network, Wire, check_bind, spec_of


def position(pos: Any) -> tuple[float, float]:
    """``pos`` as an ``(x, y)`` pair of floats; ParamError when it is not two numbers."""
    try:
        x, y = pos
        return (float(x), float(y))
    except (TypeError, ValueError):
        raise ParamError(f"a position must be two numbers, got {pos!r}") from None


def plan_add_node(network: Network, type_name: str, pos, params: dict | None = None) -> AddNodes:
    """Add a layer (or block instance) of ``type_name`` at ``pos`` with a fresh id
    (``edit.ids[0]``). Raises NetworkError for an unknown type, ParamError for a bad
    parameter value."""
    spec = spec_of(type_name, network.library)
    network.check_can_hold(type_name)
    checked = spec.check_params(params or {})
    node_id = network.suggest_id(type_name)
    entry = {"id": node_id, "type": type_name, "params": checked, "pos": position(pos)}
    return AddNodes([entry])


def plan_remove(network: Network, ids, wires=()) -> RemoveNodes | None:
    """Delete nodes ``ids`` (with their wires) and the other ``wires``; ids and wires
    that are not there are left out. None when nothing is left."""
    ids = [node_id for node_id in dict.fromkeys(ids) if node_id in network]
    present = set(network.wires)
    wires = [wire for wire in dict.fromkeys(wires) if wire in present]
    if not ids and not wires:
        return None
    return RemoveNodes(ids, wires)


def plan_move(network: Network, positions: dict, text: str = "") -> Move | None:
    """Move nodes to ``{id: (x, y)}``; None when none of them moves."""
    moves = {}
    for node_id, pos in positions.items():
        new = position(pos)
        if network.node(node_id).pos != new:
            moves[node_id] = new
    return Move(moves, text) if moves else None


def _new_params(network: Network, node_id: str, params: dict) -> dict | None:
    """A node's parameters with ``params`` changed and checked; None if unchanged."""
    node = network.node(node_id)
    new = node.spec.check_params({**node.params, **params})
    return None if new == node.params else new


def plan_set_params(network: Network, node_id: str, params: dict) -> SetParams | None:
    """Change some parameters of a node (ParamError on a bad value). Wires on input
    ports that vanish are dropped; the inverse puts them back."""
    new = _new_params(network, node_id, params)
    return None if new is None else SetParams(node_id, new)


def plan_set_params_of(network: Network, changes: dict, text: str = "") -> Compound | None:
    """Change the parameters of several nodes (``{id: {param: value}}``) as one edit;
    raises (planning nothing) when any value is refused."""
    edits: list[Edit] = []
    for node_id, params in changes.items():
        new = _new_params(network, node_id, params)
        if new is not None:
            edits.append(SetParams(node_id, new))
    return Compound(text or f"Edit {len(edits)} nodes", edits) if edits else None


def plan_rename(network: Network, old: str, new: str) -> Rename | None:
    """Rename a node; NetworkError for an invalid or taken id."""
    network.node(old)
    if new == old:
        return None
    check_id(new)
    if new in network:
        raise NetworkError(f"there is already a node called {new!r}")
    return Rename(old, new)


def plan_set_trainable(network: Network, node_id: str, value: bool) -> SetTrainable | None:
    """Freeze (False) or unfreeze (True) a node's weights."""
    if network.node(node_id).trainable == bool(value):
        return None
    return SetTrainable(node_id, bool(value))


def plan_set_bind(network: Network, node_id: str, bind: dict) -> SetBind | None:
    """Bind parameters of a node inside a block type to the block's parameters
    (ParamError for a parameter the node does not have or a name that is not one)."""
    node = network.node(node_id)
    bind = check_bind(node.spec, bind)
    return None if bind == node.bind else SetBind(node_id, bind)


def plan_set_expanded(network: Network, node_id: str, value: bool) -> SetExpanded | None:
    """Draw a block instance open or collapsed."""
    if network.node(node_id).expanded == bool(value):
        return None
    return SetExpanded(node_id, bool(value))


def wires_between(network: Network, ids) -> list[Wire]:
    """The wires whose both ends are among ``ids``."""
    chosen = set(ids)
    return [w for w in network.wires if w.src in chosen and w.dst in chosen]


def plan_auto_layout(network: Network, direction: str = "LR") -> Compound | None:
    """Place every node by ``engine.layout.layered_positions`` flowing ``direction``
    ("LR" or "TB"), which the drawing then keeps; None when nothing would change."""
    from engine.layout import layered_positions

    if direction not in DIRECTIONS:
        raise NetworkError(f"direction must be LR or TB, not {direction!r}")
    move = plan_move(network, layered_positions(network, direction=direction), "Auto-layout")
    steps = [edit for edit in (move,) if edit is not None]
    if direction != network.direction:
        steps.append(SetDirection(direction, "Auto-layout"))
    return Compound("Auto-layout", steps) if steps else None
