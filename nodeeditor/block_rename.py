"""Renaming a block type: from the palette's Blocks group (a project block's context
menu), from an instance's context menu on the canvas, or from the breadcrumb's current
item while the block is entered.

Each asks the new name (checked live: a free block name, which becomes a class name in
generated code) and pushes one ``RenameBlockType`` edit (engine.edits.blocks) on the
shown network's undo stack; the instances in every network and every block's inside
follow, and so do the palette and the breadcrumb.
"""

from __future__ import annotations

from engine.blocks import check_block_name
from engine.edits.blocks import plan_rename_block_type
from engine.errors import DeepwireError
from nodeeditor import commands

RENAME = "Rename Block Type…"


def ask_new_name(parent, old: str, library) -> str | None:
    """Ask a new name for block type ``old`` (checked live); None when cancelled or
    unchanged."""
    from nodeeditor.network_tabs import ask_network_name

    name = ask_network_name(
        parent,
        "Rename block type",
        f"New name for the block type {old} (every {old} of the project follows; "
        "it becomes a class name in generated code):",
        old,
        lambda text: None if text == old else check_block_name(text, library),
    )
    return None if name in (None, old) else name


def rename(window, page, old: str) -> str | None:
    """Ask a new name for block type ``old`` and rename it as one undo step on
    ``page``'s stack; returns the new name. Refused while training."""
    if getattr(window, "locked", False):
        window.show_message("The network is locked while training; stop training to edit it")
        return None
    library = page.network.library
    if old not in library:
        return None
    new = ask_new_name(window, old, library)
    if new is None:
        return None
    try:
        commands.push(page, plan_rename_block_type(page.network, old, new))
    except DeepwireError as error:  # taken meanwhile: say so
        window.show_message(str(error))
        return None
    window.show_message(f"Renamed the block type {old} to {new}")
    return new


def _page(document):
    """The network page of a canvas's document (a page, or an entered block's level)."""
    return getattr(document, "page", document)


def rename_instance_type(view, node_id: str) -> str | None:
    """The canvas context menu: rename the type of block instance ``node_id``."""
    if view.scene().refuse_if_locked():
        return None
    document = view.document
    return rename(view.window(), _page(document), document.network.node(node_id).type)


def rename_from_palette(window, name: str) -> str | None:
    """The palette's context menu on a project block."""
    return rename(window, window.document.current, name)


def rename_entered(window) -> str | None:
    """The breadcrumb's current item: rename the type of the block entered."""
    navigator = getattr(window.view, "navigator", None)
    if navigator is None or not navigator.depth:
        return None
    level = navigator.document
    return rename(window, level.page, level.type_name)
