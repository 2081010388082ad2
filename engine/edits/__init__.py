"""Edits of a network that live in the engine, each reversible.

Every change a user makes to a network is an ``Edit`` (``engine.edits.base``):
``edit.apply(network)`` performs it and returns its inverse, and applying the inverse
gives back the same project file byte for byte. Planning functions check a requested
change first (raising NetworkError or ParamError and changing nothing when refused) and
return the edit, or None when it would change nothing. The editor wraps each edit in
one undo command (``nodeeditor.commands.EditCommand``); tests and scripts apply edits
directly, without Qt.

Modules: ``base`` (Edit, Compound), ``nodes`` and ``wires`` (the edits), ``plans``
(node checks), ``wiring`` (wire checks, insertion into a wire), ``paste`` (paste and
duplicate).
"""

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
from engine.edits.paste import plan_duplicate, plan_paste
from engine.edits.plans import (
    plan_add_node,
    plan_auto_layout,
    plan_move,
    plan_remove,
    plan_rename,
    plan_set_bind,
    plan_set_expanded,
    plan_set_params,
    plan_set_params_of,
    plan_set_trainable,
    position,
    wires_between,
)
from engine.edits.wires import Connect, Disconnect
from engine.edits.wiring import (
    insertion_ports,
    plan_add_connected_node,
    plan_connect,
    plan_disconnect,
    plan_insert_on_wire,
    wire_problem,
)

__all__ = [
    "AddNodes",
    "Compound",
    "Connect",
    "Disconnect",
    "Edit",
    "Move",
    "RemoveNodes",
    "Rename",
    "SetBind",
    "SetDirection",
    "SetExpanded",
    "SetParams",
    "SetTrainable",
    "insertion_ports",
    "plan_add_connected_node",
    "plan_add_node",
    "plan_auto_layout",
    "plan_connect",
    "plan_disconnect",
    "plan_duplicate",
    "plan_insert_on_wire",
    "plan_move",
    "plan_paste",
    "plan_remove",
    "plan_rename",
    "plan_set_bind",
    "plan_set_expanded",
    "plan_set_params",
    "plan_set_params_of",
    "plan_set_trainable",
    "position",
    "wire_problem",
    "wires_between",
]
