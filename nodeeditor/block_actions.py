"""Blocks in the editor: group, ungroup, make unique, open in place, enter and leave,
place from the palette, save to the user's library.

Every gesture acts on a canvas (a NetworkView) and what it shows: the network, or the
inside of an entered block (``view.scene().document``). Edits are planned by the engine
(``engine.edits.blocks``) and pushed as one undo step each (``commands.push``); a
refusal is said in one sentence on the scene's ``message`` (the status bar). The window
glue is here too: ``add_actions`` (Edit menu: Ctrl+G, Ctrl+Shift+G...), ``attach_view``
(a BlockNavigator per canvas, double-click enters), ``show_level`` (breadcrumb and
Inspector follow the level shown) and ``follow_blocks`` (the palette's Blocks group).
"""

from __future__ import annotations

import weakref

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtGui import QKeySequence

from engine import edits
from engine.blocks import check_block_name
from engine.edits.blocks import (
    free_block_name,
    plan_group,
    plan_make_unique,
    plan_place_block,
    plan_ungroup,
)
from engine.errors import DeepwireError, NetworkError
from nodeeditor import block_library, block_rename, commands
from nodeeditor.block_nav import BlockNavigator

# the Edit menu's block entries, in order (None: a separator)
MENU = ("group", "ungroup", "make_unique", "toggle_expanded", None, "enter_block", "leave_block")
EDITING = ("group", "ungroup", "make_unique", "toggle_expanded")  # locked while training


# ----------------------------------------------------------------- helpers
def _say(view, text: str) -> None:
    view.scene().message.emit(text)


def _refused(view) -> bool:
    return view.scene().refuse_if_locked()


def _push(view, plan, *args) -> bool:
    """Plan an edit on the shown network and push it; a refusal is said. True if done."""
    document = view.document
    try:
        commands.push(document, plan(document.network, *args))
    except DeepwireError as error:
        _say(view, str(error))
        return False
    return True


def _selected_block(view, verb: str) -> str | None:
    """The one selected block instance, or None (and a sentence saying what to select)."""
    scene = view.scene()
    ids = scene.selected_node_ids()
    if len(ids) == 1 and scene.network.node(ids[0]).is_block:
        return ids[0]
    _say(view, f"Select one block to {verb} it")
    return None


def count_uses(project, type_name: str) -> int:
    """How many instances of ``type_name`` the project has, in its networks and in
    other blocks' insides."""
    networks = [*project.networks.values(), *(t.network for t in project.blocks)]
    return sum(1 for network in networks for node in network.nodes if node.type == type_name)


def ask_block_name(parent, suggestion: str, library) -> str | None:
    """Ask the name of a new block type (checked live); None when cancelled."""
    from nodeeditor.network_tabs import ask_network_name

    return ask_network_name(
        parent,
        "Group into block",
        "Name of the new block type (it becomes a class in generated code):",
        suggestion,
        lambda text: check_block_name(text, library),
    )


# ----------------------------------------------------------------- gestures
def group(view) -> str | None:
    """Group the selected nodes into a new block type (asks its name); one undo step.
    Returns the new instance's id, selected."""
    scene = view.scene()
    ids = scene.selected_node_ids()
    if _refused(view):
        return None
    if not ids:
        _say(view, "Select the layers to group first (drag a rectangle around them)")
        return None
    document = view.document
    network = document.network
    try:  # refuse before asking a name
        plan_group(network, ids, None, document.analysis)
    except DeepwireError as error:
        _say(view, str(error))
        return None
    name = ask_block_name(view, free_block_name(network.library), network.library)
    if name is None:
        return None
    before = {n.id for n in network.nodes}
    if not _push(view, plan_group, ids, name, document.analysis):
        return None
    new = [n.id for n in network.nodes if n.id not in before]
    scene.select_nodes(new)
    _say(view, f"Grouped {len(ids)} nodes into the block {name}: double-click it to edit it")
    return new[0] if new else None


