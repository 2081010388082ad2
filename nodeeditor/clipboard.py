"""Copy and paste of nodes, as text, so that paste works between windows.

A selection is written as a small JSON document, the project file's node and edge
layout with a marker (``"deepwire": "nodes"``): the nodes chosen and the wires between
them. It goes on the system clipboard both under the mime type
``application/x-deepwire-nodes`` and as plain text (so it can be pasted into a mail or
an issue and back). ``nodeeditor.commands.paste`` reads it.
"""

from __future__ import annotations

import atexit
import json

from engine.errors import NetworkError, ParamError
from engine.layers import get_spec
from engine.network import Network

MIME_TYPE = "application/x-deepwire-nodes"
MARKER = "nodes"


def selection_to_json(network: Network, ids) -> str:
    """The nodes ``ids`` of ``network`` and the wires between them, as clipboard text."""
    chosen = set(ids)
    data = network.to_dict()
    nodes = [n for n in data["nodes"] if n["id"] in chosen]
    edges = [e for e in data["edges"] if e["from"][0] in chosen and e["to"][0] in chosen]
    return json.dumps({"deepwire": MARKER, "nodes": nodes, "edges": edges}, indent=1)


def parse_selection(text: str) -> tuple[list[dict], list]:
    """Nodes and edges of clipboard text, checked.

    Returns:
        ``(nodes, edges)``: nodes as dicts with id, type, params (typed values), pos and
        trainable; edges as ``((src, port), (dst, port))``.
    Raises:
        NetworkError: the text is not a Deepwire selection or names an unknown type.
        ParamError: a parameter has a wrong type.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("deepwire") != MARKER:
        raise NetworkError("the clipboard holds no Deepwire nodes")
    nodes = []
    try:
        for entry in data.get("nodes", []):
            spec = get_spec(entry["type"])
            params = {
                name: spec.param(name).check_type(value)
                for name, value in entry.get("params", {}).items()
            }
            x, y = entry.get("pos", (0, 0))
            nodes.append(
                {
                    "id": str(entry["id"]),
                    "type": spec.name,
                    "params": params,
                    "pos": (float(x), float(y)),
                    "trainable": bool(entry.get("trainable", True)),
                }
            )
        edges = [(tuple(e["from"]), tuple(e["to"])) for e in data.get("edges", [])]
    except ParamError:
        raise
    except (KeyError, TypeError, ValueError) as error:
        raise NetworkError(f"the clipboard's nodes are damaged ({error})") from None
    return nodes, edges


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
