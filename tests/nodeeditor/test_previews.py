"""View > Show Previews: each node's output for one sample under it, the statistics on wires.

The previews are computed off the main thread by the real engine (``engine.insight``);
the tests wait for them to be shown, as a user waits to see them.
"""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QToolTip

from engine import project as project_file
from nodeeditor import commands, training_thread
from nodeeditor.canvas.preview_item import PreviewItem
from nodeeditor.document import Document
from tests.engine.builders import chain
from tests.nodeeditor.app_helpers import (
    ROOT,
    click_train,
    close_window,
    copy_of,
    open_window,
    show_training_panel,
)

CNN = ROOT / "resources" / "examples" / "digits_cnn.dwire"
WAIT_MS = 60_000


@pytest.fixture(name="window")
def cnn_window(qtbot, monkeypatch, tmp_path):
    """A window on a copy of the digits CNN example."""
    window = open_window(qtbot, monkeypatch, tmp_path, copy_of(CNN, tmp_path))
    yield window
    window.training_panel.shutdown()
    close_window(window)


def shown_after(qtbot, window, action):
    """Do ``action`` and wait until previews from after it are on the canvas."""
    with qtbot.waitSignal(window.previews.shown, timeout=WAIT_MS):
        action()


def show_previews(qtbot, window):
    shown_after(qtbot, window, window.actions_by_name["show_previews"].trigger)


def pictures(window) -> dict:
    return {
        item.node_id: item.preview.pixmap().toImage()
        for item in window.scene.node_items()
        if item.preview is not None
    }


def tooltip_at(qtbot, window, scene_point) -> str:
    """What Qt shows when the mouse comes to rest on ``scene_point`` of the canvas."""
    view = window.view
    view.centerOn(scene_point)
    point = view.mapFromScene(scene_point)
    QTest.mouseMove(view.viewport(), point)
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    text = QToolTip.text()
    QToolTip.hideText()
    return text


def wire_tooltip(qtbot, window, src: str, dst: str) -> str:
    """The tooltip of the wire ``src`` -> ``dst``, at its middle."""
    (item,) = [w for w in window.scene.wire_items() if (w.wire.src, w.wire.dst) == (src, dst)]
    return tooltip_at(qtbot, window, item.path().pointAtPercent(0.5))


def test_show_previews_puts_a_picture_under_every_node_and_takes_them_away(qtbot, window):
    show_previews(qtbot, window)
    scene = window.scene
    for item in scene.node_items():
        assert item.preview is not None and item.preview.scene() is scene, item.node_id
        body = item.mapRectToScene(item.body_rect())
        picture = item.preview.sceneBoundingRect()
        assert picture.top() > body.bottom() and abs(picture.center().x() - body.center().x()) < 1
        assert item.preview.zValue() < min(w.zValue() for w in scene.wire_items())  # wires on top
    preview = scene.node_item("conv1").preview
    assert "validation sample 0" in preview.toolTip()
    assert preview.size()[0] > 150  # its 16 maps in 2 rows fill the room under the node
    below = scene.node_item("fc1").preview  # on the last row: no wire runs over it
    tip = tooltip_at(qtbot, window, below.sceneBoundingRect().center())
    assert "fc1 (64)" in tip and "<img src='data:image/png;base64," in tip  # large
    window.scene.select_nodes(["pool2"])  # a moved node takes its picture along
    window.view.nudge_selection(0, 24)
    item = scene.node_item("pool2")
    assert item.preview.sceneBoundingRect().top() > item.mapRectToScene(item.body_rect()).bottom()
    shown_after(qtbot, window, lambda: window.view.auto_layout("TB"))  # wires leave downwards
    body = item.mapRectToScene(item.body_rect())
    assert item.preview.sceneBoundingRect().left() > body.right()  # so previews sit beside
    window.actions_by_name["show_previews"].trigger()
    assert not [i for i in scene.items() if isinstance(i, PreviewItem)]
    assert all(item.preview is None for item in scene.node_items())


def test_an_edit_in_the_inspector_updates_the_previews(qtbot, window):
    show_previews(qtbot, window)
    before = pictures(window)
    window.scene.select_nodes(["conv1"])
    qtbot.waitUntil(lambda: window.inspector.node_id == "conv1")
    editor = window.inspector.fields["out_channels"].editor
    editor.setFocus()
    editor.selectAll()

    def type_four():
        qtbot.keyClicks(editor, "4")
        qtbot.keyClick(editor, Qt.Key.Key_Return)

    shown_after(qtbot, window, type_four)
    assert window.document.network.node("conv1").params["out_channels"] == 4
    after = pictures(window)
    assert "(4, 8, 8)" in window.scene.node_item("conv1").preview.toolTip()
    assert after["conv1"] != before["conv1"] and after["input"] == before["input"]
    window.document.undo_stack.undo()
    qtbot.waitUntil(lambda: "(16, 8, 8)" in window.scene.node_item("conv1").preview.toolTip(),
                    timeout=WAIT_MS)  # fmt: skip
    assert pictures(window)["conv1"] == before["conv1"]  # random weights from a fixed seed


def test_hovering_a_wire_tells_its_shape_then_the_previewed_statistics(qtbot, window):
    plain = wire_tooltip(qtbot, window, "act1", "pool1")
    assert "(16, 8, 8)" in plain and "zeros" not in plain
    show_previews(qtbot, window)
    text = wire_tooltip(qtbot, window, "act1", "pool1")
    assert "(16, 8, 8)" in text and "% zeros" in text and "mean" in text and "std" in text
    assert "dead units" in text  # after a ReLU about half the units are off


