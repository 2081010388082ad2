"""Runs side by side: ``run.json`` written by every run, the runs listed and compared."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine import project as project_file
from engine.errors import TrainingError
from engine.project import Project
from engine.run_files import read_history
from engine.runs import differences, list_runs, project_run_folders, read_run
from engine.training import Callback, TrainingSession
from engine.training.run_record import architecture_hash
from tests.engine.builders import chain

ROOT = Path(__file__).resolve().parents[2]


def iris(lr: float = 0.05, hidden: int = 8, epochs: int = 2) -> Project:
    network = chain(("Linear", {"out_features": hidden}), "ReLU", ("Linear", {"out_features": 3}),
                    input_shape=(4,))  # fmt: skip
    training = {"epochs": epochs, "batch_size": 32, "optimizer": {"type": "Adam", "lr": lr}}
    return Project({"model": network}, {"name": "iris", "params": {}}, training)


def train(project: Project, folder: Path, callbacks=(), **overrides):
    session = TrainingSession(project, None, folder, overrides=overrides, callbacks=callbacks)
    return session.fit()


def record(folder: Path) -> dict:
    return json.loads((folder / "run.json").read_text())


class Peek(Callback):
    """Reads run.json as it is while the first epoch runs."""

    def __init__(self, folder: Path):
        self.folder, self.seen = folder, None

    def on_epoch_start(self, trainer, epoch: int) -> None:
        if self.seen is None:
            self.seen = record(self.folder)


def test_run_json_says_what_the_run_is_at_its_start_and_how_it_ended(tmp_path):
    folder = tmp_path / "run"
    peek = Peek(folder)
    train(iris(lr=0.05), folder, [peek], epochs=3)
    start = peek.seen
    assert start["status"] == "running" and "ended" not in start
    assert start["settings"]["optimizer"]["lr"] == 0.05
    assert start["settings"]["epochs"] == 3 and start["overrides"] == {"epochs": 3}
    assert start["settings"]["batch_size"] == 32 and start["seed"] == 0
    assert start["dataset"]["name"] == "iris"
    assert start["dataset"]["params"]["validation_split"] == 0.2  # defaults filled in
    assert start["network"]["layers"] == 3 and start["network"]["parameters"] == 4 * 8 + 8 + 27
    assert start["device"] == "cpu" and start["started"] and start["deepwire"]
    end = record(folder)
    assert end["status"] == "finished" and end["reason"] == "finished"
    assert end["epochs_done"] == 3 and end["duration_s"] > 0
    history = read_history(folder / "metrics.csv", [])
    best = min(history, key=lambda row: row["val_loss"])
    assert end["best"]["metric"] == "val_loss" and end["best"]["epoch"] == best["epoch"]
    assert math.isclose(end["best"]["value"], best["val_loss"], rel_tol=1e-5)
    assert not list(folder.glob(".run.json*"))  # replaced atomically: no temporary left


def test_a_stopped_and_a_failed_run_say_so(tmp_path):
    class StopAt2(Callback):
        def on_epoch_end(self, trainer, event):
            if event.epoch == 2:
                trainer.stop()

    class FailAt2(Callback):
        def on_epoch_end(self, trainer, event):
            if event.epoch == 2:
                raise RuntimeError("the disk went away")

    train(iris(epochs=10), tmp_path / "stopped", [StopAt2()])
    stopped = record(tmp_path / "stopped")
    assert stopped["status"] == "stopped" and stopped["epochs_done"] == 2
    with pytest.raises(TrainingError):
        train(iris(epochs=10), tmp_path / "failed", [FailAt2()])
    failed = read_run(tmp_path / "failed")
    assert failed.status == "failed" and "the disk went away" in failed.reason
    assert failed.epochs == 2 and failed.best is not None


def test_a_run_that_ends_before_its_first_epoch_leaves_its_folder_empty(tmp_path):
    class StopAtOnce(Callback):
        def on_train_start(self, trainer, event):
            trainer.stop()

    train(iris(epochs=10), tmp_path / "run", [StopAtOnce()])
    assert list((tmp_path / "run").iterdir()) == []  # the app removes such a folder


KILLED_RUN = """
import os, signal, sys
sys.path.insert(0, sys.argv[2])
from engine import project
from engine.training import Callback, TrainingSession