def ungroup(view) -> list[str]:
    """Put the selected block's inside in its place (one undo step); selects it."""
    node_id = _selected_block(view, "ungroup")
    if node_id is None or _refused(view):
        return []
    network = view.document.network
    before = {n.id for n in network.nodes}
    if not _push(view, plan_ungroup, node_id):
        return []
    new = [n.id for n in network.nodes if n.id not in before]
    view.scene().select_nodes(new)
    return new


def make_unique(view) -> str | None:
    """Give the selected instance its own copy of its block type; returns the new
    type's name."""
    node_id = _selected_block(view, "make unique")
    if node_id is None or _refused(view):
        return None
    network = view.document.network
    if not _push(view, plan_make_unique, node_id):
        return None
    name = network.node(node_id).type
    view.scene().select_nodes([node_id])
    _say(view, f"{node_id} is now a {name} of its own: editing it changes no other block")
    return name


def toggle_expanded(view, ids=None) -> None:
    """Open the selected blocks in place, or close them when all are open (one step)."""
    scene = view.scene()
    network = scene.network
    ids = [i for i in (ids or scene.selected_node_ids()) if network.node(i).is_block]
    if not ids:
        _say(view, "Select a block to open or close it")
        return
    set_expanded(scene, ids, not all(network.node(i).expanded for i in ids))


def set_expanded(scene, ids, value: bool) -> None:
    """Open (or close) blocks ``ids`` of ``scene``'s network in place, as one undo step.
    Opening makes room: the nodes beside and below an opened block move away by what it
    grew, when it would cover one of them (closing leaves the room)."""
    if scene.refuse_if_locked():
        return
    network = scene.network
    steps = [edits.plan_set_expanded(network, i, value) for i in ids]
    if value:
        moves = {}
        for node_id in ids:
            _make_room(network, node_id, moves)
        steps.append(edits.plan_move(network, moves) if moves else None)
    text = f"{'Expand' if value else 'Collapse'} {ids[0] if len(ids) == 1 else 'blocks'}"
    commands.push(scene.document, edits.Compound(text, [s for s in steps if s is not None]))


GAP = 40.0  # room kept between an opened block and the nodes it pushed away


def _make_room(network, node_id: str, moves: dict) -> None:
    """Add to ``moves`` the shifts that keep block ``node_id``, opened, off the other
    nodes: those beside it (overlapping its rows) go right, those below it go down."""
    from nodeeditor.canvas.block_item import block_size, item_size

    node = network.node(node_id)
    (w0, h0), (w1, h1) = block_size(node, False), block_size(node, True)
    x, y = node.pos
    others = [(n, item_size(n)) for n in network.nodes if n.id != node_id]

    def at(n):
        return moves.get(n.id, n.pos)

    def covered(n, size):
        (nx, ny), (w, h) = at(n), size
        return nx < x + w1 + GAP and nx + w > x and ny < y + h1 + GAP and ny + h > y

    if not any(covered(n, size) for n, size in others):
        return
    dx, dy = w1 - w0 + GAP, h1 - h0 + GAP
    for n, (_, h) in others:
        nx, ny = at(n)
        if nx > x and ny < y + h1 and ny + h > y:
            moves[n.id] = (nx + dx, ny)
        elif ny >= y + h0:
            moves[n.id] = (nx, ny + dy)


def enter(view, node_id: str | None = None) -> bool:
    """Show the inside of block ``node_id`` (the selected one) in this canvas."""
    navigator = getattr(view, "navigator", None)
    if node_id is None:
        node_id = _selected_block(view, "enter")
    return navigator is not None and node_id is not None and navigator.enter(node_id)


def leave(view, depth: int | None = None) -> bool:
    """Go back up one level (or to ``depth``, 0 being the network)."""
    navigator = getattr(view, "navigator", None)
    return navigator is not None and navigator.leave(depth)


