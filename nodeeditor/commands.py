"""Undoable edits of the network: every change a user makes is one QUndoCommand.

The editing rules live in the engine (``engine.edits``): a planning function checks an
edit and returns a reversible ``Edit``; this module wraps it in one generic
``EditCommand`` (redo applies the edit and keeps its inverse, undo applies the
inverse). The commands change only the engine's ``Network``; the canvas, the inspector
and the diagnostics follow the network's events (the NodeGraphQt counter-example in
DESIGN.md writes to model and view at once; we do not). The helper functions below are
what the editor calls: a refused edit raises the engine's error (NetworkError,
ParamError) without pushing anything, an accepted one pushes exactly one entry on
``document.undo_stack``, so that undoing and redoing back to any point gives exactly
the same project file.

``document`` is anything with ``network`` and ``undo_stack`` (nodeeditor.document).
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtGui import QUndoCommand

from engine import edits
from engine.edits import Edit, Move, insertion_ports, wire_problem
from engine.edits.blocks import InsideBlock
from engine.network import Network, Wire
from nodeeditor.clipboard import parse_selection

__all__ = [
    "PASTE_OFFSET",
    "EditCommand",
    "add_connected_node",
    "add_node",
    "auto_layout",
    "connect",
    "disconnect",
    "duplicate",
    "insert_on_wire",
    "insertion_ports",
    "macro",
    "move_nodes",
    "paste",
    "push",
    "remove_nodes",
    "rename_node",
    "set_params",
    "set_params_of",
    "set_trainable",
    "wire_problem",
]

PASTE_OFFSET = (40.0, 40.0)


class EditCommand(QUndoCommand):
    """One engine ``Edit`` on the undo stack: redo applies it and keeps the inverse,
    undo applies the inverse.

    With ``nudge`` (arrow-key moves), successive moves of the same nodes merge into
    one undo step.
    """

    NUDGE_ID = 1001  # QUndoCommand.id() of arrow-key nudges, which merge

    def __init__(self, network: Network, edit: Edit, nudge: bool = False, parent=None):
        super().__init__(edit.text, parent)
        self.network, self.edit, self.nudge = network, edit, nudge
        self.inverse: Edit | None = None

    def id(self) -> int:
        return self.NUDGE_ID if self.nudge else -1

    def mergeWith(self, other) -> bool:
        """A nudge of the same nodes (in the same block, if inside one): keep this
        inverse (the positions before the first nudge) and take the other's target
        positions."""
        mine, theirs = _nudged(self.edit), _nudged(other.edit)
        if mine is None or theirs is None or mine[0] != theirs[0]:
            return False
        if set(theirs[1].positions) != set(mine[1].positions):
            return False
        merged = Move(dict(theirs[1].positions), mine[1].text)
        self.edit = merged if mine[0] is None else InsideBlock(mine[0], merged, self.edit.text)
        return True

    def redo(self):
        self.inverse = self.edit.apply(self.network)

    def undo(self):
        self.inverse.apply(self.network)


def _nudged(edit: Edit) -> tuple[str | None, Move] | None:
    """``(block type or None, move)`` of a move, made inside a block or not."""
    if isinstance(edit, InsideBlock):
        inner = edit.edit
        return (edit.type_name, inner) if isinstance(inner, Move) else None
    return (None, edit) if isinstance(edit, Move) else None


def _push(document, edit: Edit | None, nudge: bool = False) -> None:
    """Push ``edit`` as one undo step (nothing for None)."""
    if edit is not None:
        document.undo_stack.push(EditCommand(document.network, edit, nudge))


@contextmanager
def macro(document, text: str):
    """Group the commands pushed inside into one undo step; if an engine error
    interrupts it, what was done is undone and the error goes on."""
    stack = document.undo_stack
    stack.beginMacro(text)
    try:
        yield
    except Exception:
        stack.endMacro()
        stack.undo()
        raise
    stack.endMacro()


def push(document, edit: Edit | None) -> None:
    """Push any planned engine edit (a block edit, say) as one undo step; nothing for
    None."""
    _push(document, edit)


def add_node(document, type_name: str, pos, params: dict | None = None) -> str:
    """Add a layer of ``type_name`` at ``pos``; returns its new id.

    Raises:
        NetworkError: unknown layer type.
        ParamError: a parameter value is invalid (nothing is pushed).
    """
    edit = edits.plan_add_node(document.network, type_name, _xy(pos), params)
    _push(document, edit)
    return edit.ids[0]


def remove_nodes(document, ids, wires=()) -> None:
    """Delete nodes (with their wires) and other ``wires``, as one undo step."""
    _push(document, edits.plan_remove(document.network, ids, wires))


def disconnect(document, wire: Wire) -> None:
    """Remove one wire; raises NetworkError if it is not there."""
    _push(document, edits.plan_disconnect(document.network, wire))


def connect(document, src: str, src_port: str, dst: str, dst_port: str) -> Wire:
    """Wire ``src.src_port`` to ``dst.dst_port``, replacing a wire already on that input
    (one undo step). Raises NetworkError with the reason when the engine refuses."""
    _push(document, edits.plan_connect(document.network, src, src_port, dst, dst_port))
    return Wire(src, src_port, dst, dst_port)


def move_nodes(document, positions: dict, text: str = "", nudge: bool = False) -> None:
    """Move nodes to ``{id: (x, y)}`` as one undo step (nothing when none moves).
    With ``nudge`` (arrow keys), successive moves of the same nodes merge."""
    positions = {node_id: _xy(pos) for node_id, pos in positions.items()}
    _push(document, edits.plan_move(document.network, positions, text), nudge)


def set_params(document, node_id: str, params: dict) -> None:
    """Change some parameters of a node; raises ParamError (pushing nothing) on a bad
    value. Wires on input ports that vanish are dropped, and undo restores them."""
    _push(document, edits.plan_set_params(document.network, node_id, params))


def set_params_of(document, changes: dict, text: str = "") -> None:
    """Change the parameters of several nodes (``{id: {param: value}}``) as one undo
    step; raises ParamError or NetworkError, pushing nothing, when any value is refused."""
    _push(document, edits.plan_set_params_of(document.network, changes, text))


def rename_node(document, old: str, new: str) -> None:
    """Rename a node; raises NetworkError for an invalid or taken id."""
    _push(document, edits.plan_rename(document.network, old, new))


def set_trainable(document, node_id: str, value: bool) -> None:
    """Freeze (False) or unfreeze (True) a node's weights."""
    _push(document, edits.plan_set_trainable(document.network, node_id, value))


