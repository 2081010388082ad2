"""Undoable edits of the network: every change a user makes is one QUndoCommand.

The commands change only the engine's ``Network``; the canvas, the inspector and the
diagnostics follow the network's events (the NodeGraphQt counter-example in DESIGN.md
writes to model and view at once; we do not). The helper functions below are what the
editor calls: they check the edit first and raise the engine's error (NetworkError,
ParamError) without pushing anything when it is refused, then push exactly one entry
on ``document.undo_stack`` (a macro when an edit is several steps), so that undoing
and redoing back to any point gives exactly the same project file.

``document`` is anything with ``network`` and ``undo_stack`` (nodeeditor.document).
"""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtGui import QUndoCommand

from engine.errors import NetworkError
from engine.layers import get_spec
from engine.layout import layered_positions
from engine.naming import check_id, suggest_id
from engine.network import Network, Wire
from nodeeditor.clipboard import parse_selection, selection_to_json

PASTE_OFFSET = (40.0, 40.0)


# ------------------------------------------------------------------ commands
class AddNodeCommand(QUndoCommand):
    """Add one node with a fixed id (so that redo gives the same id)."""

    def __init__(self, network: Network, entry: dict, parent=None):
        super().__init__(f"Add {entry['type']}", parent)
        self.network, self.entry = network, entry

    def redo(self):
        e = self.entry
        self.network.add_node(
            e["type"], e["params"], e["pos"], e["id"], e.get("trainable", True), check=False
        )

    def undo(self):
        self.network.remove_node(self.entry["id"])


class RemoveCommand(QUndoCommand):
    """Remove nodes (with their wires) and other wires; undo puts all back in place."""

    def __init__(self, network: Network, ids: list[str], wires: list[Wire] = (), parent=None):
        count = len(ids) + len(wires)
        super().__init__(
            "Delete" if count > 1 else "Delete " + (ids or [str(w) for w in wires])[0], parent
        )
        self.network = network
        self.order = [node.id for node in network.nodes]
        chosen = set(ids)
        self.nodes = [_entry(network, n.id) for n in network.nodes if n.id in chosen]
        touching = {w for node_id in chosen for w in network.wires_of(node_id)}
        self.loose = sorted(set(wires) - touching)
        self.wires = sorted(touching | set(self.loose))

    def redo(self):
        for wire in self.loose:
            self.network.disconnect(wire)
        for entry in self.nodes:
            self.network.remove_node(entry["id"])

    def undo(self):
        for e in self.nodes:
            self.network.add_node(
                e["type"], e["params"], e["pos"], e["id"], e["trainable"], check=False
            )
        self.network.set_order(self.order)
        for wire in self.wires:
            self.network.connect(wire.src, wire.src_port, wire.dst, wire.dst_port)


class ConnectCommand(QUndoCommand):
    """Make one wire."""

    def __init__(self, network: Network, wire: Wire, parent=None):
        super().__init__(f"Connect {wire}", parent)
        self.network, self.wire = network, wire

    def redo(self):
        w = self.wire
        self.network.connect(w.src, w.src_port, w.dst, w.dst_port)

    def undo(self):
        self.network.disconnect(self.wire)


class DisconnectCommand(ConnectCommand):
    """Remove one wire."""

    def __init__(self, network: Network, wire: Wire, parent=None):
        super().__init__(network, wire, parent)
        self.setText(f"Disconnect {wire}")

    def redo(self):
        super().undo()

    def undo(self):
        super().redo()


