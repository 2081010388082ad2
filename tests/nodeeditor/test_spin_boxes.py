"""Numbers beyond what a spin box holds (C int, double) are shown without a traceback.

The networks and settings are built in memory, as a script or a future importer could
build them, so no file check stands in the way.
"""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt

from engine.network import Network
from engine.project import Project
from nodeeditor.document import Document
from nodeeditor.panels.spin_boxes import FLOAT_LIMIT, INT_LIMIT, FloatSpinBox, IntSpinBox
from tests.nodeeditor.app_helpers import close_window, open_window

HUGE = 2**40


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path, None)
    yield window
    close_window(window)


def huge_project() -> Project:
    """input -> fc (out_features 2**40) -> drop (p 5e300) -> output, huge settings."""
    network = Network("model")
    for node_id, kind in [("input", "Input"), ("fc", "Linear"), ("drop", "Dropout"),
                          ("output", "Output")]:  # fmt: skip
        network.add_node(kind, node_id=node_id)
    for src, dst in [("input", "fc"), ("fc", "drop"), ("drop", "output")]:
        network.connect(src, "out", dst, "in")
    network.node("fc").params["out_features"] = HUGE
    network.node("drop").params["p"] = 5e300
    training = {"epochs": 10**20, "batch_size": 10**30, "optimizer": {"type": "SGD", "lr": 10**400}}
    dataset = {"name": "moons", "params": {"n_samples": 10**30, "noise": 10**400}}
    return Project({"model": network}, dataset, training)


def select(qtbot, window, node_id: str):
    window.scene.select_nodes([node_id])
    qtbot.waitUntil(lambda: window.inspector.node_id == node_id)
    return window.inspector.fields


def test_the_inspector_shows_an_int_beyond_a_spin_box_as_it_is(qtbot, window):
    window.set_document(Document(huge_project()))
    editor = select(qtbot, window, "fc")["out_features"].editor
    assert editor.text() == str(HUGE) and editor.value() == INT_LIMIT
    assert select(qtbot, window, "drop")["p"].editor.text() == "5e+300"
    field = select(qtbot, window, "fc")["out_features"]
    committed = []
    field.commit_requested.connect(committed.append)
    field.editor.setFocus()
    qtbot.keyClick(field.editor, Qt.Key.Key_Down)
    assert committed == [HUGE - 1]  # one step down from the real value, not from 2**31-1
    value = window.document.network.node("fc").params["out_features"]  # the engine decides
    qtbot.waitUntil(lambda: field.editor.text() == str(value))


def test_training_settings_beyond_a_spin_box_are_shown_clamped(window):
    window.set_document(Document(huge_project()))
    panel = window.training_panel
    form = panel.training_form
    for box in (form.epochs, form.batch_size, form.lr):
        assert box.minimum() <= box.value() <= box.maximum()
    fields = panel.dataset_form.fields
    assert fields["n_samples"].value() == fields["n_samples"].maximum()
    assert fields["noise"].value() == fields["noise"].maximum()
    assert window.document.project.training["batch_size"] == 10**30  # shown, not changed


@pytest.mark.parametrize(
    ("value", "expected"),
    [(HUGE, INT_LIMIT), (-HUGE, -INT_LIMIT), (1e300, INT_LIMIT), (7.0, 7), (math.inf, INT_LIMIT),
     (math.nan, 5), ("12", 5), (None, 5)],
)  # fmt: skip
def test_an_int_spin_box_clamps_and_ignores_what_is_not_a_number(qtbot, value, expected):
    box = IntSpinBox()
    qtbot.addWidget(box)
    box.setRange(-HUGE, HUGE)
    assert (box.minimum(), box.maximum()) == (-INT_LIMIT, INT_LIMIT)
    box.setValue(5)
    box.setValue(value)
    assert box.value() == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(10**400, FLOAT_LIMIT), (-(10**400), -FLOAT_LIMIT), (math.inf, FLOAT_LIMIT),
     (math.nan, 0.5), ("1", 0.5), (0.25, 0.25)],
)  # fmt: skip
def test_a_float_spin_box_clamps_and_ignores_what_is_not_a_number(qtbot, value, expected):
    box = FloatSpinBox()
    qtbot.addWidget(box)
    box.setRange(None, 10**400)
    box.setValue(0.5)
    box.setValue(value)
    assert box.value() == expected


def test_the_progress_bar_counts_more_batches_than_a_c_int_holds(qtbot):
    from nodeeditor.panels.training.status_bar import StatusProgress

    bar = StatusProgress()
    qtbot.addWidget(bar)
    bar.set_steps(3 * 10**9, 6 * 10**9)  # 100,000 epochs of 60,000 batches
    assert bar.maximum() <= INT_LIMIT and bar.value() / bar.maximum() == pytest.approx(0.5)
    bar.set_steps(6 * 10**9, 6 * 10**9)
    assert bar.value() == bar.maximum()
    bar.set_steps(7, 10)
    assert (bar.value(), bar.maximum()) == (7, 10)
