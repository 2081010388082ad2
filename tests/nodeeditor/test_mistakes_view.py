"""The Mistakes tab: after a run, the wrong validation samples, per-class accuracy, and why.

The first test trains the digits MLP for one epoch through the panel, like a user, and
compares what the tab lists with the engine's own report on the kept weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt

from engine.compile import compile_network
from engine.insight.mistakes import project_mistakes
from engine.project import Project, load
from nodeeditor.panels.training.mistakes_gallery import CONFIDENCE, TRUE
from nodeeditor.panels.training.mistakes_view import MistakesView
from tests.engine.builders import chain
from tests.nodeeditor.app_helpers import click_train, show_training_panel

LEFT = Qt.MouseButton.LeftButton
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def click_section(qtbot, header, section: int) -> None:
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(x, header.height() // 2))


def click_item(qtbot, view, row: int) -> None:
    index = view.model().index(row, 0)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())


def test_after_a_run_the_tab_lists_the_engines_mistakes_sorts_filters_and_explains(qtbot, window):
    panel = show_training_panel(qtbot, window, epochs=1)
    click_train(qtbot, panel)
    assert panel.kept is not None, panel.error_label.text()
    view = panel.mistakes
    panel.tabs.setCurrentWidget(view)
    report = project_mistakes(panel.document.project, panel.kept.path, device="cpu")
    expected = {m.index for m in report.mistakes()}
    gallery = view.gallery
    shown = gallery.shown()
    assert 0 < len(shown) == len(expected) and {m.index for m in shown} == expected
    assert [m.confidence for m in shown] == sorted((m.confidence for m in shown), reverse=True)
    assert gallery.view() is gallery.grid  # digits are images: a grid of thumbnails
    assert f"{len(expected)} of 359 validation samples wrong" in view.summary.text()

    click_section(qtbot, gallery.header, TRUE)  # a first click: by true class, upwards
    trues = [m.true for m in gallery.shown()]
    assert trues == sorted(trues) and len(set(trues)) > 1
    confidences = [m.confidence for m in gallery.shown() if m.true == trues[0]]
    assert confidences == sorted(confidences, reverse=True)  # the most confident first
    click_section(qtbot, gallery.header, TRUE)  # again: downwards
    assert [m.true for m in gallery.shown()] == sorted(trues, reverse=True)
    click_section(qtbot, gallery.header, CONFIDENCE)
    assert gallery.shown() == shown  # back to the most confident first

    worst = min(report.per_class(), key=lambda c: c.accuracy)
    table = view.classes
    assert table.columnCount() == 10 and table.item(2, worst.label).text() == str(worst.count)
    cell = table.visualItemRect(table.item(0, worst.label)).center()
    qtbot.mouseClick(table.viewport(), LEFT, pos=cell)
    only = gallery.shown()
    assert {m.true for m in only} == {worst.label}
    assert len(only) == worst.count - worst.correct
    assert view.all_button.isVisible()  # only while one class is shown
    qtbot.mouseClick(view.all_button, LEFT)
    assert len(gallery.shown()) == len(expected) and not view.all_button.isVisible()

    click_item(qtbot, gallery.grid, 0)
    first = gallery.shown()[0]
    sample, saliency, gradcam = view.detail.pictures
    qtbot.waitUntil(saliency.isVisible, timeout=20_000)  # worked out in the background
    assert sample.isVisible() and saliency.isVisible() and not gradcam.isVisible()  # no conv
    assert saliency.pixmap().width() == sample.pixmap().width() > 8 * 8  # enlarged
    assert saliency.pixmap().toImage() != sample.pixmap().toImage()  # the heat laid over it
    assert view.detail.text.text().startswith(
        f"Sample {first.dataset_index}: a {first.true} taken for a {first.predicted} with"
    )


@pytest.fixture(name="cnn_report")
def digits_cnn_report():
    project = load(EXAMPLES / "digits_cnn.dwire")
    project.dataset["params"]["limit"] = 300
    state = compile_network(project.network).state_dict()
    return project, state, project_mistakes(project, state, device="cpu")


def first_mistake_clicked(qtbot, report, network, state):
    """A shown Mistakes tab with ``report``, its first wrong sample clicked."""
    view = MistakesView()
    qtbot.addWidget(view)
    view.resize(500, 900)
    view.show()
    view.show_report(report, network, state)
    click_item(qtbot, view.gallery.grid, 0)
    return view


def test_a_convolutional_networks_sample_gets_grad_cam_too(qtbot, cnn_report):
    project, state, report = cnn_report
    view = first_mistake_clicked(qtbot, report, project.network, state)
    qtbot.waitUntil(lambda: all(label.isVisible() for label in view.detail.pictures),
                    timeout=20_000)  # fmt: skip
    assert view.detail.captions[2].text() == "Grad-CAM · conv2"


def test_other_data_is_a_sortable_table_with_feature_values_and_saliency_bars(qtbot, tmp_path):
    project = Project({"model": chain(("Linear", {"out_features": 2}), input_shape=(2,))},
                      {"name": "moons", "params": {"n_samples": 200}}, {})  # fmt: skip
    # class = the larger coordinate: wrong about half the time, in both classes
    state = {"linear1.weight": torch.eye(2), "linear1.bias": torch.zeros(2)}
    report = project_mistakes(project, state, device="cpu")
    view = MistakesView()
    qtbot.addWidget(view)
    view.show()
    view.show_report(report, project.network, state)
    table = view.gallery.table
    assert view.gallery.view() is table
    assert table.model().headerData(5, Qt.Orientation.Horizontal) == "x0"
    first = view.gallery.shown()[0]
    raw = report.sample(first.index, units=True)
    assert table.model().index(0, 5).data() == f"{float(raw[0]):.3g}"
    click_section(qtbot, table.horizontalHeader(), TRUE)
    trues = [m.true for m in view.gallery.shown()]
    assert trues == sorted(trues) and len(set(trues)) == 2
    click_item(qtbot, table, 0)
    qtbot.waitUntil(view.detail.bars.isVisible, timeout=20_000)
    assert not any(label.isVisible() for label in view.detail.pictures)


def test_without_a_report_the_tab_says_what_it_will_show(qtbot):
    view = MistakesView()
    qtbot.addWidget(view)
    view.show_report(None)
    assert "After a classifier's run" in view.summary.text()
    assert not view.splitter.isVisibleTo(view)


def test_a_report_without_weights_says_so_on_click(qtbot, cnn_report):
    project, _, report = cnn_report
    view = first_mistake_clicked(qtbot, report, project.network, None)
    assert "No weights were kept" in view.detail.text.text()
    assert np.all([not label.isVisible() for label in view.detail.pictures])


def test_only_the_latest_clicks_explanation_is_shown(qtbot, cnn_report):
    project, state, report = cnn_report
    view = first_mistake_clicked(qtbot, report, project.network, state)
    click_item(qtbot, view.gallery.grid, 1)
    saliency = view.detail.pictures[1]
    qtbot.waitUntil(saliency.isVisible, timeout=20_000)
    second = view.gallery.shown()[1]
    said, picture = view.detail.text.text(), saliency.pixmap().toImage()
    assert said.startswith(f"Sample {second.dataset_index}:")
    late = view.explainer.explain(report.sample(view.gallery.shown()[0].index))
    view.explained.emit(view.job - 1, late, "")  # the first click's answer, arriving last
    qtbot.wait(20)
    assert view.detail.text.text() == said and saliency.pixmap().toImage() == picture