class MoveCommand(QUndoCommand):
    """Move nodes: ``moves`` maps an id to ``(old_pos, new_pos)``."""

    NUDGE_ID = 1001  # QUndoCommand.id() of arrow-key nudges, which merge

    def __init__(
        self, network: Network, moves: dict, text: str = "", nudge: bool = False, parent=None
    ):
        super().__init__(
            text or ("Move node" if len(moves) == 1 else f"Move {len(moves)} nodes"), parent
        )
        self.network, self.moves, self.nudge = network, moves, nudge

    def id(self) -> int:
        return self.NUDGE_ID if self.nudge else -1

    def mergeWith(self, other) -> bool:
        """Successive nudges of the same nodes are one undo step."""
        if not isinstance(other, MoveCommand) or set(other.moves) != set(self.moves):
            return False
        self.moves = {k: (old, other.moves[k][1]) for k, (old, _) in self.moves.items()}
        return True

    def redo(self):
        for node_id, (_, new) in self.moves.items():
            self.network.move_node(node_id, new)

    def undo(self):
        for node_id, (old, _) in self.moves.items():
            self.network.move_node(node_id, old)


class SetParamsCommand(QUndoCommand):
    """Change a node's parameters; undo also restores wires the change dropped."""

    def __init__(self, network: Network, node_id: str, old: dict, new: dict, parent=None):
        super().__init__(f"Edit {node_id}", parent)
        self.network, self.node_id, self.old, self.new = network, node_id, old, new
        self.dropped: list[Wire] = []

    def redo(self):
        self.dropped = self.network.set_params(self.node_id, self.new, check=False)

    def undo(self):
        self.network.set_params(self.node_id, self.old, check=False)
        for w in self.dropped:
            self.network.connect(w.src, w.src_port, w.dst, w.dst_port)


class RenameCommand(QUndoCommand):
    """Give a node a new id."""

    def __init__(self, network: Network, old: str, new: str, parent=None):
        super().__init__(f"Rename {old} to {new}", parent)
        self.network, self.old, self.new = network, old, new

    def redo(self):
        self.network.rename_node(self.old, self.new)

    def undo(self):
        self.network.rename_node(self.new, self.old)


class SetTrainableCommand(QUndoCommand):
    """Freeze or unfreeze a node's weights."""

    def __init__(self, network: Network, node_id: str, value: bool, parent=None):
        super().__init__(f"{'Unfreeze' if value else 'Freeze'} {node_id}", parent)
        self.network, self.node_id, self.value = network, node_id, bool(value)

    def redo(self):
        self.network.set_trainable(self.node_id, self.value)

    def undo(self):
        self.network.set_trainable(self.node_id, not self.value)


class PasteCommand(QUndoCommand):
    """Add several nodes and the wires between them."""

    def __init__(self, network: Network, entries: list[dict], wires: list[Wire], parent=None):
        super().__init__("Paste" if len(entries) != 1 else f"Paste {entries[0]['id']}", parent)
        self.network, self.entries, self.wires = network, entries, wires

    def redo(self):
        for e in self.entries:
            self.network.add_node(
                e["type"], e["params"], e["pos"], e["id"], e.get("trainable", True), check=False
            )
        for w in self.wires:
            self.network.connect(w.src, w.src_port, w.dst, w.dst_port)

    def undo(self):
        for e in reversed(self.entries):
            self.network.remove_node(e["id"])


def _entry(network: Network, node_id: str) -> dict:
    node = network.node(node_id)
    return {
        "id": node.id,
        "type": node.type,
        "params": dict(node.params),
        "pos": node.pos,
        "trainable": node.trainable,
    }


# ------------------------------------------------------------------ helpers
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


def add_node(document, type_name: str, pos, params: dict | None = None) -> str:
    """Add a layer of ``type_name`` at ``pos``; returns its new id.

    Raises:
        NetworkError: unknown layer type.
        ParamError: a parameter value is invalid (nothing is pushed).
    """
    network = document.network
    spec = get_spec(type_name)
    checked = spec.check_params(params or {})
    node_id = network.suggest_id(type_name)
    entry = {"id": node_id, "type": type_name, "params": checked, "pos": _xy(pos)}
    document.undo_stack.push(AddNodeCommand(network, entry))
    return node_id


