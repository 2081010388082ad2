"""The window's actions, menus and toolbar.

``build_actions(window)`` creates every QAction once, with the platform's standard
shortcut where Qt has one (``QKeySequence.StandardKey``), and connects it to a method
of the window. ``build_menus`` and ``build_toolbar`` lay them out. Actions are kept in
``window.actions_by_name`` so that tests and other panels can find them by name.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle

from nodeeditor import (
    block_actions,
    dialogs,
    export_dialog,
    help_pages,
    icons,
    import_dialog,
    network_tabs,
    weights_actions,
)

Key = QKeySequence.StandardKey

# Actions that change the project's networks: disabled while editing is locked.
EDIT_ACTIONS = (
    "cut", "paste", "duplicate", "delete", "auto_layout", "undo", "redo",
    "add_network", "rename_network", "delete_network", *block_actions.EDITING,
)  # fmt: skip


def _action(window, text, slot, shortcut=None, icon=None, tip=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if isinstance(icon, str):
        action.setProperty("icon_name", icon)
        action.setIcon(icons.icon(icon))
    elif icon is not None:
        action.setIcon(icon)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda checked=False: slot())
    return action


def build_actions(window: QMainWindow) -> dict[str, QAction]:
    """Create the window's actions, keyed by name."""
    w = window
    std = window.style().standardIcon
    actions = {
        "new": _action(w, "&New…", w.new_file, Key.New, "new", "Start a new project"),
        "open": _action(w, "&Open…", w.open_file, Key.Open, "open", "Open a project"),
        "save": _action(w, "&Save", w.save, Key.Save, "save", "Save the project"),
        "save_as": _action(w, "Save &As…", w.save_as, Key.SaveAs),
        "quit": _action(w, "&Quit", w.close, Key.Quit),
        "cut": _action(w, "Cu&t", w.cut, Key.Cut),
        "copy": _action(w, "&Copy", lambda: w.view.copy_selection(), Key.Copy),
        "paste": _action(w, "&Paste", lambda: w.view.paste(), Key.Paste),
        "duplicate": _action(w, "D&uplicate", lambda: w.view.duplicate_selection(), "Ctrl+D"),
        "delete": _action(w, "&Delete", lambda: w.view.delete_selection(), Key.Delete),
        "select_all": _action(w, "Select &All", lambda: w.view.select_all(), Key.SelectAll),
        "find": _action(w, "&Find Layer…", w.find_layer, Key.Find, "find", "Find a layer"),
        "zoom_in": _action(w, "Zoom &In", lambda: w.view.zoom_in(), Key.ZoomIn, "zoom_in"),
        "zoom_out": _action(w, "Zoom &Out", lambda: w.view.zoom_out(), Key.ZoomOut, "zoom_out"),
        "fit": _action(
            w, "&Fit Network", lambda: w.view.fit(), "F", "fit", "Show the whole network"
        ),
        "auto_layout": _action(
            w, "Auto-&layout", lambda: w.view.auto_layout(), "Ctrl+L", "layout", "Tidy the layout"
        ),
    }
    actions["about"] = _action(w, "&About Deepwire", lambda: dialogs.show_about(w))
    actions["getting_started"] = _action(
        w, "&Getting Started", lambda: help_pages.show_getting_started(w), Key.HelpContents,
        None, "How to draw, train and export a first network",
    )  # fmt: skip
    actions["shortcuts"] = _action(
        w, "&Keyboard Shortcuts", lambda: help_pages.show_shortcuts(w), "Ctrl+/", None,
        "Every key of the menus and the canvas",
    )  # fmt: skip
    actions["export"] = _action(
        w, "&Export…", lambda: export_dialog.export_from_window(w), "Ctrl+Shift+E", None,
        "Export the network: weights, ONNX, a torch.export program or a PyTorch folder",
    )  # fmt: skip
    actions["import_model"] = _action(
        w, "&Import Model…", lambda: import_dialog.import_from_window(w), "Ctrl+Shift+I", None,
        "Import a PyTorch model (.py, runs its code) or an ONNX file as a project",
    )  # fmt: skip
    actions["load_weights"] = _action(
        w, "&Load Weights…", lambda: weights_actions.load_weights_from_window(w), None, None,
        "Load trained weights for this network (all nodes, or those that still fit)",
    )  # fmt: skip
    _add_network_actions(w, actions)
    block_actions.add_actions(w, actions, _action)
    actions["train"] = _action(
        w, "&Train", w.train_from_menu, "F5", None,
        "Train the project's network(s) on its dataset (shows the Training panel)",
    )  # fmt: skip
    actions["stop_training"] = _action(
        w, "&Stop Training", lambda: w.training_panel.stop_training(), "Shift+F5", None,
        "Stop the run after its current batch; its best weights are kept",
    )  # fmt: skip
    if actions["quit"].shortcut().isEmpty():
        actions["quit"].setShortcut(QKeySequence("Ctrl+Q"))
    if actions["delete"].shortcut().isEmpty():
        actions["delete"].setShortcut(QKeySequence("Del"))
    actions["quit"].setIcon(std(QStyle.StandardPixmap.SP_DialogCloseButton))
    undo = w.undo_group.createUndoAction(w, "&Undo")
    undo.setShortcut(QKeySequence(Key.Undo))
    undo.setProperty("icon_name", "undo")
    undo.setIcon(icons.icon("undo"))
    redo = w.undo_group.createRedoAction(w, "&Redo")
    redo.setShortcuts(redo_keys())
    redo.setProperty("icon_name", "redo")
    redo.setIcon(icons.icon("redo"))
    actions["undo"], actions["redo"] = undo, redo
    _add_theme_actions(w, actions)
    _add_layout_direction_actions(w, actions)
    _add_insight_actions(w, actions)
    return actions


