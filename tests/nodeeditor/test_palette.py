"""The palette: families from the catalogue, search, help tooltips, drag and double-click."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from engine.layers import CATALOGUE, families
from nodeeditor.panels.palette import LAYER_MIME
from tests.nodeeditor.app_helpers import close_window, drop_on_view, open_window


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    yield window
    close_window(window)


def test_every_catalogue_type_is_listed_under_its_family_with_help(window):
    palette = window.palette_panel
    assert palette.visible_types() == [s.name for specs in families().values() for s in specs]
    for item in palette.items():
        spec = CATALOGUE[item.text(0)]
        assert item.parent().text(0) == spec.family
        assert spec.help in item.toolTip(0)


def test_search_filters_by_name_and_help(window, qtbot):
    palette = window.palette_panel
    qtbot.keyClicks(palette.search, "conv")
    shown = palette.visible_types()
    assert shown and len(shown) < len(CATALOGUE)
    for name in shown:
        spec = CATALOGUE[name]
        assert "conv" in f"{name} {spec.family} {spec.help}".lower()
    hidden = set(CATALOGUE) - set(shown)
    assert all(
        "conv" not in f"{n} {CATALOGUE[n].family} {CATALOGUE[n].help}".lower() for n in hidden
    )
    palette.search.clear()
    assert len(palette.visible_types()) == len(CATALOGUE)


def test_search_with_no_match_hides_every_family(window, qtbot):
    palette = window.palette_panel
    qtbot.keyClicks(palette.search, "zzzqqq")
    assert palette.visible_types() == []
    root = palette.tree.invisibleRootItem()
    assert all(root.child(i).isHidden() for i in range(root.childCount()))


def test_dropping_a_palette_entry_on_the_canvas_adds_that_layer_there(window):
    palette, view = window.palette_panel, window.view
    mime = palette.tree.mimeData([palette.item("Linear")])
    assert bytes(mime.data(LAYER_MIME)).decode() == "Linear"
    point = QPoint(view.viewport().width() // 3, view.viewport().height() // 2)
    drop_on_view(view, mime, point)
    nodes = window.document.network.nodes
    assert [n.type for n in nodes] == ["Linear"]
    target = view.mapToScene(point)
    item = window.scene.node_item(nodes[0].id)
    assert item.sceneBoundingRect().adjusted(-40, -40, 40, 40).contains(target)
    window.document.undo_stack.undo()
    assert len(window.document.network) == 0


def test_enter_in_the_search_adds_the_first_match_at_the_view_centre(window, qtbot):
    palette = window.palette_panel
    qtbot.keyClicks(palette.search, "relu")
    first = palette.visible_types()[0]
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    nodes = window.document.network.nodes
    assert [n.type for n in nodes] == [first]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    rect = window.scene.node_item(nodes[0].id).sceneBoundingRect()
    assert rect.adjusted(-120, -120, 120, 120).contains(centre)
    assert window.scene.selected_node_ids() == [nodes[0].id]


def test_double_click_adds_a_layer(window, qtbot):
    palette = window.palette_panel
    item = palette.item("Dropout") or palette.items()[0]
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    qtbot.mouseClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(window.document.network) == 0
    qtbot.mouseDClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [n.type for n in window.document.network.nodes] == [item.text(0)]


def test_palette_is_disabled_while_editing_is_locked(window):
    window.set_editing_locked(True)
    assert not window.palette_panel.isEnabled()
    assert window.add_layer_at_centre("Linear") is None
    assert len(window.document.network) == 0


def test_typing_in_the_search_is_not_taken_by_shortcuts(window, qtbot):
    palette = window.palette_panel
    palette.search.setFocus()
    qtbot.keyClicks(palette.search, "fFlatten")  # F is also View > Fit
    qtbot.keyClick(palette.search, Qt.Key.Key_Home)
    qtbot.keyClick(palette.search, Qt.Key.Key_Delete)  # also Edit > Delete
    assert palette.search.text() == "Flatten"
    assert "Flatten" in palette.visible_types()
