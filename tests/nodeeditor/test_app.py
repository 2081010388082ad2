"""The main window: menus and shortcuts, status bar, diagnostics, find, theme, docks,
locking, and the ``--screenshot`` command."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QInputDialog, QLabel, QTextBrowser

from nodeeditor import commands, dialogs, help_pages
from nodeeditor.app import SCREENSHOT_SIZE, run_app
from nodeeditor.document import Document
from nodeeditor.panels.diagnostics import NODE_ROLE
from nodeeditor.settings import Settings
from nodeeditor.window import MainWindow, find_node, format_count
from tests.nodeeditor.app_helpers import EXAMPLE, close_window, open_window

Key = QKeySequence.StandardKey


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


def test_standard_shortcuts(window):
    actions = window.actions_by_name
    for name, key in [
        ("new", Key.New),
        ("open", Key.Open),
        ("save", Key.Save),
        ("undo", Key.Undo),
        ("redo", Key.Redo),
        ("copy", Key.Copy),
        ("paste", Key.Paste),
        ("select_all", Key.SelectAll),
        ("find", Key.Find),
    ]:
        assert actions[name].shortcut() == QKeySequence(key), name
    assert actions["duplicate"].shortcut() == QKeySequence("Ctrl+D")
    assert actions["fit"].shortcut() == QKeySequence("F")


def test_undo_and_redo_actions_follow_the_documents_stack(window):
    undo = window.actions_by_name["undo"]
    assert not undo.isEnabled()
    commands.set_params(window.document, "fc1", {"out_features": 7})
    assert undo.isEnabled()
    undo.trigger()
    assert window.document.network.node("fc1").params["out_features"] == 64
    window.actions_by_name["redo"].trigger()
    assert window.document.network.node("fc1").params["out_features"] == 7


def test_edit_menu_deletes_and_duplicates_the_selection(window, qtbot):
    window.scene.select_nodes(["act1"])
    window.actions_by_name["delete"].trigger()
    assert "act1" not in window.document.network
    window.scene.select_nodes(["fc1"])
    count = len(window.document.network)
    window.actions_by_name["duplicate"].trigger()
    assert len(window.document.network) == count + 1


def test_status_bar_shows_parameters_macs_errors_and_warnings(window, qtbot):
    analysis = window.document.analysis
    labels = window.status_labels
    assert labels["params"].text() == f"Parameters: {analysis.total_params:,}"
    assert labels["macs"].text() == f"MACs: {format_count(analysis.total_macs)}"
    assert labels["errors"].text().endswith("0 errors")
    wire = next(w for w in window.document.network.wires if w.dst == "fc2")
    commands.disconnect(window.document, wire)
    qtbot.waitUntil(lambda: labels["errors"].text().endswith("1 error"))
    assert labels["params"].text() == f"Parameters: {window.document.analysis.total_params:,}"


def test_scene_messages_reach_the_status_bar(window):
    window.scene.message.emit("fc2 already has a wire")
    assert window.statusBar().currentMessage() == "fc2 already has a wire"


def test_clicking_a_problem_selects_and_centres_its_node(window, qtbot):
    wire = next(w for w in window.document.network.wires if w.dst == "fc2")
    commands.disconnect(window.document, wire)
    window.view.zoom_in()
    window.view.centerOn(-3000, -3000)
    panel = window.diagnostics

    def rows():
        return [panel.list.item(i) for i in range(panel.list.count())]

    qtbot.waitUntil(lambda: any(item.data(NODE_ROLE) == "fc2" for item in rows()))
    item = next(item for item in rows() if item.data(NODE_ROLE) == "fc2")
    assert item.icon().cacheKey() != rows()[-1].icon().cacheKey()  # error vs warning icon
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.scene.selected_node_ids() == ["fc2"]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    node_rect = window.scene.node_item("fc2").sceneBoundingRect()
    assert node_rect.adjusted(-20, -20, 20, 20).contains(centre)
    assert window.inspector.node_id == "fc2"


def test_find_layer_by_id_or_type(window, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("output", True))
    window.actions_by_name["find"].trigger()
    assert window.scene.selected_node_ids() == ["output"]
    assert find_node(window.document.network, "relu") == "act1"
    assert find_node(window.document.network, "fc2 (Linear)") == "fc2"
    assert find_node(window.document.network, "conv") is None


def test_theme_menu_switches_palette_and_is_remembered(window):
    app = QApplication.instance()
    window.actions_by_name["theme_dark"].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 100
    assert window.settings.theme() == "dark"
    window.actions_by_name["theme_light"].trigger()
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    assert window.actions_by_name["theme_light"].isChecked()


def test_docks_can_be_added_replaced_and_toggled(window):
    assert set(window.docks) >= {"palette", "inspector", "diagnostics", "training"}
    label = QLabel("curves")
    dock = window.add_dock("extra", "Extra", label)
    assert dock.toggleViewAction() in window.menus["panels"].actions()
    panel = QLabel("training panel")
    window.set_dock_widget("training", panel)
    assert window.docks["training"].widget() is panel
    shown = dock.isVisible()
    dock.toggleViewAction().trigger()
    assert dock.isVisible() != shown


def test_locking_disables_every_edit(window):
    window.set_editing_locked(True)
    assert window.scene.locked
    for name in ("delete", "paste", "duplicate", "undo", "auto_layout"):
        assert not window.actions_by_name[name].isEnabled(), name
    window.scene.select_nodes(["act1"])
    window.view.delete_selection()
    assert "act1" in window.document.network
    window.set_editing_locked(False)
    assert window.actions_by_name["delete"].isEnabled()


def test_document_changed_is_announced(window, tmp_path, qtbot):
    other = tmp_path / "other.dwire"
    other.write_text(EXAMPLE.read_text())
    with qtbot.waitSignal(window.document_changed) as blocker:
        window.open_file(other)
    assert blocker.args == [window.document]


def test_screenshot_writes_a_png_of_the_window_size(qapp, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPWIRE_SETTINGS", str(tmp_path / "settings.ini"))
    png = tmp_path / "shot.png"
    assert run_app(["--screenshot", str(png), str(EXAMPLE), "--theme", "light"]) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == SCREENSHOT_SIZE
    assert not (tmp_path / "settings.ini").exists()


def test_screenshot_of_a_bad_file_is_one_sentence_and_an_error_status(
    qapp, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("DEEPWIRE_SETTINGS", str(tmp_path / "settings.ini"))
    png = tmp_path / "shot.png"
    assert run_app(["--screenshot", str(png), str(tmp_path / "missing.dwire")]) != 0
    err = capsys.readouterr().err.strip()
    assert "missing.dwire" in err and len(err.splitlines()) == 1
    assert not png.exists()


def test_redo_answers_ctrl_y_as_well_as_the_platform_key(window, qtbot):
    redo = window.actions_by_name["redo"]
    keys = redo.shortcuts()
    assert QKeySequence("Ctrl+Y") in keys
    assert QKeySequence(Key.Redo) in keys  # the platform's own
    commands.set_params(window.document, "fc1", {"out_features": 7})
    window.actions_by_name["undo"].trigger()
    window.activateWindow()
    qtbot.keyClick(window.view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert window.document.network.node("fc1").params["out_features"] == 7


def test_help_menu_offers_getting_started_shortcuts_and_about(window):
    help_menu = window.menuBar().actions()[-1].menu()
    texts = [a.text() for a in help_menu.actions() if not a.isSeparator()]
    assert texts == ["&Getting Started", "&Keyboard Shortcuts", "&About Deepwire"]
    page = help_pages.show_getting_started(window)
    text = page.findChild(QTextBrowser).toPlainText()
    assert "Train" in text and "Export" in text and "Tab" in text
    page.close()


def test_the_shortcuts_page_is_made_from_the_menus_real_actions(window):
    page = help_pages.show_shortcuts(window)
    text = page.findChild(QTextBrowser).toPlainText()
    native = QKeySequence.SequenceFormat.NativeText
    for name in ("new", "open", "save", "undo", "redo", "find", "fit", "export", "quit"):
        for key in window.actions_by_name[name].shortcuts():
            if help_pages._typed(key):
                assert key.toString(native) in text, name
    assert "Ctrl+Y" in text and "mouse wheel" in text
    # a dedicated Redo key, which the platform's standard keys may include, is not listed
    redo_row = dict(dict(help_pages.shortcut_sections(window))["Edit"])["Redo"]
    assert redo_row.split(" or ") == [
        k.toString(native) for k in window.actions_by_name["redo"].shortcuts()
        if k[0].key() != Qt.Key.Key_Redo
    ]  # fmt: skip
    assert "Redo or" not in redo_row
    page.close()
    # an action added to a menu later is listed without touching the help
    extra = window.menus["view"].addAction("Frobnicate")
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    rows = dict(help_pages.shortcut_sections(window))["View"]
    assert ("Frobnicate", QKeySequence("Ctrl+Alt+K").toString(native)) in rows


def test_a_saved_layout_that_squeezes_the_canvas_is_not_restored(qtbot, monkeypatch, tmp_path):
    squeezed = open_window(qtbot, monkeypatch, tmp_path)
    squeezed.resizeDocks(
        [squeezed.docks["palette"], squeezed.docks["inspector"]],
        [700, 600],
        Qt.Orientation.Horizontal,
    )
    qtbot.waitUntil(squeezed.canvas_squeezed)
    geometry, state = squeezed.saveGeometry(), squeezed.saveState()
    close_window(squeezed)

    window = MainWindow(Document.open(EXAMPLE), Settings())
    qtbot.addWidget(window)
    window.restore_layout(geometry, state)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.canvas_squeezed())
    assert window.view.width() > 0.5 * window.width()
    close_window(window)


def test_new_and_open_keep_one_canvas_holder(window, tmp_path):
    holder = window.centralWidget()
    other = tmp_path / "other.dwire"
    other.write_text(EXAMPLE.read_text())
    window.open_file(other)
    window.new_file(dialogs.EMPTY_TEMPLATE)
    assert window.centralWidget() is holder  # replacing it squeezed the canvas
    assert window.network_tabs.currentWidget() is window.view
    assert window.network_tabs.count() == 1


def test_the_training_panel_is_built_when_its_tab_is_first_raised(window, qtbot):
    panel = window.training_panel
    assert not panel.built  # behind the Problems tab: no plots and no data load at start
    window.docks["training"].raise_()
    qtbot.waitUntil(lambda: panel.built and panel.dataset is not None, timeout=10_000)
    assert panel.plots.isVisible()
