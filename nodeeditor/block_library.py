"""Where the palette's blocks come from: the project, Deepwire's built-ins, the user's own.

``available_blocks(project)`` lists them for the palette's Blocks group: the project's
block types first, then the built-in ones (``engine.blocks.builtin``) and the user's
saved ones (JSON files in the user's data folder, ``blocks/NAME.json``) that the
project does not have yet. ``block_data(name)`` gives the definition of one that is
not in the project, for ``engine.edits.blocks.plan_place_block``, which copies it into
the project when it is first placed.

A saved file is read as the project file's ``blocks`` section would be (the engine's
checks), so a hand-edited or hostile file is left out of the palette with the reason
(``problems()``), never placed half-checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QStandardPaths

from engine import project as project_file
from engine.blocks import check_block_name
from engine.errors import DeepwireError

MAX_FILE = 1_000_000  # bytes: a block definition is a few kilobytes


@dataclass(frozen=True)
class BlockEntry:
    """One block of the palette.

    Attributes:
        name: the block type's name.
        help: its line of help.
        source: ``"project"``, ``"built-in"`` or ``"mine"`` (the user's library).
    """

    name: str
    help: str
    source: str


def user_blocks_dir() -> Path:
    """The folder of the user's saved blocks (``<app data>/blocks``)."""
    location = QStandardPaths.StandardLocation.AppDataLocation
    return Path(QStandardPaths.writableLocation(location)) / "blocks"


def builtin_data() -> dict[str, dict]:
    """The built-in blocks as ``{name: data}`` (none if the engine has none)."""
    try:
        from engine.blocks.builtin import builtin_blocks
    except ImportError:
        return {}
    return builtin_blocks()


def check_block_data(name: str, data: object) -> dict:
    """``data`` if it is a valid definition of a block ``name`` on its own (nesting no
    other block); else the engine's error (ProjectError, NetworkError) with the reason."""
    check_block_name(name)
    wrapper = {
        "format": "deepwire",
        "version": 2,
        "blocks": {name: data},
        "networks": {"model": {"nodes": [], "edges": []}},
    }
    project_file.from_dict(json.loads(json.dumps(wrapper)), f"block {name}")
    return data


def user_data() -> tuple[dict[str, dict], list[str]]:
    """The user's saved blocks as ``{name: data}``, and a sentence per file left out."""
    folder = user_blocks_dir()
    found, problems = {}, []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            if path.stat().st_size > MAX_FILE:
                raise ValueError(f"larger than {MAX_FILE:,} bytes")
            data = json.loads(path.read_text(encoding="utf-8"))
            found[path.stem] = check_block_data(path.stem, data)
        except (OSError, ValueError, DeepwireError) as error:
            problems.append(f"{path.name} was left out of the palette: {error}")
    return found, problems


def available_blocks(project) -> list[BlockEntry]:
    """The palette's blocks for ``project`` (see the module docstring)."""
    entries = [BlockEntry(t.name, t.help, "project") for t in project.blocks]
    taken = {entry.name for entry in entries}
    for source, blocks in (("built-in", builtin_data()), ("mine", user_data()[0])):
        for name, data in blocks.items():
            if name not in taken:
                taken.add(name)
                entries.append(BlockEntry(name, str(data.get("help", "")), source))
    return entries


def block_data(name: str) -> dict | None:
    """The definition of block ``name`` from the built-ins or the user's library."""
    data = builtin_data().get(name)
    return data if data is not None else user_data()[0].get(name)


def save_to_user_library(block_type) -> Path:
    """Write ``block_type`` (with the types it nests, which must be saved too for it
    to be placed alone: refused) into the user's library; returns the file."""
    nested = block_type.used_types()
    if nested:
        raise ValueError(
            f"{block_type.name} holds other blocks ({', '.join(sorted(nested))}); only a "
            "block of plain layers can be saved to your library"
        )
    folder = user_blocks_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{block_type.name}.json"
    path.write_text(json.dumps(block_type.to_dict(), indent=1), encoding="utf-8")
    return path
