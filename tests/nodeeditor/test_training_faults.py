"""Training faults in the app: a clear message, a usable app, the last good weights kept.

Each test trains the digits MLP for real in the Training panel (buttons clicked with
qtbot) and injects one fault: an exception in the data loader or in the batches, a
NaN loss, a Stop during the first batch, closing the window mid-run, and a run folder
or checkpoint folder that cannot be written. After each, the panel says what happened
and which weights are kept, the kept weights are those of the best epoch before the
fault (compared with the checkpoint the run wrote), and the app can edit and train
again. The number of injected faults is reported through ``tests.reliability_log``.
"""

from __future__ import annotations

import errno
import json
import math
import threading
from collections import Counter

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from safetensors.torch import load_file

from engine.data import registry
from engine.training.core.supervised import Supervised
from nodeeditor import export_dialog
from nodeeditor.export_dialog import ExportChoice
from nodeeditor.panels.training import run_control
from tests.faults import checkpoints_fill_the_disk
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    click_train,
    close_window,
    copy_of,
    open_window,
    run_driver_then_kill,
    show_training_panel,
)
from tests.reliability_log import write_case_counts

LEFT = Qt.MouseButton.LeftButton
FAULTS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_faults():
    yield
    write_case_counts({f"training fault in the app: {k}": n for k, n in FAULTS.items()})


@pytest.fixture
def project(tmp_path):
    return copy_of(EXAMPLE, tmp_path / "project")


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path, project):
    window = open_window(qtbot, monkeypatch, tmp_path, project)
    yield window
    window.training_panel.shutdown()
    close_window(window)


def show_panel(qtbot, window, epochs: int = 2):
    return show_training_panel(qtbot, window, epochs)


train = click_train


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def assert_usable(qtbot, window, panel) -> None:
    """The network can be edited and undone by key, and Train is offered again."""
    assert not window.locked and not panel.is_training()
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    count = len(window.document.network)
    assert window.add_layer_at_centre("ReLU") is not None
    assert len(window.document.network) == count + 1
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.network) == count


def export_last_run(window, monkeypatch, target):
    """File > Export of the last run's weights to ``target``, as safetensors."""
    choice = ExportChoice("safetensors", None, str(target), last_run=True)
    monkeypatch.setattr(export_dialog, "ask_export", lambda *a, **k: choice)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    window.actions_by_name["export"].trigger()
    return target


def run_folders(project):
    runs = project.parent / f"{project.stem}_runs"
    return sorted(runs.iterdir()) if runs.is_dir() else []


def test_a_loader_that_raises_is_explained_and_the_previous_weights_stay(
    qtbot, window, project, monkeypatch
):
    panel = show_panel(qtbot, window)
    train(qtbot, panel)
    first = panel.kept
    assert first is not None and first.path.is_file()
    assert same(
        load_file(first.path), load_file(first.path.parent / "checkpoints/best.safetensors")
    )

    def broken_loader(params, seed):
        raise RuntimeError("the network drive went away")

    working = registry.LOADERS["digits"]
    monkeypatch.setitem(registry.LOADERS, "digits", (broken_loader, {}))
    train(qtbot, panel)
    FAULTS["exception in the dataset loader"] += 1
    text = panel.error_label.text()
    assert panel.error_label.isVisible()
    assert text.startswith("Training failed: digits: the data cannot be read (RuntimeError: "
                           "the network drive went away).")  # fmt: skip
    assert "No epoch completed, so the weights of the previous run (epoch" in text
    assert panel.kept is first and "Weights: epoch" in panel.kept_label.text()
    assert run_folders(project) == [first.path.parent]  # the failed run left no empty folder
    assert_usable(qtbot, window, panel)
    monkeypatch.setitem(registry.LOADERS, "digits", working)  # the drive is back
    train(qtbot, panel)
    assert panel.kept is not first and not panel.error_label.isVisible()