def remove_nodes(document, ids, wires=()) -> None:
    """Delete nodes (with their wires) and other ``wires``, as one undo step."""
    network = document.network
    ids = [i for i in dict.fromkeys(ids) if i in network]
    present = set(network.wires)
    wires = [w for w in wires if w in present]
    if ids or wires:
        document.undo_stack.push(RemoveCommand(network, ids, wires))


def disconnect(document, wire: Wire) -> None:
    """Remove one wire; raises NetworkError if it is not there."""
    if wire not in set(document.network.wires):
        raise NetworkError(f"there is no wire {wire}")
    document.undo_stack.push(DisconnectCommand(document.network, wire))


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


def connect(document, src: str, src_port: str, dst: str, dst_port: str) -> Wire:
    """Wire ``src.src_port`` to ``dst.dst_port``, replacing a wire already on that input
    (one undo step). Raises NetworkError with the reason when the engine refuses."""
    network = document.network
    problem = wire_problem(network, src, src_port, dst, dst_port)
    if problem:
        raise NetworkError(problem)
    wire = Wire(src, src_port, dst, dst_port)
    existing = network.wire_into(dst, dst_port)
    if existing is None:
        document.undo_stack.push(ConnectCommand(network, wire))
        return wire
    with macro(document, f"Replace wire into {dst}.{dst_port}"):
        document.undo_stack.push(DisconnectCommand(network, existing))
        document.undo_stack.push(ConnectCommand(network, wire))
    return wire


def move_nodes(document, positions: dict, text: str = "", nudge: bool = False) -> None:
    """Move nodes to ``{id: (x, y)}`` as one undo step (nothing when none moves).
    With ``nudge`` (arrow keys), successive moves of the same nodes merge."""
    network = document.network
    moves = {}
    for node_id, pos in positions.items():
        old, new = network.node(node_id).pos, _xy(pos)
        if old != new:
            moves[node_id] = (old, new)
    if moves:
        document.undo_stack.push(MoveCommand(network, moves, text, nudge))


def set_params(document, node_id: str, params: dict) -> None:
    """Change some parameters of a node; raises ParamError (pushing nothing) on a bad
    value. Wires on input ports that vanish are dropped, and undo restores them."""
    network = document.network
    node = network.node(node_id)
    new = node.spec.check_params({**node.params, **params})
    if new != node.params:
        document.undo_stack.push(SetParamsCommand(network, node_id, dict(node.params), new))


def set_params_of(document, edits: dict, text: str = "") -> None:
    """Change the parameters of several nodes (``{id: {param: value}}``) as one undo
    step; raises ParamError or NetworkError, pushing nothing, when any value is refused."""
    network = document.network
    changes = []
    for node_id, params in edits.items():
        node = network.node(node_id)
        new = node.spec.check_params({**node.params, **params})
        if new != node.params:
            changes.append(SetParamsCommand(network, node_id, dict(node.params), new))
    if changes:
        with macro(document, text or f"Edit {len(changes)} nodes"):
            for command in changes:
                document.undo_stack.push(command)


def rename_node(document, old: str, new: str) -> None:
    """Rename a node; raises NetworkError for an invalid or taken id."""
    network = document.network
    network.node(old)
    if new == old:
        return
    check_id(new)
    if new in network:
        raise NetworkError(f"there is already a node called {new!r}")
    document.undo_stack.push(RenameCommand(network, old, new))


def set_trainable(document, node_id: str, value: bool) -> None:
    """Freeze (False) or unfreeze (True) a node's weights."""
    if document.network.node(node_id).trainable != bool(value):
        document.undo_stack.push(SetTrainableCommand(document.network, node_id, value))