def add_node_or_block(document, name: str, pos) -> str:
    """Add a layer, or place a block (the project's, a built-in or a saved one), at
    ``pos``; returns the new node's id. NetworkError when a block would hold itself."""
    network = document.network
    library = network.library
    data = None if name in library else block_library.block_data(name)
    if name not in library and data is None:
        return commands.add_node(document, name, pos)
    if _holds_owner(network, name):  # inside a block type: it must not hold itself
        raise NetworkError(f"{name} holds {network.owner.name}, so it cannot be placed inside it")
    if hasattr(pos, "x") and callable(pos.x):  # a QPointF
        pos = (pos.x(), pos.y())
    edit = plan_place_block(network, name, data, pos)
    before = {n.id for n in network.nodes}
    commands.push(document, edit)
    return next(n.id for n in network.nodes if n.id not in before)


def _holds_owner(network, name: str) -> bool:
    """Whether block type ``name`` holds the block type whose inside ``network`` is."""
    owner, library = network.owner, network.library
    return owner is not None and name in library and library.contains_type(name, owner.name)


def placeable_blocks(document) -> list:
    """The palette's blocks (block_library.BlockEntry) that can be placed in
    ``document``'s network: inside a block, not those that hold it."""
    network = document.network
    entries = block_library.available_blocks(document.project)
    return [e for e in entries if not _holds_owner(network, e.name)]


def save_to_library(view) -> None:
    """Save the selected block's type into the user's library (the palette lists it in
    every project)."""
    node_id = _selected_block(view, "save")
    if node_id is None:
        return
    block_type = view.document.network.node(node_id).spec.block_type
    try:
        path = block_library.save_to_user_library(block_type)
    except (OSError, ValueError) as error:
        _say(view, f"Could not save {block_type.name}: {error}")
        return
    _say(view, f"Saved {block_type.name} to your library ({path})")
    window = view.window()
    if hasattr(window, "palette_panel"):
        refresh_palette(window)


# ----------------------------------------------------------------- menus
def add_menu_items(menu, view) -> None:
    """The canvas context menu's block entries for the selection."""
    scene = view.scene()
    ids = scene.selected_node_ids()
    network = scene.network
    blocks = [i for i in ids if network.node(i).is_block]
    if ids:
        menu.addSeparator()
        _entry(menu, "Group into Block…", lambda: group(view), "Ctrl+G")
    if len(ids) == 1 and blocks:
        expanded = network.node(blocks[0]).expanded
        _entry(menu, "Enter Block", lambda: enter(view, blocks[0]))
        _entry(menu, "Collapse" if expanded else "Expand in Place", lambda: toggle_expanded(view))
        _entry(menu, "Ungroup", lambda: ungroup(view), "Ctrl+Shift+G")
        _entry(menu, "Make Unique", lambda: make_unique(view))
        _entry(
            menu, block_rename.RENAME, lambda: block_rename.rename_instance_type(view, blocks[0])
        )
        _entry(menu, "Save Block to My Library", lambda: save_to_library(view))
    elif blocks:
        _entry(menu, "Expand or Collapse Blocks", lambda: toggle_expanded(view))
    navigator = getattr(view, "navigator", None)
    if not ids and navigator is not None and navigator.depth:
        menu.addSeparator()
        up = navigator.names()[-2]
        _entry(menu, f"Back to {up}", lambda: leave(view), "Esc")


def _entry(menu, text: str, slot, keys: str | None = None):
    action = menu.addAction(text, slot)
    if keys:  # shown beside the entry; the window's own action owns the key
        action.setText(f"{text}\t{keys}")
    return action


