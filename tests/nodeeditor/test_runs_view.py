"""The Runs tab: two runs trained through the panel, side by side and overlaid."""

from __future__ import annotations

import json
import os
import re
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextDocument

from nodeeditor.panels.training.runs_view import DIFFERS, LEAD, TAIL
from tests.nodeeditor.app_helpers import click_train, show_training_panel


def header(table) -> list[str]:
    return [table.horizontalHeaderItem(col).text() for col in range(table.columnCount())]


def row_texts(table, row: int) -> list[str]:
    return [table.item(row, col).text() for col in range(table.columnCount())]


def shown_text(label) -> str:
    """A rich-text label's text as it reads on screen."""
    document = QTextDocument()
    document.setHtml(label.text())
    return document.toPlainText().replace("\xa0", " ")


def tick(qtbot, view, row: int) -> None:
    """Tick a run's box as a user does: a click on its check indicator."""
    table = view.table
    rect = table.visualItemRect(table.item(row, 0))
    point = QPoint(rect.left() + 10, rect.center().y())  # the box sits at the cell's left
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_two_runs_with_different_learning_rates_are_compared(qtbot, window):
    panel = show_training_panel(qtbot, window, epochs=2)
    for lr in (0.01, 0.002):
        panel.training_form.lr.setValue(lr)
        click_train(qtbot, panel)
    panel.tabs.setCurrentWidget(panel.runs_view)
    view = panel.runs_view
    table = view.table
    assert table.rowCount() == 2
    assert header(table) == [*LEAD, "Learning rate", *TAIL]
    first, second = row_texts(table, 0), row_texts(table, 1)
    assert (first[1], second[1]) == ("0.01", "0.002")
    assert first[2].startswith("val_loss ") and first[3:5] == second[3:5] == ["finished", "2"]
    assert re.fullmatch(r"\d+ ms|\d+\.\d s|\d+ min \d\d s", first[5])  # the run's duration
    lr = view.setting_column("optimizer.lr")
    assert all(table.item(row, lr).data(DIFFERS) for row in (0, 1))  # highlighted
    assert all(not table.item(row, 2).data(DIFFERS) for row in (0, 1))
    assert view.curves == {}
    tick(qtbot, view, 0)
    tick(qtbot, view, 1)
    assert [run.name for run in view.checked()] == [view.runs[0].name, view.runs[1].name]
    assert set(view.curves) == {view.runs[0].name, view.runs[1].name}
    for curves in view.curves.values():  # loss and accuracy, validation and training
        assert len(curves) == 4 and all(len(curve.getData()[0]) == 2 for curve in curves)
    colors = {curves[0].opts["pen"].color().name() for curves in view.curves.values()}
    assert len(colors) == 2  # each run its own colour
    legend = shown_text(view.plots.legend)
    assert all(f"{run.name}: Learning rate" in legend for run in view.runs)
    assert view.plots.metric_plot.titleLabel.text == "accuracy"


def test_the_list_follows_the_project_and_shows_damaged_and_interrupted_runs(
    qtbot, window, tmp_path
):
    project = window.document.path
    runs = project.parent / f"{project.stem}_runs"
    killed = runs / "2026-11-30_12-00-00"
    killed.mkdir(parents=True)
    (killed / "run.json").write_text(json.dumps({"status": "running", "pid": 999_999_999}))
    (killed / "metrics.csv").write_text("epoch,train_loss,val_loss\n1,0.9,0.8\n")
    started = time.mktime(time.strptime(killed.name, "%Y-%m-%d_%H-%M-%S"))
    for name in ("run.json", "metrics.csv"):  # last written 90 s after its start
        os.utime(killed / name, (started + 90, started + 90))
    damaged = runs / "2026-11-30_13-00-00"
    damaged.mkdir()
    (damaged / "run.json").write_bytes(b'{"status": "fini')
    damaged_start = time.mktime(time.strptime(damaged.name, "%Y-%m-%d_%H-%M-%S"))
    os.utime(damaged / "run.json", (damaged_start + 30, damaged_start + 30))
    panel = show_training_panel(qtbot, window)
    panel.tabs.setCurrentWidget(panel.runs_view)
    view = panel.runs_view
    assert [row_texts(view.table, row) for row in (0, 1)] == [
        [killed.name, "val_loss 0.8 (epoch 1)", "interrupted", "1", "~1 min 30 s"],
        [damaged.name, "—", "unknown ⚠", "0", "~30.0 s"],
    ]
    assert "damaged" in view.table.item(1, 0).toolTip()
    other = tmp_path / "other.dwire"
    other.write_bytes(project.read_bytes())
    assert window.open_file(other)
    assert view.table.rowCount() == 0 and "No runs of other.dwire" in view.label.text()
