"""The Training panel in the main window: train, watch, pause, stop, fail, close.

Buttons are clicked like a user does; training really runs (small data, few epochs)
in the panel's thread, and the tests wait for what the user would see.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from nodeeditor import dialogs
from nodeeditor.panels.training import run_control
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    close_window,
    copy_of,
    open_window,
    show_training_panel,
)

LEFT = Qt.MouseButton.LeftButton
LONG = 500  # epochs: a run that lasts until the test stops it


show_panel = show_training_panel


def click(qtbot, button):
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, LEFT)


def wait_for_batches(qtbot, panel, count: int = 1):
    qtbot.waitUntil(lambda: panel.plots.point_count("batch_loss") >= count, timeout=20_000)


def wait_until_idle(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=30_000)


def test_training_draws_curves_locks_the_network_and_shows_a_confusion_matrix(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(3)
    assert window.document.project.training["epochs"] == 3 and window.document.modified
    click(qtbot, panel.train_button)
    assert window.locked and window.scene.locked
    assert window.add_layer_at_centre("ReLU") is None  # no edits while training
    assert not panel.train_button.isEnabled() and panel.stop_button.isEnabled()
    wait_until_idle(qtbot, panel)
    plots = panel.plots
    assert plots.point_count("train_loss") == 3 and plots.point_count("val_metric") == 3
    assert plots.point_count("batch_loss") == 3 * panel.batches
    assert panel.progress.value() == panel.progress.maximum() > 0
    assert not window.locked and panel.train_button.isEnabled()
    table = panel.results.confusion
    assert table.isVisible() and table.rowCount() == 10
    counts = sum(int(table.item(r, c).text()) for r in range(10) for c in range(10))
    assert counts == 359  # every validation digit is counted once
    assert "Best epoch" in panel.results.summary.text()
    assert panel.notes.text().startswith("Doctor:")
    assert "CPU" in panel.device_label.text() or "CUDA" in panel.device_label.text()


def test_stop_ends_training_soon_and_leaves_the_app_usable(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)
    click(qtbot, panel.train_button)
    wait_for_batches(qtbot, panel)
    assert "epoch" in panel.progress.format() and "samples/s" in panel.progress.format()
    assert panel.progress.value() > 0
    click(qtbot, panel.stop_button)
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=5_000)
    assert not window.locked
    summary = panel.results.summary.text()
    assert summary.startswith("Stopped by you")
    if panel.history:  # an epoch completed before the stop: its best weights are kept
        assert panel.kept.epoch >= 1 and "Kept the weights of epoch" in summary
    else:
        assert panel.kept is None and "nothing was kept from this run" in summary
    assert window.add_layer_at_centre("ReLU") is not None


def test_pause_holds_training_and_resume_goes_on(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)
    click(qtbot, panel.train_button)
    wait_for_batches(qtbot, panel)
    click(qtbot, panel.pause_button)
    assert panel.pause_button.text() == "Resume"
    qtbot.wait(300)  # batches already on their way arrive
    held = panel.plots.point_count("batch_loss")
    qtbot.wait(300)
    assert panel.plots.point_count("batch_loss") == held and panel.is_training()
    click(qtbot, panel.pause_button)
    assert panel.pause_button.text() == "Pause"
    wait_for_batches(qtbot, panel, held + 5)
    click(qtbot, panel.stop_button)
    wait_until_idle(qtbot, panel)


def test_data_that_does_not_fit_the_input_is_explained_and_the_app_stays_usable(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.dataset_form.name_box.setCurrentText("iris")  # 4 features; the Input takes 64
    qtbot.waitUntil(lambda: panel.dataset is not None and panel.dataset.name == "iris")
    click(qtbot, panel.train_button)
    wait_until_idle(qtbot, panel)
    message = panel.error_label.text()
    assert panel.error_label.isVisible() and "Input" in message and "(4,)" in message
    assert message in window.statusBar().currentMessage()
    assert not window.locked and panel.train_button.isEnabled()


def test_applying_the_suggestion_to_the_input_is_one_undo_step(qtbot, window):
    panel = show_panel(qtbot, window)
    document = window.document
    panel.dataset_form.name_box.setCurrentText("iris")
    qtbot.waitUntil(lambda: panel.dataset is not None and panel.dataset.name == "iris")
    assert document.project.dataset["name"] == "iris"
    steps = document.undo_stack.count()
    click(qtbot, panel.apply_button)
    assert document.undo_stack.count() == steps + 1
    assert list(document.network.node("input").params["shape"]) == [4]
    document.undo_stack.undo()
    assert list(document.network.node("input").params["shape"]) == [64]
    document.undo_stack.undo()  # the dataset choice is an undo step of its own
    assert document.project.dataset["name"] == "digits"


def test_closing_while_training_asks_then_stops_the_thread(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)
    answers = [False, True]
    asked = []

    def ask(parent, doing="close"):
        asked.append(parent)
        return answers[len(asked) - 1]

    monkeypatch.setattr(run_control, "ask_stop_training", ask)
    click(qtbot, panel.train_button)
    wait_for_batches(qtbot, panel)
    thread = panel.run.thread
    window.document.undo_stack.setClean()
    window.close()
    assert len(asked) == 1 and window.isVisible() and panel.is_training()  # "no": keeps on
    window.close()
    assert len(asked) == 2 and not window.isVisible()
    assert not panel.is_training() and thread.isFinished()


def test_moons_shows_the_decision_boundary(qtbot, monkeypatch, tmp_path):
    data = json.loads(EXAMPLE.read_text())
    nodes = data["networks"]["model"]["nodes"]
    nodes[0]["params"]["shape"] = [2]
    nodes[3]["params"]["out_features"] = 2
    data["dataset"] = {"name": "moons", "params": {"n_samples": 300}}
    data["training"] = {"epochs": 4, "batch_size": 32, "optimizer": {"type": "Adam", "lr": 0.02}}
    path = tmp_path / "moons.dwire"
    path.write_text(json.dumps(data))
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    try:
        panel = show_panel(qtbot, window)
        assert panel.preview.mode == "scatter"
        click(qtbot, panel.train_button)
        wait_until_idle(qtbot, panel)
        assert panel.results.boundary.isVisible()
        assert panel.results.confusion.rowCount() == 2
    finally:
        panel.shutdown()
        close_window(window)


def test_undo_of_a_setting_shows_the_old_value_again(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.batch_size.setValue(16)
    panel.dataset_form.name_box.setCurrentText("moons")
    qtbot.waitUntil(lambda: panel.preview.mode == "scatter")
    window.document.undo_stack.undo()
    assert panel.dataset_form.name_box.currentText() == "digits"
    qtbot.waitUntil(lambda: panel.preview.mode == "images")
    window.document.undo_stack.undo()
    assert panel.training_form.batch_size.value() == 64
    assert window.document.project.training["batch_size"] == 64


def test_a_batch_that_cannot_fit_in_memory_is_warned_about(window):
    from nodeeditor.panels.training.device_label import memory_warning

    analysis = window.document.analysis
    assert memory_warning(analysis, 64, "Adam", "cpu") == ""
    text = memory_warning(analysis, 10**10, "Adam", "cpu")
    assert "batch size 10000000000" in text and "lower the batch size" in text


def test_an_autoencoder_shows_reconstructions_and_no_metric_plot(qtbot, monkeypatch, tmp_path):
    path = copy_of(EXAMPLE.with_name("digits_autoencoder.dwire"), tmp_path)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    try:
        panel = show_panel(qtbot, window)
        panel.training_form.epochs.setValue(2)
        click(qtbot, panel.train_button)
        wait_until_idle(qtbot, panel)
        assert panel.results.reconstruction.isVisible()
        assert not panel.results.reconstruction.pixmap().isNull()
        assert not panel.plots.metric_plot.isVisible()
        assert panel.plots.point_count("val_loss") == 2
    finally:
        panel.shutdown()
        close_window(window)


def test_garbage_is_collected_in_the_main_thread_while_threads_run(qtbot):
    import gc
    import threading

    from nodeeditor.training_thread import MainThreadGC, main_thread_gc

    qtbot.waitUntil(lambda: main_thread_gc().holds == 0)  # no preview still loading
    collector = MainThreadGC(interval_ms=5)
    assert gc.isenabled()
    collector.hold()
    collector.hold()
    assert not gc.isenabled()  # collections may not start in a worker thread
    garbage = []
    garbage.append(garbage)  # a cycle only a collection frees
    del garbage
    qtbot.waitUntil(lambda: gc.get_count()[0] <= gc.get_threshold()[0], timeout=2000)
    collector.release()
    assert not gc.isenabled()
    worker = threading.Thread(target=collector.release_requested.emit)
    worker.start()
    worker.join()
    qtbot.waitUntil(gc.isenabled, timeout=2000)  # released in the main thread


def test_a_finished_run_lets_go_of_its_model_and_data(qtbot, window):
    import gc
    import weakref

    from nodeeditor.training_thread import TrainingRun

    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(1)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: panel.run is not None and panel.run.trainer is not None, timeout=20_000)
    trainer = weakref.ref(panel.run.trainer)
    wait_until_idle(qtbot, panel)
    click(qtbot, panel.train_button)  # a second run: the first must not pile up
    wait_until_idle(qtbot, panel)
    gc.collect()
    assert trainer() is None  # its model and dataset are freed
    assert panel.findChildren(TrainingRun) == []
    assert panel.kept is not None  # the kept weights are a copy, not the trainer's model


def test_opening_another_project_shows_its_own_runs_not_the_last_ones(qtbot, window, tmp_path):
    from safetensors.torch import load_file

    from nodeeditor.panels.training.results import WAITING

    trained = window.document.path
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(1)
    click(qtbot, panel.train_button)
    wait_until_idle(qtbot, panel)
    kept_path = panel.kept.path
    assert panel.plots.point_count("train_loss") == 1 and not panel.results.confusion.isHidden()
    assert window.open_file(copy_of(EXAMPLE.with_name("digits_cnn.dwire"), tmp_path / "cnn"))
    for curve in ("batch_loss", "train_loss", "val_metric", "lr"):
        assert panel.plots.point_count(curve) == 0
    assert panel.results.confusion.isHidden() and panel.results.summary.text() == WAITING
    assert panel.progress.status() == "ready" and panel.progress.value() == 0
    assert panel.notes.text() == "" and not panel.start_from_kept.isEnabled()
    assert panel.kept is None and panel.kept_label.text() == "Weights: none trained yet"
    assert window.open_file(trained)  # back: the weights its run kept are offered again
    assert panel.kept_label.text().endswith(str(kept_path))
    assert "of 1 epoch(s) of the run" in panel.kept_label.text()
    assert panel.start_from_kept.isEnabled() and panel.show_files_button.isEnabled()
    state = panel.kept.state  # read from the run's file when first needed
    assert state.keys() == load_file(kept_path).keys()


def test_cancel_at_unsaved_changes_on_quit_leaves_the_run_training(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)  # an unsaved change
    monkeypatch.setattr(run_control, "ask_stop_training", lambda parent, doing="close": True)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, title: dialogs.CANCEL)
    click(qtbot, panel.train_button)
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=60_000)
    window.actions_by_name["quit"].trigger()  # Yes to "stop training?", then Cancel
    assert window.isVisible() and panel.is_training()  # nothing happened: the run goes on
    panel.shutdown()  # what Quit, New and Open do once they really go ahead
    assert panel.kept is not None and panel.kept.epoch >= 1
    assert panel.kept_label.text().startswith(f"Weights: epoch {panel.kept.epoch} ")
    assert "Kept the weights of epoch" in panel.results.summary.text()


def test_the_status_fits_a_narrow_panel_and_a_pause_shows_no_eta(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)
    dock = window.docks["training"]
    dock.setFloating(True)
    dock.resize(1, dock.height())  # as narrow as the panel goes
    bar = panel.progress

    def fits() -> bool:
        text = bar.text()
        return "\n" not in text and bar.fontMetrics().horizontalAdvance(text) <= bar.width()

    click(qtbot, panel.train_button)
    wait_for_batches(qtbot, panel)
    qtbot.waitUntil(lambda: "samples/s" in bar.status())
    assert fits() and "epoch" in bar.text() and bar.toolTip() == bar.status()
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: bar.status().startswith("paused at epoch"))
    qtbot.wait(300)  # batches already on their way arrive: still no ETA
    assert "ETA" not in bar.status() and "paused" in bar.text() and fits()
    click(qtbot, panel.pause_button)
    qtbot.waitUntil(lambda: "ETA" in bar.status())
    click(qtbot, panel.stop_button)
    wait_until_idle(qtbot, panel)


def test_damaged_weights_of_an_earlier_run_are_refused_with_a_sentence(qtbot, window):
    project = window.document.path
    folder = project.parent / f"{project.stem}_runs" / "2026-01-01_00-00-00"
    folder.mkdir(parents=True)
    (folder / "weights.safetensors").write_bytes(b"\xff" * 64)
    assert window.open_file(project)
    panel = show_panel(qtbot, window)
    assert "the run 2026-01-01_00-00-00" in panel.kept_label.text()
    click(qtbot, panel.start_from_kept)
    click(qtbot, panel.train_button)
    text = panel.error_label.text()
    assert text.startswith("Cannot start from the kept weights") and "weights.safetensors" in text
    assert not panel.is_training() and panel.train_button.isEnabled()
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no new run


def test_f5_trains_and_shift_f5_stops_from_any_panel(qtbot, window):
    panel = show_panel(qtbot, window)
    panel.training_form.epochs.setValue(LONG)
    window.docks["diagnostics"].raise_()  # the Training panel is behind Problems
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F5)
    assert panel.is_training() and window.docks["training"].isVisible()
    wait_for_batches(qtbot, panel)
    qtbot.keyClick(window.view, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=10_000)
    assert not window.locked and panel.train_button.isEnabled()
    names = [a.text() for a in window.menus["network"].actions()]
    assert "&Train" in names and "&Stop Training" in names
