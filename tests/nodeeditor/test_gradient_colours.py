"""View > Colour Nodes by Gradient: weighted nodes filled by their last epoch's gradient size.

A 10-layer Sigmoid MLP really trains for one epoch through the Training panel; its first
layer's gradient has vanished and the canvas must show it.
"""

from __future__ import annotations

import math
import os

import pytest

from engine import project as project_file
from engine.run_files import read_last_layers
from nodeeditor.document import Document
from nodeeditor.gradient_colours import format_norm, heat_of, level
from tests.engine.builders import chain
from tests.nodeeditor.app_helpers import click_train, close_window, open_window, show_training_panel

DEPTH = 10


@pytest.fixture(name="window")
def deep_sigmoid_window(qtbot, monkeypatch, tmp_path):
    """A window on a saved over-deep Sigmoid MLP for two moons (small data: a short epoch)."""
    layers = [("Linear", {"out_features": 32}), "Sigmoid"] * DEPTH
    network = chain(*layers, ("Linear", {"out_features": 2}), input_shape=(2,))
    settings = {"epochs": 1, "batch_size": 32, "optimizer": {"type": "SGD", "lr": 0.1}}
    data = {"name": "moons", "params": {"n_samples": 256}}
    project = project_file.Project({"model": network}, data, settings)
    path = tmp_path / "deep.dwire"
    project_file.save(project, path)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    yield window
    window.training_panel.shutdown()
    close_window(window)


def fills(window) -> dict:
    scene = window.scene
    return {item.node_id: item.fill(scene.theme, None) for item in scene.node_items()}


def test_the_first_layers_of_a_deep_sigmoid_mlp_fade_after_an_epoch(qtbot, window):
    first, last = "linear1", f"linear{2 * DEPTH + 1}"
    window.actions_by_name["gradient_colours"].trigger()
    assert all(item.heat == (None, "") for item in window.scene.node_items())  # no run yet
    click_train(qtbot, show_training_panel(qtbot, window, epochs=1))
    scene = window.scene
    low, high = scene.node_item(first).heat, scene.node_item(last).heat
    assert low[0] < high[0] - 0.2  # at least two decades apart on the scale
    assert fills(window)[first] != fills(window)[last]
    assert (
        "gradient norm" in scene.node_item(first).toolTip()
        and low[1] in scene.node_item(first).toolTip()
    )
    assert scene.node_item("sigmoid2").heat == (None, "")  # no weights: neutral
    window.actions_by_name["gradient_colours"].trigger()  # off: family colours again
    assert all(item.heat is None for item in scene.node_items())
    assert all(colour is None for colour in fills(window).values())

    # the same project opened again shows its last run's colours (from layers.csv)
    window.set_document(Document.open(window.document.path))
    window.actions_by_name["gradient_colours"].trigger()
    assert window.scene.node_item(first).heat == low
    window.set_document(Document())  # another project: nothing to show
    assert all(item.heat == (None, "") for item in window.scene.node_items())


def test_norms_sit_on_a_log_scale_and_odd_values_do_not_break_it():
    assert level(1e-8) == 0.0 and level(100.0) == 1.0 and level(1e-3) == pytest.approx(0.5)
    assert level(0.0) == 0.0 and level(math.inf) == 1.0 and level(math.nan) == 0.0
    assert level(1e-30) == 0.0 and level(1e30) == 1.0
    assert [format_norm(v) for v in (0.023, 1.4e-8, 3.2e4)] == ["0.023", "1.4e-08", "3.2e+04"]
    rows = [
        {"node": "fc1", "grad_norm": 0.01},
        {"node": "generator.fc1", "grad_norm": 1.0},  # a GAN's rows, by network
        {"node": "bad", "grad_norm": "not a number"},
        {"grad_norm": 1.0},
    ]
    found = heat_of(rows)
    assert set(found) == {"", "generator"} and set(found[""]) == {"fc1"}
    assert found["generator"]["fc1"] == (level(1.0), "1")


def last_epoch_rows(path):
    return read_last_layers(path, [])


def test_a_damaged_layers_csv_gives_no_colours(tmp_path):
    path = tmp_path / "layers.csv"
    assert last_epoch_rows(path) == []  # missing
    os.mkfifo(path)  # a pipe would block whoever opened it
    assert last_epoch_rows(path) == []
    path.unlink()
    path.write_bytes(b"\xff\xfe\x00garbage\x00" * 100)
    assert last_epoch_rows(path) == []
    path.write_text("epoch,node,grad_norm\n1,fc1,0.5\n2,fc1,nan\n2,fc2,1e999\n2,fc3\n")
    rows = last_epoch_rows(path)
    assert [r["node"] for r in rows] == ["fc1", "fc2", "fc3"]
    assert heat_of(rows)[""]["fc2"][0] == 1.0 and "fc3" not in heat_of(rows)[""]
