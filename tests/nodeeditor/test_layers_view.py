"""The Layers tab: per-layer curves and histograms of a run, live, from the engine's rows.

The first test trains the digits MLP through the panel like a user and compares what the
tab draws with the run's own layers.csv.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.training.core.events import EpochEnd
from engine.training.core.layer_stats import Histogram
from nodeeditor.panels.training.layers_view import SHOWN_AT_FIRST, LayersView
from tests.nodeeditor.app_helpers import (
    ROOT,
    click_train,
    close_window,
    copy_of,
    open_window,
    show_training_panel,
)

EXAMPLES = ROOT / "resources" / "examples"

LEFT = Qt.MouseButton.LeftButton


def _layers_csv(folder) -> list[dict]:
    with open(folder / "layers.csv") as stream:
        return list(csv.DictReader(stream))


def test_a_run_draws_a_curve_per_layer_with_its_values_and_its_histograms(qtbot, window):
    panel = show_training_panel(qtbot, window, epochs=2)
    click_train(qtbot, panel)
    assert panel.kept is not None, panel.error_label.text()
    view = panel.layers_view
    panel.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view.stale and not view.timer.isActive(), timeout=5_000)
    table = _layers_csv(panel.run_dir)
    nodes = list(dict.fromkeys(row["node"] for row in table))
    assert view.nodes == nodes and view.layer_list.count() == len(nodes) > 1
    for row in table:
        for key in ("grad_norm", "weight_norm", "update_ratio"):
            xs, ys = view.curves[key, row["node"]].getOriginalDataset()
            assert list(xs) == [1, 2] and view.curves[key, row["node"]].isVisible()
            assert ys[int(row["epoch"]) - 1] == pytest.approx(float(row[key]), rel=1e-5)
    assert view.plots["grad_norm"].getAxis("left").logMode  # gradients span decades
    first = nodes[0]
    assert view.selected_node() == first and view.shown_epoch() == 2
    edges, counts = view.histogram_curves["weights"].getData()
    size = sum(p.numel() for n, p in panel.kept.state.items() if n.startswith(first + "."))
    assert len(edges) == 31 and counts.sum() == size
    assert view.histogram_curves["gradients"].getData()[1].sum() == size
    latest = counts.copy()
    view.slider.setValue(0)  # the first epoch's weights
    assert view.shown_epoch() == 1 and "epoch 1" in view.epoch_label.text()
    assert not np.array_equal(view.histogram_curves["weights"].getData()[1], latest)
    last = view.layer_list.item(len(nodes) - 1)
    qtbot.mouseClick(
        view.layer_list.viewport(), LEFT, pos=view.layer_list.visualItemRect(last).center()
    )
    assert nodes[-1] in view.histogram_plots["weights"].titleLabel.text

    panel.training_form.epochs.setValue(1)
    click_train(qtbot, panel)  # a new run starts afresh
    panel.tabs.setCurrentWidget(view)  # the run's end raised its results
    qtbot.waitUntil(lambda: not view.stale and not view.timer.isActive(), timeout=5_000)
    assert list(view.curves["grad_norm", first].getData()[0]) == [1]


def _epoch(epoch: int, nodes: list[str], grad=1.0) -> EpochEnd:
    rows = [{"epoch": epoch, "node": n, "weight_norm": 1.0, "grad_norm": grad,
             "update_ratio": 0.0} for n in nodes]  # fmt: skip
    hist = Histogram((0.0, 0.5, 1.0), (1, 2), 3, 1.5, 1.0)
    histograms = {n: {"weights": hist, "gradients": hist} for n in nodes}
    return EpochEnd(epoch, 99, {"loss": 1.0}, {}, 0.1, 1.0, 1.0, False, {}, rows, histograms)


def test_a_deep_network_shows_a_dozen_layers_and_keeps_few_histograms(qtbot):
    view = LayersView()
    qtbot.addWidget(view)
    view.show()
    nodes = [f"linear{i}" for i in range(40)]
    for epoch in range(1, 81):
        view.add_epoch(_epoch(epoch, nodes))
    view.refresh()
    shown = [n for n in nodes if view.curves["grad_norm", n].isVisible()]
    assert len(shown) == SHOWN_AT_FIRST and shown[0] == nodes[0] and shown[-1] == nodes[-1]
    assert view.layer_list.item(1).checkState().name == "Unchecked"
    assert view.histograms.keys() >= {1, 80} and len(view.histograms) <= 60
    ys = view.curves["update_ratio", nodes[0]].getOriginalDataset()[1]
    assert np.isnan(ys).all()  # nothing moved: no point on a log axis
    view.layer_list.item(1).setCheckState(view.layer_list.item(0).checkState())
    assert view.curves["grad_norm", nodes[1]].isVisible()


@pytest.fixture(name="cnn_window")
def cnn_window(qtbot, monkeypatch, tmp_path):
    window = open_window(
        qtbot, monkeypatch, tmp_path, copy_of(EXAMPLES / "digits_cnn.dwire", tmp_path)
    )
    yield window
    window.training_panel.shutdown()
    close_window(window)


def test_the_filters_tab_shows_the_first_convolutions_filters_beside_their_start(qtbot, cnn_window):
    from engine.insight.render import filters_picture
    from engine.training.filters import shown

    panel = show_training_panel(qtbot, cnn_window, epochs=1)
    view = panel.filters_view
    click_train(qtbot, panel)
    assert panel.kept is not None, panel.error_label.text()
    panel.tabs.setCurrentWidget(view)
    assert [view.layer_box.itemText(i) for i in range(view.layer_box.count())] == ["conv1", "conv2"]
    assert view.current_key() == "conv1.weight" and view.start_picture.isVisible()
    learned = filters_picture(shown(panel.kept.state["conv1.weight"]))
    assert np.array_equal(view.end_picture.rgb, learned)
    assert view.start_picture.rgb.shape == learned.shape  # 16 tiles of 3x3 each
    assert not np.array_equal(view.start_picture.rgb, learned)
    assert view.change_picture.rgb.shape == learned.shape
    assert view.start_picture.pixmap().width() >= 120
    assert "conv1: 16 filters; training moved them" in view.message.text()
    view.layer_box.setCurrentIndex(1)
    assert (
        view.end_picture.rgb.shape != learned.shape
        and "32 filters of 16 channels" in view.message.text()
    )
