"""Copy and paste of nodes, as text, so that paste works between windows.

A selection is written as a small JSON document, the project file's node and edge
layout with a marker (``"deepwire": "nodes"``): the nodes chosen, the wires between
them and the block types they use (so that blocks paste into another project). It goes
on the system clipboard both under the mime type ``application/x-deepwire-nodes`` and
as plain text (so it can be pasted into a mail or an issue and back). ``nodeeditor.commands.paste`` reads it.
"""

from __future__ import annotations

import atexit
import json
from typing import NamedTuple

from engine.edits.paste import selection_data
from engine.errors import NetworkError
from engine.network import Network

MIME_TYPE = "application/x-deepwire-nodes"
MARKER = "nodes"
_NODE_FIELDS = ("id", "type", "params", "pos", "trainable", "bind", "expanded")


class Selection(NamedTuple):
    """What a clipboard text holds: node entries (``Network.node_entry`` layout), wires
    as ``((src, port), (dst, port))`` and the block types used (``{name: data}``)."""

    nodes: list[dict]
    edges: list
    blocks: dict


def selection_to_json(network: Network, ids) -> str:
    """The nodes ``ids`` of ``network``, the wires between them and the block types
    they use (``engine.edits.paste.selection_data``), as clipboard text."""
    data = selection_data(network, ids)
    if not data["blocks"]:
        del data["blocks"]
    return json.dumps({"deepwire": MARKER, **data}, indent=1)


def parse_selection(text: str) -> Selection:
    """The nodes, wires and block types of clipboard text, checked for their layout.

    Types and parameter values are checked when the paste is planned
    (``engine.edits.plan_paste``), which knows the project's block types.

    Raises:
        NetworkError: the text is not a Deepwire selection or is damaged.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("deepwire") != MARKER:
        raise NetworkError("the clipboard holds no Deepwire nodes")
    try:
        nodes = [_entry(entry) for entry in data.get("nodes", [])]
        edges = [_edge(edge) for edge in data.get("edges", [])]
        blocks = data.get("blocks", {})
        if not isinstance(blocks, dict) or not all(isinstance(b, dict) for b in blocks.values()):
            raise TypeError("blocks must map names to blocks")
    except (KeyError, TypeError, ValueError) as error:
        raise NetworkError(f"the clipboard's nodes are damaged ({error})") from None
    return Selection(nodes, edges, blocks)


def _entry(entry) -> dict:
    """One node of the clipboard, with only the fields a node has."""
    if not isinstance(entry, dict) or not isinstance(entry["type"], str):
        raise TypeError("a node must be an object with an id and a type")
    if not isinstance(entry.get("params", {}), dict):
        raise TypeError("params must be an object")
    x, y = entry.get("pos", (0, 0))
    node = {k: entry[k] for k in _NODE_FIELDS if k in entry}
    node.update(id=str(entry["id"]), pos=(float(x), float(y)))
    return node


def _edge(edge) -> tuple:
    (src, src_port), (dst, dst_port) = edge["from"], edge["to"]
    if not all(isinstance(v, str) for v in (src, src_port, dst, dst_port)):
        raise TypeError("a wire's ends must be names")
    return ((src, src_port), (dst, dst_port))


def put(network: Network, ids) -> str:
    """Copy the selection to the system clipboard; returns the text put there."""
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QGuiApplication

    text = selection_to_json(network, ids)
    mime = QMimeData()
    mime.setData(MIME_TYPE, text.encode("utf-8"))
    mime.setText(text)
    QGuiApplication.clipboard().setMimeData(mime)
    _plain_text_at_exit()
    return text


_exit_hook_registered = False


def _plain_text_at_exit() -> None:
    """Leave plain text on the clipboard when Python exits: PySide6 crashed at exit
    (segmentation fault) when our QMimeData was still on the clipboard."""
    global _exit_hook_registered
    if not _exit_hook_registered:
        _exit_hook_registered = True
        atexit.register(_downgrade_to_text)


def _downgrade_to_text() -> None:
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return
    board = QGuiApplication.clipboard()
    mime = board.mimeData()
    if mime is not None and mime.hasFormat(MIME_TYPE):
        board.setText(mime.text())


def get() -> str | None:
    """The Deepwire selection on the system clipboard, or None when there is none."""
    from PySide6.QtGui import QGuiApplication

    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    if mime.hasFormat(MIME_TYPE):
        return bytes(mime.data(MIME_TYPE)).decode("utf-8")
    text = mime.text()
    if text and f'"deepwire": "{MARKER}"' in text:
        return text
    return None