def _toggle(window, text: str, slot, tip: str, shortcut: str | None = None) -> QAction:
    """A checkable action that calls ``slot(checked)``."""
    action = QAction(text, window, checkable=True)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.toggled.connect(slot)
    return action


def _add_insight_actions(window, actions: dict[str, QAction]) -> None:
    """View > Show Previews, Preview Sample…, Colour Nodes by Gradient: what the
    network does, on the canvas."""
    w = window
    actions["show_previews"] = _toggle(
        w, "Show &Previews", lambda on: w.previews.set_enabled(on),
        "Show each layer's output for one sample under its node", "Ctrl+Shift+P",
    )  # fmt: skip
    actions["preview_sample"] = _action(
        w, "Preview &Sample…", lambda: w.previews.ask_sample(), None, None,
        "Choose the validation sample the previews show",
    )  # fmt: skip
    actions["gradient_colours"] = _toggle(
        w, "Colour Nodes by &Gradient", lambda on: w.gradient_colours.set_enabled(on),
        "Fill each layer by the size of its gradient in the last epoch (faded: it barely "
        "learns; hot: large)",
    )  # fmt: skip


def _add_network_actions(window, actions: dict[str, QAction]) -> None:
    """Network menu: add, rename, delete a network, and move between their tabs."""
    w = window
    actions["add_network"] = _action(
        w, "&Add Network…", lambda: network_tabs.add_network(w), "Ctrl+Shift+N", None,
        "Add an empty network to the project, on its own tab",
    )  # fmt: skip
    actions["rename_network"] = _action(
        w, "&Rename Network…", lambda: network_tabs.rename_network(w), "Ctrl+Shift+R", None,
        "Rename the network shown",
    )  # fmt: skip
    actions["delete_network"] = _action(
        w, "&Delete Network…", lambda: network_tabs.delete_network(w), "Ctrl+Shift+Del", None,
        "Delete the network shown (asks first; a project keeps at least one)",
    )  # fmt: skip
    actions["next_network"] = _action(
        w, "&Next Network", lambda: w.show_next_network(1), "Ctrl+PgDown", None,
        "Show the next network's tab",
    )  # fmt: skip
    actions["previous_network"] = _action(
        w, "&Previous Network", lambda: w.show_next_network(-1), "Ctrl+PgUp", None,
        "Show the previous network's tab",
    )  # fmt: skip


def redo_keys() -> list[QKeySequence]:
    """Redo's keys: the platform's own (Ctrl+Shift+Z on Linux), and Ctrl+Y everywhere."""
    own, extra = QKeySequence(Key.Redo), QKeySequence("Ctrl+Y")
    return [own] if own == extra else [own, extra]