def test_an_exception_in_the_batches_keeps_the_best_epoch_before_it(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window, epochs=5)
    real_step = Supervised.step

    def batch_fails_in_epoch_3(run, batch):
        if len(panel.run.trainer.history) == 2:
            raise OSError(errno.EIO, "Input/output error", "digits.npz")
        return real_step(run, batch)

    monkeypatch.setattr(Supervised, "step", batch_fails_in_epoch_3)
    train(qtbot, panel)
    FAULTS["exception in the batches"] += 1
    kept = panel.kept
    assert kept is not None and kept.epoch in (1, 2)
    text = panel.error_label.text()
    assert text.startswith("Training failed: Input/output error (digits.npz).")
    assert f"The weights of epoch {kept.epoch} (val accuracy" in text and "the best before" in text
    assert same(kept.state, load_file(kept.path.parent / "checkpoints/best.safetensors"))
    assert same(kept.state, load_file(kept.path))
    assert len(panel.history) == 2
    assert_usable(qtbot, window, panel)


def test_nan_in_the_first_epoch_says_why_and_keeps_no_new_weights(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window)
    real_step = Supervised.step

    def nan_from_batch_3(run, batch):
        x, y = batch
        return real_step(run, (x * math.nan, y) if panel.run.trainer.step >= 2 else (x, y))

    monkeypatch.setattr(Supervised, "step", nan_from_batch_3)
    train(qtbot, panel)
    FAULTS["NaN loss"] += 1
    text = panel.error_label.text()
    assert "at epoch 1, batch 3: training diverged" in text and "lower optimizer.lr" in text
    assert text.endswith("No epoch completed, so there are no trained weights yet.")
    assert panel.kept is None and panel.kept_label.text() == "Weights: none trained yet"
    assert_usable(qtbot, window, panel)
    chosen = []
    monkeypatch.setattr(export_dialog, "ask_export", lambda *a: chosen.append(a[2]))
    window.actions_by_name["export"].trigger()
    assert chosen == [None]  # Export offers no "last run" weights
    monkeypatch.setattr(Supervised, "step", real_step)
    train(qtbot, panel)
    assert panel.kept is not None and not panel.error_label.isVisible()


def test_nan_after_good_epochs_keeps_the_best_one_and_export_writes_it(
    qtbot, window, monkeypatch, tmp_path
):
    panel = show_panel(qtbot, window, epochs=6)
    real_step = Supervised.step

    def nan_in_epoch_4(run, batch):
        x, y = batch
        return real_step(run, (x * math.nan, y) if len(panel.run.trainer.history) == 3 else (x, y))

    monkeypatch.setattr(Supervised, "step", nan_in_epoch_4)
    train(qtbot, panel)
    FAULTS["NaN loss"] += 1
    kept = panel.kept
    assert "training diverged" in panel.error_label.text()
    assert kept is not None and 1 <= kept.epoch <= 3
    assert all(torch.isfinite(v).all() for v in kept.state.values() if v.is_floating_point())
    target = export_last_run(window, monkeypatch, tmp_path / "kept.safetensors")
    assert same(load_file(target), kept.state)


def test_stop_during_the_first_batch_keeps_the_previous_weights(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window, epochs=3)
    in_batch, release = threading.Event(), threading.Event()
    calls = []
    real_step = Supervised.step

    def slow_first_batch(run, batch):
        calls.append(batch)
        if len(calls) == 1:
            in_batch.set()
            release.wait(20)
        return real_step(run, batch)

    monkeypatch.setattr(Supervised, "step", slow_first_batch)
    train(qtbot, panel, wait=False)
    qtbot.waitUntil(in_batch.is_set, timeout=30_000)
    assert panel.stop_button.isEnabled()
    qtbot.mouseClick(panel.stop_button, LEFT)
    release.set()
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=30_000)
    FAULTS["stop during the first batch"] += 1
    assert len(calls) == 1  # the stop took effect before the second batch
    summary = panel.results.summary.text()
    assert summary.startswith("Stopped by you after 0 epoch(s).")
    assert summary.endswith("nothing was kept from this run: there are no trained weights yet.")
    assert panel.kept is None and not panel.error_label.isVisible()
    assert_usable(qtbot, window, panel)
    monkeypatch.setattr(Supervised, "step", real_step)
    train(qtbot, panel)
    assert panel.kept is not None and panel.kept.epoch >= 1


