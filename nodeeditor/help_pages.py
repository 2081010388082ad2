"""Help > Getting Started and Help > Keyboard Shortcuts.

The shortcuts table is built from the window's real menus and their QActions (text and
every key sequence, as this platform writes them), so it always says what the keys do
in this build; the canvas's own keys and mouse gestures, which are not actions, are
listed beside it (``CANVAS_GESTURES``, kept in step with ``canvas/view.py``).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTextBrowser, QVBoxLayout

NATIVE = QKeySequence.SequenceFormat.NativeText
# Dedicated keys that the platform's standard shortcuts include (a "Redo" key) but few
# keyboards have: listing them ("Redo or Ctrl+Y") reads as a typo.
_DEDICATED_KEYS = frozenset(
    getattr(Qt.Key, name)
    for name in ("Key_Undo", "Key_Redo", "Key_Copy", "Key_Cut", "Key_Paste", "Key_Open",
                 "Key_Save", "Key_New", "Key_Close", "Key_Find", "Key_ZoomIn", "Key_ZoomOut")
)  # fmt: skip

# What the canvas view handles itself (nodeeditor/canvas/view.py), not as QActions.
CANVAS_GESTURES = (
    ("Add a layer: search by name", "Tab, or double-click on empty canvas"),
    ("Add a layer from the list", "drag it from Layers, or double-click it there"),
    ("Wire two layers", "drag from an output port (right) to an input port (left)"),
    ("Zoom around the cursor", "mouse wheel"),
    ("Pan", "middle-drag, or Space + drag"),
    ("Move the selection", "arrow keys (Shift: bigger steps)"),
    ("Cancel a wire, clear the selection", "Esc"),
    ("Layer menu (duplicate, freeze weights, delete)", "right-click a layer"),
    ("Edit a block's inside (changes every use of its type)", "double-click the block"),
    ("Back up from a block", "Esc with nothing selected, or the path above the canvas"),
    ("Open or close a block in place", "click the triangle in its title"),
)

GETTING_STARTED = """
<h2>Getting started</h2>
<ol>
<li><b>Start from an example.</b> <i>File &gt; New…</i> offers the bundled examples
(digits MLP and CNN, a residual block, an LSTM, a Transformer, an autoencoder) or an
empty network. <i>File &gt; Open…</i> opens a <code>.dwire</code> project.</li>
<li><b>Draw.</b> Drag a layer from the <i>Layers</i> list onto the canvas (or press
<b>Tab</b> on the canvas and type its name), then drag from an output port on the right
of a layer to an input port on the left of the next one. Every wire shows the shape of
the tensor it carries, without the batch dimension.</li>
<li><b>Set it up.</b> Click a layer to see and change its settings in the
<i>Inspector</i>; the sizes that follow from the input are worked out for you. The
<i>Problems</i> tab lists anything that cannot work, in a sentence that says what to
change; activate a problem (double-click or Enter) to find its layer.</li>
<li><b>Train.</b> Open the <i>Training</i> tab: choose the data (the bundled digits are
a good first try; <i>Apply to network</i> fits the Input to them), the loss, the
optimizer and the number of epochs, then press <b>Train</b>. The loss and accuracy
curves grow live, and the doctor below them says in plain words what the curves show
(overfitting, a learning rate too high, …) and what to try.</li>
<li><b>Keep the result.</b> <i>File &gt; Save</i> writes the project; the best weights of
each run are kept beside it (<i>Show files</i>). <i>File &gt; Export…</i> writes them as
weights, ONNX, a torch.export program, or a folder with plain PyTorch code and a
<code>train.py</code>.</li>
</ol>
<p>Every edit can be undone (<i>Edit &gt; Undo</i>). <i>Help &gt; Keyboard Shortcuts</i>
lists the keys.</p>
"""


def _plain(text: str) -> str:
    """A menu entry's text as shown: ``&Open…`` -> ``Open…``."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def menu_shortcuts(menu: QMenu) -> list[tuple[str, str]]:
    """``(entry, keys)`` for every action of ``menu`` (and its submenus) that has keys."""
    rows = []
    for action in menu.actions():
        if action.menu() is not None:
            rows.extend(menu_shortcuts(action.menu()))
        else:
            keys = [key.toString(NATIVE) for key in action.shortcuts() if _typed(key)]
            if keys:
                rows.append((_plain(action.text()), " or ".join(keys)))
    return rows


def _typed(sequence: QKeySequence) -> bool:
    """Whether ``sequence`` is typed on a common keyboard (not a dedicated Redo key)."""
    return not (sequence.count() == 1 and sequence[0].key() in _DEDICATED_KEYS)


def shortcut_sections(window) -> list[tuple[str, list[tuple[str, str]]]]:
    """The window's shortcuts, menu by menu, then the canvas's gestures."""
    sections = []
    for action in window.menuBar().actions():
        menu = action.menu()
        rows = menu_shortcuts(menu) if menu is not None else []
        if rows:
            sections.append((_plain(action.text()), rows))
    sections.append(("Canvas", list(CANVAS_GESTURES)))
    return sections


def shortcuts_html(window) -> str:
    """The shortcuts as an HTML page of one table per menu."""
    parts = ["<h2>Keyboard shortcuts</h2>"]
    for title, rows in shortcut_sections(window):
        parts.append(f"<h3>{html.escape(title)}</h3><table cellpadding='3'>")
        for entry, keys in rows:
            parts.append(
                f"<tr><td width='60%'>{html.escape(entry)}</td>"
                f"<td><b>{html.escape(keys)}</b></td></tr>"
            )
        parts.append("</table>")
    return "".join(parts)


def _page(parent, name: str, title: str, text: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    dialog.resize(560, 620)
    browser = QTextBrowser()
    browser.setOpenExternalLinks(True)
    browser.setHtml(text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


def show_shortcuts(window) -> QDialog:
    """Open Help > Keyboard Shortcuts (not modal: it can stay open while working)."""
    return _page(window, "shortcuts_page", "Keyboard Shortcuts", shortcuts_html(window))


def show_getting_started(window) -> QDialog:
    """Open Help > Getting Started (not modal)."""
    return _page(window, "getting_started_page", "Getting Started", GETTING_STARTED)