def _add_theme_actions(window, actions: dict[str, QAction]) -> None:
    group = QActionGroup(window)
    group.setExclusive(True)
    for name, text in (("system", "Follow &System"), ("dark", "&Dark"), ("light", "&Light")):
        action = QAction(text, window, checkable=True)
        action.triggered.connect(lambda checked=False, n=name: window.set_theme(n))
        group.addAction(action)
        actions[f"theme_{name}"] = action


def _add_layout_direction_actions(window, actions: dict[str, QAction]) -> None:
    """View > Layout Direction: how Auto-layout and new networks place the nodes
    (remembered in the settings)."""
    group = QActionGroup(window)
    group.setExclusive(True)
    chosen = window.settings.layout_direction()
    for direction, text in (("LR", "&Left to Right"), ("TB", "&Top to Bottom")):
        action = QAction(text, window, checkable=True)
        action.setChecked(direction == chosen)
        action.setStatusTip(f"Auto-layout places the nodes {text.replace('&', '').lower()}")
        action.triggered.connect(
            lambda checked=False, d=direction: window.settings.set_layout_direction(d)
        )
        group.addAction(action)
        actions[f"layout_{direction.lower()}"] = action


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> dict:
    """Lay the actions out in the File, Edit and View menus; returns the menus by name."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(actions["new"])
    file_menu.addAction(actions["open"])
    recent = file_menu.addMenu("Open &Recent")
    recent.aboutToShow.connect(window.fill_recent_menu)
    file_menu.addSeparator()
    file_menu.addAction(actions["save"])
    file_menu.addAction(actions["save_as"])
    file_menu.addAction(actions["load_weights"])
    file_menu.addAction(actions["import_model"])
    file_menu.addAction(actions["export"])
    file_menu.addSeparator()
    file_menu.addAction(actions["quit"])

    edit = bar.addMenu("&Edit")
    for name in ("undo", "redo", None, "cut", "copy", "paste", "duplicate", "delete", None):
        edit.addSeparator() if name is None else edit.addAction(actions[name])
    edit.addAction(actions["select_all"])
    edit.addAction(actions["find"])
    edit.addSeparator()
    for name in block_actions.MENU:
        edit.addSeparator() if name is None else edit.addAction(actions[name])

    network = bar.addMenu("&Network")
    for name in ("add_network", "rename_network", "delete_network", None):
        network.addSeparator() if name is None else network.addAction(actions[name])
    network.addAction(actions["next_network"])
    network.addAction(actions["previous_network"])
    network.addSeparator()
    network.addAction(actions["train"])
    network.addAction(actions["stop_training"])

    view = bar.addMenu("&View")
    for name in ("zoom_in", "zoom_out", "fit", "auto_layout"):
        view.addAction(actions[name])
    direction = view.addMenu("Layout &Direction")
    direction.addAction(actions["layout_lr"])
    direction.addAction(actions["layout_tb"])
    view.addSeparator()
    for name in ("show_previews", "preview_sample", "gradient_colours"):
        view.addAction(actions[name])
    view.addSeparator()
    theme = view.addMenu("&Theme")
    for name in ("system", "dark", "light"):
        theme.addAction(actions[f"theme_{name}"])
    view.addSeparator()
    panels = view.addMenu("&Panels")
    help_menu = bar.addMenu("&Help")
    for name in ("getting_started", "shortcuts", None, "about"):
        help_menu.addSeparator() if name is None else help_menu.addAction(actions[name])
    return {
        "file": file_menu, "recent": recent, "edit": edit, "network": network, "view": view,
        "panels": panels,
    }  # fmt: skip


def build_toolbar(window: QMainWindow, actions: dict[str, QAction]):
    """The main toolbar: files, undo, view."""
    bar = window.addToolBar("Main")
    bar.setObjectName("main_toolbar")
    bar.setMovable(False)
    for name in ("new", "open", "save", None, "undo", "redo", None, "zoom_out", "zoom_in", "fit"):
        bar.addSeparator() if name is None else bar.addAction(actions[name])
    bar.addAction(actions["auto_layout"])
    bar.addAction(actions["find"])
    return bar