def paste(document, text: str, offset=PASTE_OFFSET) -> list[str]:
    """Add the nodes of a clipboard text (see nodeeditor.clipboard) shifted by
    ``offset``, with fresh ids where taken and the wires between them; one undo step.

    Returns:
        The new node ids, in the order of the text.
    Raises:
        NetworkError / ParamError: the text holds no valid nodes.
    """
    network = document.network
    nodes, edges = parse_selection(text)
    taken = {node.id for node in network.nodes}
    renamed, entries = {}, []
    for e in nodes:
        new_id = e["id"] if e["id"] not in taken else suggest_id(e["id"], taken)
        taken.add(new_id)
        renamed[e["id"]] = new_id
        x, y = e["pos"]
        entries.append({**e, "id": new_id, "pos": (x + offset[0], y + offset[1])})
    wires = _pasted_wires(entries, edges, renamed)
    if entries:
        document.undo_stack.push(PasteCommand(network, entries, wires))
    return [e["id"] for e in entries]


def _pasted_wires(entries: list[dict], edges: list, renamed: dict) -> list[Wire]:
    """Wires whose ends were both pasted and whose ports exist, one per input port."""
    by_id = {e["id"]: e for e in entries}
    wires, used = [], set()
    for (src, src_port), (dst, dst_port) in edges:
        if src not in renamed or dst not in renamed or src == dst:
            continue
        source, target = by_id[renamed[src]], by_id[renamed[dst]]
        if src_port not in get_spec(source["type"]).outputs:
            continue
        if dst_port not in get_spec(target["type"]).input_ports(target["params"]):
            continue
        if (target["id"], dst_port) not in used:
            used.add((target["id"], dst_port))
            wires.append(Wire(source["id"], src_port, target["id"], dst_port))
    return wires


def duplicate(document, ids) -> list[str]:
    """Copy nodes (and the wires between them) beside themselves; returns the new ids."""
    if not ids:
        return []
    return paste(document, selection_to_json(document.network, ids), PASTE_OFFSET)


def auto_layout(document) -> None:
    """Place every node by topological layer (engine.layout), as one undo step."""
    move_nodes(document, layered_positions(document.network), "Auto-layout")


def add_connected_node(document, type_name: str, pos, src=None, dst=None) -> str:
    """Add a node and wire it, as one undo step: ``src=(node, port)`` feeds the new
    node's first input; ``dst=(node, port)`` takes the new node's first output.
    Raises NetworkError (pushing nothing) when the node has no such port."""
    spec = get_spec(type_name)
    ins, outs = spec.input_ports(spec.defaults()), spec.outputs
    if (src and not ins) or (dst and not outs):
        raise NetworkError(f"{type_name} has no {'input' if src else 'output'} to wire")
    with macro(document, f"Add {type_name}"):
        node_id = add_node(document, type_name, pos)
        if src:
            connect(document, src[0], src[1], node_id, ins[0])
        if dst:
            connect(document, node_id, outs[0], dst[0], dst[1])
    return node_id


def insertion_ports(network: Network, node_id: str, wire: Wire):
    """``(input, output)`` ports through which ``node_id`` can be put into ``wire``,
    or None: the node needs a free input and output and must not be an end of it."""
    node = network.node(node_id)
    if node_id in (wire.src, wire.dst) or not node.input_ports() or not node.output_ports():
        return None
    if network.wires_of(node_id):
        return None
    return node.input_ports()[0], node.output_ports()[0]


def insert_on_wire(document, node_id: str, wire: Wire, pos=None) -> bool:
    """Put a free node into a wire (src -> node -> dst), with its move, as one undo
    step. Returns False (pushing nothing) when its ports do not fit."""
    network = document.network
    ports = insertion_ports(network, node_id, wire)
    if ports is None or wire not in set(network.wires):
        return False
    stack = document.undo_stack
    with macro(document, f"Insert {node_id}"):
        if pos is not None:
            move_nodes(document, {node_id: pos})
        stack.push(DisconnectCommand(network, wire))
        stack.push(ConnectCommand(network, Wire(wire.src, wire.src_port, node_id, ports[0])))
        stack.push(ConnectCommand(network, Wire(node_id, ports[1], wire.dst, wire.dst_port)))
    return True


def _xy(pos) -> tuple[float, float]:
    if hasattr(pos, "x") and callable(pos.x):
        return (float(pos.x()), float(pos.y()))
    x, y = pos
    return (float(x), float(y))
