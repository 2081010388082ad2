"""The window's small dialogs, each one function around a Qt static dialog.

Keeping them here gives the window one place to ask the user things, and lets tests
replace the Qt static methods (``QMessageBox.question``, ``QFileDialog.getOpenFileName``,
``QInputDialog.getItem``) so that nothing blocks.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

FILE_FILTER = "Deepwire projects (*.dwire);;All files (*)"
SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
EMPTY_TEMPLATE = "Empty network"


def ask_save_changes(parent: QWidget, title: str) -> str:
    """Ask whether to save ``title``'s changes; returns SAVE, DISCARD or CANCEL."""
    button = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        f"{title} has changes that are not saved. Save them first?",
        button.Save | button.Discard | button.Cancel,
        button.Save,
    )
    if answer == button.Save:
        return SAVE
    if answer == button.Discard:
        return DISCARD
    return CANCEL


def show_error(parent: QWidget, title: str, message: str) -> None:
    """Tell the user something failed, in the engine's own words."""
    QMessageBox.critical(parent, title, message)


def open_path(parent: QWidget, folder: str = "") -> Path | None:
    """Ask for a project file to open; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", folder, FILE_FILTER)
    return Path(path) if path else None


def save_path(parent: QWidget, suggestion: str = "") -> Path | None:
    """Ask where to save; adds ``.dwire`` when no suffix was typed; None when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save project", suggestion, FILE_FILTER)
    if not path:
        return None
    path = Path(path)
    return path if path.suffix else path.with_suffix(".dwire")


def choose_template(parent: QWidget, templates: dict[str, Path]) -> Path | str | None:
    """Ask how to start a new project.

    Returns:
        A template's path, ``EMPTY_TEMPLATE`` for an empty network, or None when
        cancelled.
    """
    names = [EMPTY_TEMPLATE, *templates]
    label = "Start the new project from an example, or from an empty network:"
    choice, ok = QInputDialog.getItem(parent, "New project", label, names, 0, False)
    if not ok:
        return None
    return templates.get(choice, EMPTY_TEMPLATE)


def ask_layer(parent: QWidget, entries: list[str]) -> str | None:
    """Ask which layer to find; ``entries`` are ``"id (Type)"``; returns the text typed."""
    text, ok = QInputDialog.getItem(parent, "Find layer", "Layer id or type:", entries, 0, True)
    return text.strip() if ok and text.strip() else None


def show_about(parent: QWidget) -> None:
    """The About box: what Deepwire is, in two sentences."""
    QMessageBox.about(
        parent,
        "About Deepwire",
        "<h3>Deepwire</h3><p>Design neural networks by drawing them: the network is "
        "checked and its shapes are shown while you draw, it trains live, and it exports "
        "as weights, ONNX, a torch.export program or readable PyTorch code.</p>",
    )


def with_browse(edit: QLineEdit, slot) -> QWidget:
    """``edit`` with a Browse… button after it that calls ``slot``: a form's file row."""
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit)
    button = QPushButton("Browse…")
    button.clicked.connect(slot)
    layout.addWidget(button)
    return row
