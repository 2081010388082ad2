"""A project of several networks in the window: a canvas tab per network, one undo
stack each, the Network menu, and the overview of how the networks connect."""

import itertools
import json

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from engine import project as project_file
from nodeeditor import commands
from nodeeditor.document import Document
from nodeeditor.network_tabs import NameDialog
from nodeeditor.panels.palette import LAYER_MIME
from tests.nodeeditor.app_helpers import EXAMPLE, close_window, drop_on_view, open_window

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def node(node_id, type_name, x, params=None):
    return {"id": node_id, "type": type_name, "params": params or {}, "pos": [x, 40]}


def chain(*ids):
    return [{"from": [a, "out"], "to": [b, "in"]} for a, b in itertools.pairwise(ids)]


GAN = {
    "format": "deepwire",
    "version": 1,
    "networks": {
        "generator": {
            "nodes": [
                node("noise", "Input", 0, {"shape": [8]}),
                node("g1", "Linear", 220, {"out_features": 16}),
                node("g2", "Linear", 440, {"out_features": 2}),
                node("sample", "Output", 660),
            ],
            "edges": chain("noise", "g1", "g2", "sample"),
        },
        "discriminator": {
            "nodes": [
                node("point", "Input", 0, {"shape": [2]}),
                node("d1", "Linear", 220, {"out_features": 16}),
                node("d2", "Linear", 440, {"out_features": 1}),
                node("logit", "Output", 660),
            ],
            "edges": chain("point", "d1", "d2", "logit"),
        },
    },
    "training": {
        "recipe": "adversarial",
        "epochs": 1,
        "adversarial": {"generator": "generator", "discriminator": "discriminator"},
    },
}


def write_project(folder, data=GAN, name="gan.dwire"):
    path = folder / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path, write_project(tmp_path))
    yield window
    for page in window.document.pages:
        page.undo_stack.setClean()
    close_window(window)


def ids_on_canvas(view):
    return sorted(item.node_id for item in view.scene().node_items())


def press(qtbot, window, key, modifiers=Qt.KeyboardModifier.ControlModifier):
    """Press a key on the canvas shown, with the window active (as shortcuts need)."""
    qtbot.waitUntil(lambda: window.activateWindow() or QApplication.activeWindow() is window)
    qtbot.keyClick(window.view, key, modifiers)


def click_tab(qtbot, window, index):
    bar = window.network_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())


def when_shown(qtbot, act):
    """Run ``act(dialog)`` on the next modal dialog once it is up."""

    def run():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, run)
            return
        try:
            act(dialog)
        finally:
            if dialog.isVisible():
                dialog.reject()  # a failed step must not leave the test waiting

    QTimer.singleShot(0, run)


def type_name(qtbot, name, seen=None):
    """Answer the next network-name dialog by typing ``name`` and pressing Return;
    ``seen`` collects the refusal shown while typing each earlier attempt."""

    def act(dialog):
        assert isinstance(dialog, NameDialog)
        for attempt in [*(seen or {}), name]:
            dialog.edit.selectAll()
            qtbot.keyClicks(dialog.edit, attempt)
            if seen is not None and attempt in seen:
                seen[attempt] = dialog.problem.text()
                qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)  # refused: stays open
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)

    when_shown(qtbot, act)