def test_stop_before_the_first_batch_ends_cleanly(qtbot, window, project):
    panel = show_panel(qtbot, window)
    train(qtbot, panel, wait=False)
    qtbot.mouseClick(panel.stop_button, LEFT)  # still loading the data
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=30_000)
    FAULTS["stop before the first batch"] += 1
    assert panel.kept is None and not panel.error_label.isVisible()
    assert panel.results.summary.text() == (
        "Stopped by you after 0 epoch(s). No epoch completed, so nothing was kept from this "
        "run: there are no trained weights yet."
    )
    assert run_folders(project) == []  # an empty run folder is not left behind
    assert_usable(qtbot, window, panel)


def test_closing_the_window_while_training_writes_the_best_weights(
    qtbot, monkeypatch, tmp_path, project
):
    window = open_window(qtbot, monkeypatch, tmp_path, project)
    panel = show_panel(qtbot, window, epochs=100_000)
    monkeypatch.setattr(run_control, "ask_stop_training", lambda parent, doing: True)
    train(qtbot, panel, wait=False)
    qtbot.waitUntil(lambda: len(panel.history) >= 2, timeout=60_000)
    thread = panel.run.thread
    window.actions_by_name["quit"].trigger()  # File > Quit, as a user closes the app
    FAULTS["closing the app while training"] += 1
    assert not window.isVisible() and thread.isFinished()
    [folder] = run_folders(project)
    weights = load_file(folder / "weights.safetensors")
    assert same(weights, load_file(folder / "checkpoints/best.safetensors"))
    rows = (folder / "metrics.csv").read_text().splitlines()
    assert len(rows) >= 3  # header and at least two epochs
    reopened = open_window(qtbot, monkeypatch, tmp_path, project)  # the next start is fine
    assert len(reopened.document.network) == len(window.document.network)
    close_window(reopened)


def test_opening_another_project_while_training_asks_and_keeps_the_weights(
    qtbot, window, project, monkeypatch, tmp_path
):
    other = copy_of(EXAMPLE, tmp_path / "other")  # never trained (runs may sit beside EXAMPLE)
    panel = show_panel(qtbot, window, epochs=100_000)
    asked = []
    monkeypatch.setattr(run_control, "ask_stop_training",
                        lambda parent, doing: asked.append(doing) or len(asked) > 1)  # fmt: skip
    train(qtbot, panel, wait=False)
    qtbot.waitUntil(lambda: len(panel.history) >= 1, timeout=60_000)
    assert not window.open_file(other)  # "No": training goes on
    assert asked == ["open another project"] and panel.is_training()
    assert window.open_file(other)
    FAULTS["opening another project while training"] += 1
    assert not panel.is_training() and window.document.path == other
    [folder] = run_folders(project)
    assert same(load_file(folder / "weights.safetensors"),
                load_file(folder / "checkpoints/best.safetensors"))  # fmt: skip
    assert panel.kept is None  # the weights belong to the other project


def test_no_writable_run_folder_trains_in_memory_and_exports(
    qtbot, window, project, monkeypatch, tmp_path
):
    (project.parent / f"{project.stem}_runs").write_text("a file where the folder would go")
    monkeypatch.setenv("DEEPWIRE_RUNS_DIR", str(project))  # a file too
    panel = show_panel(qtbot, window)
    train(qtbot, panel)
    FAULTS["checkpoint folder that cannot be written"] += 1
    warning = panel.warning_label.text()
    assert panel.warning_label.isVisible() and warning.startswith("Warning: cannot write")
    assert "training goes on with the weights in memory" in warning
    assert not panel.error_label.isVisible()
    kept = panel.kept
    assert kept is not None and kept.path is None
    assert panel.kept_label.text().endswith("in memory only")
    target = export_last_run(window, monkeypatch, tmp_path / "from_memory.safetensors")
    assert same(load_file(target), kept.state)
    assert_usable(qtbot, window, panel)