def test_a_broken_node_shows_no_preview_and_the_others_still_do(qtbot, window):
    show_previews(qtbot, window)
    network = window.document.network
    wire = network.wire_into("conv2", "in")
    shown_after(qtbot, window, lambda: commands.disconnect(window.document, wire))
    scene = window.scene
    assert scene.node_item("conv2").mark == "error"
    fed = ("conv2", "act2", "pool2", "flatten", "fc1", "act3", "drop", "fc2", "output")
    assert all(scene.node_item(node).preview is None for node in fed)
    assert all(scene.node_item(node).preview is not None for node in ("input", "conv1", "pool1"))
    # an image into a Linear: fc1 and what it feeds break, the rest is shown
    shown_after(
        qtbot, window, lambda: commands.connect(window.document, "pool1", "out", "conv2", "in")
    )
    assert all(scene.node_item(node).preview is not None for node in fed)
    wire = network.wire_into("fc1", "in")
    shown_after(qtbot, window, lambda: commands.disconnect(window.document, wire))
    shown_after(
        qtbot, window, lambda: commands.connect(window.document, "pool1", "out", "fc1", "in")
    )
    assert scene.node_item("fc1").mark == "error"
    assert all(scene.node_item(node).preview is None for node in fed[4:])
    assert all(scene.node_item(node).preview is not None for node in fed[:4])


def test_another_sample_and_a_network_without_data(qtbot, window, monkeypatch):
    show_previews(qtbot, window)
    first = pictures(window)["input"]
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (5, True))
    shown_after(qtbot, window, window.actions_by_name["preview_sample"].trigger)
    assert pictures(window)["input"] != first
    assert "validation sample 5" in window.scene.node_item("input").preview.toolTip()
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    shown_after(qtbot, window, lambda: window.previews.set_sample(100_000))
    assert "made-up sample" in window.scene.node_item("input").preview.toolTip()
    assert any("no sample 100000" in m for m in messages)

    network = chain(("Linear", {"out_features": 8}), "ReLU", input_shape=(4,))
    shown_after(qtbot, window,
                lambda: window.set_document(Document(project_file.Project({"model": network}))))  # fmt: skip
    assert "made-up sample (no dataset)" in window.scene.node_item("relu2").preview.toolTip()
    assert all(item.preview is not None for item in window.scene.node_items())


def test_training_previews_its_weights_and_ends_on_the_kept_ones(qtbot, window):
    show_previews(qtbot, window)
    random = pictures(window)
    panel = show_training_panel(qtbot, window, epochs=1)
    seen = []
    window.previews.shown.connect(lambda: seen.append(window.previews.asked[2]))
    click_train(qtbot, panel)
    assert any(weights and weights[0] == "snapshot" for weights in seen)
    qtbot.waitUntil(lambda: seen and seen[-1] == ("kept", id(panel.kept)), timeout=WAIT_MS)
    trained = pictures(window)
    assert trained["input"] == random["input"] and trained["conv1"] != random["conv1"]


def test_weights_are_copied_only_while_previews_ask_and_at_most_at_their_rate(monkeypatch):
    clock, copies = [100.0], []

    class Worker:
        snapshot_every = None
        snapshot = type("Signal", (), {"emit": lambda self, state: copies.append(clock[0])})()

    class Recipe:
        copy_seconds = 0.0

        def weights(self):
            clock[0] += self.copy_seconds  # copying takes time
            return {"fc1.weight": 1}

    trainer = type("Trainer", (), {"recipe": Recipe()})()
    monkeypatch.setattr(training_thread.time, "monotonic", lambda: clock[0])
    listener = training_thread.WeightSnapshots(Worker())

    def batches(seconds: float) -> None:  # a batch every 0.1 s
        for _ in range(round(seconds * 10)):
            clock[0] += 0.1
            listener.on_batch_end(trainer, None)

    batches(3)
    assert copies == []  # previews off: nothing copied
    listener.worker.snapshot_every = 1.0
    batches(3)
    assert len(copies) == 3
    trainer.recipe.copy_seconds = 0.1  # a large model: copies at most 2 % of the time
    copies.clear()
    batches(20)
    assert len(copies) == 5 and min(b - a for a, b in itertools.pairwise(copies)) > 4.99


def test_damaged_weights_of_an_earlier_run_give_random_ones_and_a_sentence(
    qtbot, monkeypatch, tmp_path
):
    project = copy_of(CNN, tmp_path)
    run = tmp_path / "digits_cnn_runs" / "2026-01-01_00-00-00"
    run.mkdir(parents=True)
    (run / "weights.safetensors").write_bytes(b"\xff" * 8 + b'{"conv1.weight": ' + b"\x00" * 64)
    window = open_window(qtbot, monkeypatch, tmp_path, project)
    try:
        assert window.training_panel.kept is not None  # the newest run's, read when used
        messages = []
        window.statusBar().messageChanged.connect(messages.append)
        show_previews(qtbot, window)
        assert all(item.preview is not None for item in window.scene.node_items())
        assert any(m.startswith("Previews use random weights:") for m in messages), messages
    finally:
        close_window(window)