def paste(document, text: str, offset=PASTE_OFFSET) -> list[str]:
    """Add the nodes of a clipboard text (see nodeeditor.clipboard) shifted by
    ``offset``, with fresh ids where taken and the wires between them; one undo step.

    Returns:
        The new node ids, in the order of the text.
    Raises:
        NetworkError / ParamError: the text holds no valid nodes.
    """
    nodes, edges, blocks = parse_selection(text)
    edit = edits.plan_paste(document.network, nodes, edges, offset, blocks)
    _push(document, edit)
    return edit.ids if edit else []


def duplicate(document, ids) -> list[str]:
    """Copy nodes (and the wires between them) beside themselves; returns the new ids."""
    edit = edits.plan_duplicate(document.network, ids, PASTE_OFFSET)
    _push(document, edit)
    return edit.ids if edit else []


def auto_layout(document, direction: str = "LR") -> None:
    """Place every node by engine.layout, left to right ("LR") or top to bottom
    ("TB"), as one undo step."""
    _push(document, edits.plan_auto_layout(document.network, direction))


def add_connected_node(document, type_name: str, pos, src=None, dst=None) -> str:
    """Add a node and wire it, as one undo step: ``src=(node, port)`` feeds the new
    node's first input; ``dst=(node, port)`` takes the new node's first output.
    Raises NetworkError (pushing nothing) when the node has no such port."""
    edit, node_id = edits.plan_add_connected_node(document.network, type_name, _xy(pos), src, dst)
    _push(document, edit)
    return node_id


def insert_on_wire(document, node_id: str, wire: Wire, pos=None) -> bool:
    """Put a free node into a wire (src -> node -> dst), with its move, as one undo
    step. Returns False (pushing nothing) when its ports do not fit."""
    pos = None if pos is None else _xy(pos)
    edit = edits.plan_insert_on_wire(document.network, node_id, wire, pos)
    _push(document, edit)
    return edit is not None


def _xy(pos) -> tuple[float, float]:
    """A QPointF or an ``(x, y)`` pair as a pair (the engine checks the numbers)."""
    if hasattr(pos, "x") and callable(pos.x):
        return (float(pos.x()), float(pos.y()))
    return pos