def test_an_unwritable_project_folder_falls_back_to_the_apps_runs_folder(
    qtbot, window, project, monkeypatch, tmp_path
):
    (project.parent / f"{project.stem}_runs").write_text("a file where the folder would go")
    monkeypatch.setenv("DEEPWIRE_RUNS_DIR", str(tmp_path / "app_runs"))
    panel = show_panel(qtbot, window)
    train(qtbot, panel)
    FAULTS["checkpoint folder that cannot be written"] += 1
    assert "this run is kept in" in panel.warning_label.text()
    kept = panel.kept
    assert kept.path.parent.parent == tmp_path / "app_runs" / project.stem
    assert same(load_file(kept.path), kept.state)


def test_a_disk_that_fills_up_mid_run_warns_and_training_goes_on(qtbot, window, monkeypatch):
    panel = show_panel(qtbot, window, epochs=4)
    with checkpoints_fill_the_disk(after=2):  # epoch 1's last and best go through
        train(qtbot, panel)
    FAULTS["checkpoint folder that cannot be written"] += 1
    warning = panel.warning_label.text()
    assert (
        "No space left on device" in warning
        and "the checkpoint of epoch 1 there is kept" in warning
    )
    assert panel.progress.format() == "finished after 4 epoch(s)"
    kept = panel.kept
    assert kept.path.is_file() and same(load_file(kept.path), kept.state)
    assert not list(kept.path.parent.rglob("*.tmp"))


# Opens the project, presses Train, waits for two epochs, then idles until the test
# kills it with SIGKILL: no cleanup code of the app can run.
TRAINING_DRIVER = """
import sys, time
from nodeeditor.app import make_application
from nodeeditor.document import Document
from nodeeditor.window import MainWindow
app = make_application()
window = MainWindow(Document.open(sys.argv[1]))
window.show()
panel = window.training_panel
window.docks["training"].raise_()
panel.train_button.click()
while len(panel.history) < int(sys.argv[2]):
    app.processEvents()
    time.sleep(0.01)
print("trained", flush=True)
while True:
    app.processEvents()
    time.sleep(0.01)
"""


def kill_while_training(project, tmp_path, epochs_first: int = 2) -> None:
    """Train ``project`` in a real app process and kill -9 it after ``epochs_first``."""
    env = {
        "DEEPWIRE_SETTINGS": str(tmp_path / "driver.ini"),
        "DEEPWIRE_RECOVERY_DIR": str(tmp_path / "recovery"),
    }
    run_driver_then_kill(TRAINING_DRIVER, [str(project), str(epochs_first)], env, "trained")


def long_training_copy(project):
    text = json.loads(project.read_text())
    text["training"]["epochs"] = 100_000
    project.write_text(json.dumps(text))
    return project


def test_kill_9_while_training_leaves_whole_checkpoints_to_resume_from(project, tmp_path, capsys):
    from engine import cli
    from engine.training import checkpoint as ckpt

    kill_while_training(long_training_copy(project), tmp_path)
    write_case_counts({"kill -9 while training": 1})
    [folder] = run_folders(project)
    weights, state = ckpt.resolve(folder)
    done = ckpt.load_state(state, "cpu")["epoch"]
    assert done >= 2
    assert set(load_file(weights)) == set(load_file(folder / "checkpoints/best.safetensors"))
    resumed = tmp_path / "resumed"
    status = cli.main(["train", str(project), "--resume", str(folder), "--out", str(resumed),
                       "--epochs", str(done + 1), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert status == cli.EXIT_OK, out
    assert f"epoch {done + 1}/{done + 1}" in out and f"epoch {done}/" not in out