def add_actions(window, actions: dict, make) -> None:
    """The window's block actions (``make`` is actions.py's action factory)."""
    w = window
    actions["group"] = make(
        w, "&Group into Block…", lambda: group(w.view), "Ctrl+G", None,
        "Make the selected layers one block: a reusable type, placed once here",
    )  # fmt: skip
    actions["ungroup"] = make(
        w, "U&ngroup", lambda: ungroup(w.view), "Ctrl+Shift+G", None,
        "Put the selected block's layers in its place",
    )  # fmt: skip
    actions["make_unique"] = make(
        w, "Make Block &Unique", lambda: make_unique(w.view), None, None,
        "Give the selected block its own type, so that editing it changes no other",
    )  # fmt: skip
    actions["toggle_expanded"] = make(
        w, "E&xpand or Collapse Block", lambda: toggle_expanded(w.view), None, None,
        "Show the selected block's inside on the canvas, or close it",
    )  # fmt: skip
    actions["enter_block"] = make(
        w, "&Enter Block", lambda: enter(w.view), "Alt+Down", None,
        "Edit the selected block's inside (editing it changes every use of its type)",
    )  # fmt: skip
    actions["leave_block"] = make(
        w, "&Leave Block", lambda: leave(w.view), QKeySequence("Alt+Up"), None,
        "Go back up from an entered block (Esc on the canvas does too)",
    )  # fmt: skip


# ----------------------------------------------------------------- window glue
def attach_view(window, view) -> BlockNavigator:
    """Give a new canvas its navigator: double-click enters blocks, the breadcrumb and
    the Inspector follow the level shown."""
    navigator = BlockNavigator(view)
    view.navigator = navigator
    navigator.scene_created.connect(lambda scene: _wire_scene(window, view, scene))
    navigator.changed.connect(lambda: show_level(window) if window.view is view else None)
    navigator.message.connect(window.show_message)
    view.scene().node_activated.connect(lambda node_id: _activated(view, node_id))
    return navigator


def _wire_scene(window, view, scene) -> None:
    """An entered block's scene talks to the window as the network's scene does."""
    scene.selectionChanged.connect(window._on_selection_changed)
    scene.message.connect(window.show_message)
    scene.node_activated.connect(lambda node_id: _activated(view, node_id))


def _activated(view, node_id: str) -> None:
    """A double-click on a node: a block is entered."""
    if node_id in view.scene().network and view.scene().network.node(node_id).is_block:
        enter(view, node_id)


def show_level(window) -> None:
    """Make the breadcrumb, the Inspector and the selection follow the canvas shown."""
    view = window.view
    navigator = getattr(view, "navigator", None)
    if navigator is None:
        return
    document = navigator.document
    if window.inspector.document is not document:
        window.inspector.set_document(document)
    window._on_selection_changed()
    note = ""
    if navigator.depth:
        name = document.type_name
        uses = count_uses(window.document.project, name)
        what = f"every {name} ({uses} uses)" if uses > 1 else f"the one {name}"
        note = f"Edits here change {what} · Esc or Alt+Up: back"
    window.breadcrumb.show_path(navigator.names(), note)


def leave_to(window, depth: int) -> None:
    """The breadcrumb's item at ``depth`` was clicked."""
    leave(window.view, depth)
    window.view.setFocus()


def refresh_palette(window) -> None:
    """List the blocks the project can place in the palette's Blocks group."""
    window.palette_panel.set_blocks(block_library.available_blocks(window.document.project))


def follow_blocks(window, document) -> None:
    """Keep the palette's Blocks group in step with ``document``'s block types."""
    library = document.project.blocks
    events, shown = library.events, library.names()
    ref = weakref.ref(window)
    pending = []

    def window_of_document():
        target = ref()
        alive = target is not None and shiboken6.isValid(target)
        return target if alive and target.document is document else None

    def refresh_now() -> None:
        pending.clear()
        target = window_of_document()
        if target is not None:
            refresh_palette(target)
            shown[:] = library.names()
            show_level(target)  # the breadcrumb names the entered block's type

    def refresh(*args) -> None:
        if window_of_document() is None:  # another document is shown now
            events.type_added.disconnect(refresh)
            events.type_removed.disconnect(refresh)
            events.changed.disconnect(renamed)
        elif not pending:  # a grouping undone and redone: one refresh
            pending.append(True)
            QTimer.singleShot(0, refresh_now)

    def renamed() -> None:
        if library.names() != shown:  # any type changed: refresh only for a rename
            refresh()

    events.type_added.connect(refresh)
    events.type_removed.connect(refresh)
    events.changed.connect(renamed)
    refresh_palette(window)
