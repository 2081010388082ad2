"""End to end: build the digits MLP on an empty canvas like a user does, then save it.

Layers come from the palette by drag and drop, parameters are typed into the
inspector, wires are dragged from port to port, and the file is saved with Save As.
"""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QFileDialog

from engine import project as project_file
from tests.nodeeditor.app_helpers import EXAMPLE, close_window, drop_on_view, open_window

LEFT, NO_MOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    yield window
    close_window(window)


def port_point(window, node_id, name, output):
    item = window.scene.node_item(node_id)
    port = (item.outputs if output else item.inputs)[name]
    return window.view.mapFromScene(port.scenePos())


def drag(qtbot, viewport, start: QPoint, end: QPoint):
    QTest.mousePress(viewport, LEFT, NO_MOD, start)
    for k in range(1, 5):
        QTest.mouseMove(viewport, start + (end - start) * (k / 4))
    QTest.mouseRelease(viewport, LEFT, NO_MOD, end)
    qtbot.wait(1)


def type_into(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_build_the_mlp_by_dragging_from_the_palette_and_between_ports(
    window, qtbot, monkeypatch, tmp_path
):
    view, palette = window.view, window.palette_panel
    view.zoom_out()
    view.zoom_out()
    viewport = view.viewport()
    types = ["Input", "Linear", "ReLU", "Linear", "Output"]
    step = viewport.width() // 6
    for index, type_name in enumerate(types):
        point = QPoint(step // 2 + index * step, viewport.height() // 2 + (index % 2) * 90)
        drop_on_view(view, palette.tree.mimeData([palette.item(type_name)]), point)
    network = window.document.network
    ids = [node.id for node in network.nodes]
    assert [network.node(i).type for i in ids] == types

    window.scene.select_nodes([ids[0]])
    type_into(qtbot, window.inspector.fields["shape"].editor, "64")
    window.scene.select_nodes([ids[3]])
    type_into(qtbot, window.inspector.fields["out_features"].editor, "10")
    window.scene.select_nodes([ids[1]])
    type_into(qtbot, window.inspector.fields["out_features"].editor, "64")

    for src, dst in itertools.pairwise(ids):
        drag(
            qtbot,
            viewport,
            port_point(window, src, "out", True),
            port_point(window, dst, "in", False),
        )
    qtbot.waitUntil(lambda: window.status_labels["errors"].text().endswith("0 errors"))
    assert window.document.analysis.ok

    example = project_file.load(EXAMPLE).network
    rename = dict(zip(ids, [n.id for n in example.nodes]))
    drawn = {(rename[w.src], w.src_port, rename[w.dst], w.dst_port) for w in network.wires}
    assert drawn == {(w.src, w.src_port, w.dst, w.dst_port) for w in example.wires}
    assert [network.node(i).params for i in ids] == [n.params for n in example.nodes]
    assert (
        window.status_labels["params"].text()
        == f"Parameters: {window.document.analysis.total_params:,}"
    )

    target = tmp_path / "mlp.dwire"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.actions_by_name["save"].trigger()
    assert not window.isWindowModified()
    reloaded = project_file.load(target)
    assert project_file.dumps(reloaded) == project_file.dumps(window.document.project)