class Kill(Callback):
    def on_epoch_start(self, trainer, epoch):
        if epoch == 3:  # epoch 2 is written
            os.kill(os.getpid(), signal.SIGKILL)

TrainingSession(project.load(sys.argv[1]), None, sys.argv[3], callbacks=[Kill()]).fit()
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_run_is_listed_as_interrupted_with_what_it_wrote(tmp_path):
    path = tmp_path / "iris.dwire"
    project_file.save(iris(epochs=50), path)
    folder = tmp_path / "iris_runs" / "2026-11-30_12-00-00"
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLED_RUN), str(path), str(ROOT), str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert process.returncode == -9, process.stderr
    assert record(folder)["status"] == "running"  # nobody said how it ended
    [run] = list_runs(project_run_folders(path))
    assert run.status == "interrupted" and run.epochs == 2
    assert run.best is not None and run.best.metric == "val_loss"
    assert run.settings["optimizer.lr"] == 0.05
    assert run.duration is not None and run.estimated


def test_a_run_recorded_as_running_in_a_live_process_is_running(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(json.dumps({"status": "running", "pid": os.getpid()}))
    assert read_run(folder).status == "interrupted"  # no host: not known to be going on
    assert read_run(folder, live={folder.resolve()}).status == "running"


def test_the_runs_are_listed_with_the_settings_that_differ(tmp_path):
    path = tmp_path / "iris.dwire"
    runs_dir = tmp_path / "iris_runs"
    train(iris(lr=0.01), runs_dir / "2026-11-30_12-00-00")
    train(iris(lr=0.05), runs_dir / "2026-11-30_12-05-00")
    old = runs_dir / "2026-11-29_09-00-00"  # written before run.json existed
    old.mkdir()
    (old / "metrics.csv").write_text(
        "epoch,train_loss,val_loss,lr\n1,0.9,0.8,0.01\n2,0.5,0.6,0.01\n"
    )
    (runs_dir / "notes.txt").write_text("not a run")
    (runs_dir / "empty").mkdir()
    runs = list_runs(project_run_folders(path))
    assert [run.name for run in runs] == ["2026-11-29_09-00-00", "2026-11-30_12-00-00",
                                          "2026-11-30_12-05-00"]  # fmt: skip
    first, low, high = runs
    assert first.settings is None and first.status == "unknown" and first.epochs == 2
    assert first.best.value == 0.6 and first.best.epoch == 2 and first.notes
    assert [row["val_loss"] for row in first.history] == [0.8, 0.6]
    assert low.status == high.status == "finished" and low.epochs == high.epochs == 2
    assert low.duration > 0 and not low.estimated and low.best.metric == "val_loss"
    assert differences(runs) == {"optimizer.lr": [None, 0.01, 0.05]}
    assert differences([low, low]) == {}


def test_a_changed_network_differs_and_a_moved_node_does_not(tmp_path):
    base = iris()
    moved = iris()
    moved.network.move_node("linear1", (999.0, 5.0))
    assert architecture_hash(base) == architecture_hash(moved)
    assert architecture_hash(base) != architecture_hash(iris(hidden=9))
    train(iris(hidden=8), tmp_path / "a", epochs=1)
    train(iris(hidden=9), tmp_path / "b", epochs=1)
    runs = list_runs([tmp_path / "a", tmp_path / "b"])
    network = differences(runs)["network"]
    assert network[0].startswith("3 layers, 67 parameters") and "75 parameters" in network[1]
    assert set(differences(runs)) == {"network"}


# -- hostile files: each run is listed, with a note, and reading never raises -------------
RECORDS = {
    "truncated JSON": b'{"status": "finished", "settings": {"optimizer": {"lr": 0.0',
    "binary junk": bytes(range(256)) * 8,
    "not an object": b"[1, 2, 3]",
    "wrong types": json.dumps(
        {
            "status": 5,
            "settings": [1],
            "best": {"value": "x"},
            "epochs_done": -3,
            "duration_s": "long",
            "started_at": True,
            "network": "big",
            "dataset": {"name": 7},
        }
    ).encode(),
    "huge numbers": b'{"status": "finished", "duration_s": 1e999, "epochs_done": 1'
    + b"0" * 5000
    + b', "best": {"metric": "val_loss", "value": -1e999, "epoch": 1e308}}',
    "deep nesting": b'{"settings": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
    "too large": b'{"status": "finished", "reason": "' + b"x" * 2_000_000 + b'"}',
}
METRICS = {  # the file, and the epochs read from it
    "binary junk": (bytes(range(256)) * 8, []),
    "NUL bytes": (b"epoch,val_loss\n1,\x000.5\n", [1]),  # read: a cell that is no number
    "no epoch column": (b"loss\n0.5\n", []),
    "ragged and words": (b"epoch,val_loss\n1\n2,0.3,9,9\nthree,0.1\n1e400,0.2\n4,nan\n5,inf\n",
                         [1, 2, 4, 5]),
    "huge field": (b"epoch,val_loss\n1," + b"9" * 200_000 + b"\n", []),
}  # fmt: skip


def _run_with(tmp_path, run_json: bytes | None, metrics: bytes | None) -> Path:
    folder = tmp_path / "runs" / "2026-11-30_12-00-00"
    folder.mkdir(parents=True)
    if run_json is not None:
        (folder / "run.json").write_bytes(run_json)
    if metrics is not None:
        (folder / "metrics.csv").write_bytes(metrics)
    return folder


@pytest.mark.parametrize("case", RECORDS)
def test_a_damaged_run_json_is_listed_with_a_note(tmp_path, case):
    folder = _run_with(tmp_path, RECORDS[case], b"epoch,val_loss\n1,0.5\n")
    [run] = list_runs([folder])
    assert run.notes and run.name == folder.name
    assert run.epochs in (0, 1) and run.status in ("unknown", "finished")
    assert run.duration is None or math.isfinite(run.duration)
    assert run.best is None or math.isfinite(run.best.value)
    assert all(len(key) <= 60 for key in run.settings or {})
    differences([run, run])
    json.dumps([run.info, run.settings, run.history])  # plain data


def test_settings_with_nan_huge_numbers_and_long_keys_are_read_cut_short(tmp_path):
    text = (b'{"status": "finished", "settings": {"optimizer": {"lr": NaN}, "epochs": 1'
            + b"9" * 4000 + b', "k' + b"x" * 100_000 + b'": 1}}')  # fmt: skip
    run = read_run(_run_with(tmp_path, text, None))
    assert math.isnan(run.settings["optimizer.lr"]) and run.settings["epochs"] is None
    assert differences([run, run]) == {}  # NaN is the same setting as NaN
    assert max(len(key) for key in run.settings) <= 60


@pytest.mark.parametrize("case", METRICS)
def test_a_damaged_metrics_csv_is_listed_with_a_note(tmp_path, case):
    content, epochs = METRICS[case]
    [run] = list_runs([_run_with(tmp_path, b'{"status": "finished"}', content)])
    assert [row["epoch"] for row in run.history] == epochs and run.epochs == max(epochs, default=0)
    assert all(
        value is None or math.isfinite(value) for row in run.history for value in row.values()
    )
    assert any("metrics.csv" in note for note in run.notes) == (case != "NUL bytes")


@pytest.mark.skipif(os.name != "posix", reason="FIFOs and /dev/zero")
def test_a_fifo_or_a_device_named_like_a_run_file_is_not_opened(tmp_path):
    folder = _run_with(tmp_path, None, None)
    os.mkfifo(folder / "run.json")  # opening it would wait for a writer forever
    (folder / "metrics.csv").symlink_to("/dev/zero")
    [run] = list_runs([folder])
    assert run.status == "unknown" and len(run.notes) >= 2 and run.history == []