def click_button(qtbot, text):
    def act(box):
        button = next(b for b in box.findChildren(QPushButton) if b.text() == text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    when_shown(qtbot, act)


# ------------------------------------------------------------------ tabs
def test_each_network_of_the_file_has_its_own_tab_with_its_nodes(window):
    tabs = window.network_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["generator", "discriminator"]
    assert tabs.tabBar().isVisible()
    assert ids_on_canvas(tabs.widget(0)) == ["g1", "g2", "noise", "sample"]
    assert ids_on_canvas(tabs.widget(1)) == ["d1", "d2", "logit", "point"]


def test_a_single_network_project_looks_as_before_no_tab_bar_no_overview(
    qtbot, monkeypatch, tmp_path
):
    window = open_window(qtbot, monkeypatch, tmp_path, EXAMPLE)
    assert window.network_tabs.count() == 1
    assert not window.network_tabs.tabBar().isVisible()
    assert not window.overview.isVisible()
    holder = window.centralWidget()
    assert window.view.size() == holder.size()  # the canvas fills its area, as before
    close_window(window)


def test_switching_tabs_switches_what_the_inspector_and_problems_show(window, qtbot):
    stray = commands.add_node(window.document.page("discriminator"), "Linear", (900, 300))
    click_tab(qtbot, window, 1)
    assert window.document.network.name == "discriminator"
    qtbot.waitUntil(lambda: any(stray in text for text in problems(window)))
    window.scene.select_nodes(["d1"])
    assert window.inspector.node_id == "d1"
    assert window.inspector.id_edit.text() == "d1"

    click_tab(qtbot, window, 0)
    assert window.document.network.name == "generator"
    assert window.inspector.node_id is None  # d1 is not in the generator
    assert not any(stray in text for text in problems(window))


def problems(window):
    rows = window.diagnostics.list
    return [rows.item(i).text() for i in range(rows.count())]


def test_a_layer_dropped_on_the_second_tab_lands_in_the_second_network(window, qtbot):
    click_tab(qtbot, window, 1)
    palette, view = window.palette_panel, window.view
    assert view is window.network_tabs.widget(1)
    mime = palette.tree.mimeData([palette.item("Dropout")])
    assert bytes(mime.data(LAYER_MIME)).decode() == "Dropout"
    drop_on_view(view, mime, QPoint(view.viewport().width() // 2, 20))
    networks = window.document.project.networks
    assert [n.type for n in networks["discriminator"].nodes].count("Dropout") == 1
    assert "Dropout" not in [n.type for n in networks["generator"].nodes]
    assert "dropout1" in ids_on_canvas(view)


def test_undo_on_a_tab_undoes_only_that_tabs_edit(window, qtbot):
    commands.set_params(window.document, "g1", {"out_features": 32})  # on the generator
    click_tab(qtbot, window, 1)
    commands.set_params(window.document, "d1", {"out_features": 64})
    nets = window.document.project.networks
    press(qtbot, window, Qt.Key.Key_Z)
    assert nets["discriminator"].node("d1").params["out_features"] == 16
    assert nets["generator"].node("g1").params["out_features"] == 32  # tab 1's edit stays
    assert not window.actions_by_name["undo"].isEnabled()  # tab 2 has nothing left to undo
    assert window.isWindowModified()  # the generator is still edited

    click_tab(qtbot, window, 0)
    assert window.actions_by_name["undo"].isEnabled()
    press(qtbot, window, Qt.Key.Key_Z)
    assert nets["generator"].node("g1").params["out_features"] == 16
    assert not window.isWindowModified()


def test_saving_and_reopening_keeps_every_network_in_order_with_positions(window, qtbot, tmp_path):
    click_tab(qtbot, window, 1)
    commands.move_nodes(window.document, {"d2": (470.0, 150.0)})
    assert window.isWindowModified()
    press(qtbot, window, Qt.Key.Key_S)
    assert not window.isWindowModified()
    again = Document.open(window.document.path)
    assert list(again.project.networks) == ["generator", "discriminator"]
    assert again.project.networks["discriminator"].node("d2").pos == (470, 150)
    assert project_file.dumps(again.project) == project_file.dumps(window.document.project)
    assert again.project.training == GAN["training"]


def test_an_edit_on_the_second_tab_is_kept_in_the_recovery_copy(window, qtbot):
    click_tab(qtbot, window, 1)
    commands.set_params(window.document, "d1", {"out_features": 48})
    assert window.autosaver.timer.isActive()
    assert window.autosaver.write_now()
    kept = project_file.load(window.autosaver.copy.project_path)
    assert kept.networks["discriminator"].node("d1").params["out_features"] == 48


# ------------------------------------------------------------------ the Network menu
def test_add_rename_and_delete_networks_with_their_keys(window, qtbot):
    document, tabs = window.document, window.network_tabs
    refused = {"2nd": "", "generator": ""}
    type_name(qtbot, "critic", refused)
    press(qtbot, window, Qt.Key.Key_N, CTRL_SHIFT)
    assert "must start with a letter" in refused["2nd"]
    assert "already has a network named 'generator'" in refused["generator"]
    assert [tabs.tabText(i) for i in range(tabs.count())] == [
        "generator",
        "discriminator",
        "critic",
    ]
    assert document.network.name == "critic" and len(document.network) == 0
    assert window.isWindowModified()

    type_name(qtbot, "gen")
    click_tab(qtbot, window, 0)
    press(qtbot, window, Qt.Key.Key_R, CTRL_SHIFT)
    assert tabs.tabText(0) == "gen"
    assert list(document.project.networks) == ["gen", "discriminator", "critic"]
    assert document.project.training["adversarial"]["generator"] == "gen"  # the GAN follows
    assert window.overview.summary().startswith("noise → gen → discriminator ← data")

    click_tab(qtbot, window, 2)
    click_button(qtbot, "Cancel")
    press(qtbot, window, Qt.Key.Key_Delete, CTRL_SHIFT)
    assert "critic" in document.project.networks  # asked, and kept
    click_button(qtbot, "Delete")
    press(qtbot, window, Qt.Key.Key_Delete, CTRL_SHIFT)
    assert list(document.project.networks) == ["gen", "discriminator"]
    assert tabs.count() == 2 and document.network.name == "discriminator"

    click_button(qtbot, "Delete")
    press(qtbot, window, Qt.Key.Key_Delete, CTRL_SHIFT)
    assert tabs.count() == 1 and not tabs.tabBar().isVisible()
    assert not window.actions_by_name["delete_network"].isEnabled()  # the last one stays


def test_ctrl_page_down_and_up_move_between_the_networks(window, qtbot):
    press(qtbot, window, Qt.Key.Key_PageDown)
    assert window.network_tabs.currentIndex() == 1
    press(qtbot, window, Qt.Key.Key_PageUp)
    assert window.network_tabs.currentIndex() == 0


# ------------------------------------------------------------------ the overview
def test_the_overview_draws_the_gan_flow_and_a_click_raises_the_tab(window, qtbot):
    overview = window.overview
    assert overview.isVisible() and overview.height() <= 40
    assert overview.summary() == "noise → generator → discriminator ← data"
    assert [box.label for box in overview.boxes] == ["noise", "generator", "discriminator", "data"]
    box = overview.boxes[2]
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=box.rect.center().toPoint())
    assert window.network_tabs.currentIndex() == 1
    assert window.document.network.name == "discriminator"
    noise = overview.boxes[0]
    qtbot.mouseClick(overview, Qt.MouseButton.LeftButton, pos=noise.rect.center().toPoint())
    assert window.network_tabs.currentIndex() == 1  # the noise is no network


def test_the_overview_marks_a_role_no_network_has_and_lists_plain_projects(
    qtbot, monkeypatch, tmp_path
):
    data = json.loads(json.dumps(GAN))
    data["training"]["adversarial"] = {"generator": "g" * 4000, "discriminator": ["d"]}
    window = open_window(qtbot, monkeypatch, tmp_path, write_project(tmp_path, data))
    boxes = window.overview.boxes
    assert [(b.label, b.missing) for b in boxes[1:3]] == [("g" * 64 + "…", True), ("?", True)]
    assert boxes[1].tip.startswith("No network is named 'gggg")
    assert [b.label for b in boxes[4:]] == ["generator", "discriminator"]  # still listed
    close_window(window)

    del data["training"]
    window = open_window(qtbot, monkeypatch, tmp_path, write_project(tmp_path, data, "two.dwire"))
    assert window.overview.isVisible()
    assert window.overview.summary() == "generator, discriminator"
    close_window(window)
