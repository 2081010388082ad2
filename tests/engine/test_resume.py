"""``--resume``: after a kill -9 the run goes on with every epoch in metrics.csv once, and a
damaged or crafted checkpoint ends in one sentence naming its file, changing nothing.

The kill is real (SIGKILL of a ``deepwire train`` process whose checkpoints stopped
being written after epoch 1, so metrics.csv holds rows the checkpoint does not); a
property test crashes runs at any epoch with checkpoints lagging by any amount, and
another puts hostile values into every field of a checkpoint's state.
"""

from __future__ import annotations

import csv
import errno
import math
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from engine import cli
from engine.data import load_dataset
from engine.errors import TrainingError
from engine.training import Callback, MetricsCSV, Trainer
from engine.training import checkpoint as ckpt
from tests.engine.test_training_faults import CONFIG, moons_project, network, same
from tests.reliability_log import scaled, write_case_counts

ROOT = Path(__file__).resolve().parents[2]
CASES: Counter = Counter()

# `deepwire train` whose checkpoints fill the disk after epoch 1's last and best
TRAIN_WITH_FULL_DISK = """
import sys
from engine import cli
from tests.faults import checkpoints_fill_the_disk
with checkpoints_fill_the_disk(after=2):
    sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts({f"resume: {k}": n for k, n in CASES.items()})


@pytest.fixture(scope="module")
def moons():
    return load_dataset({"name": "moons", "params": {"n_samples": 200}})


def rows(path: Path) -> list[dict]:
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_resume_after_kill_9_keeps_every_epoch_once(tmp_path):
    path, out = moons_project(tmp_path, epochs=100_000), tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-c", TRAIN_WITH_FULL_DISK, "train", str(path), "--out", str(out),
         "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        line = ""
        while not line.startswith("epoch 4/"):
            line = process.stdout.readline()
            assert line, process.stderr.read()
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    before = rows(out / "metrics.csv")
    assert ckpt.load_state(out / "checkpoints/last.state.pt", "cpu")["epoch"] == 1
    assert len(before) >= 3  # epochs 2 and 3 were written, their checkpoints were not
    status = cli.main(["train", str(path), "--out", str(out), "--resume", str(out),
                       "--epochs", "6", "--no-progress"])  # fmt: skip
    assert status == cli.EXIT_OK
    after = rows(out / "metrics.csv")
    assert [row["epoch"] for row in after] == ["1", "2", "3", "4", "5", "6"]
    assert after[0] == before[0]
    layers = rows(out / "layers.csv")  # every epoch once per node there too
    nodes = {row["node"] for row in layers}
    assert [row["epoch"] for row in layers] == [str(e) for e in range(1, 7) for _ in nodes]
    CASES["kill -9 of deepwire train, then --resume"] += 1


class Crash(BaseException):
    """Ends a run like a kill: no handler of the trainer runs."""


class CrashAfter(Callback):
    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, trainer, event):
        if event.epoch == self.epoch:
            raise Crash


def checkpoints_until(epoch: int):
    """Checkpoints after ``epoch`` cannot be written (the disk is full)."""
    real = ckpt.save_checkpoint

    def save(folder, name, module, state):
        if state["epoch"] > epoch:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(folder, name, module, state)

    return mock.patch.object(ckpt, "save_checkpoint", save)


@settings(max_examples=scaled(6), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(crash=st.integers(1, 4), lag=st.integers(0, 3), more=st.integers(1, 2))
def test_resume_after_a_crash_at_any_epoch_keeps_every_epoch_once(
    moons, tmp_path_factory, crash, lag, more
):
    out = tmp_path_factory.mktemp("run")
    written = max(1, crash - lag)  # the last epoch whose checkpoint reached the disk
    csv_file = out / "metrics.csv"
    first = Trainer(network(), moons, {**CONFIG, "epochs": 10},
                    [MetricsCSV(csv_file), CrashAfter(crash)], out_dir=out)  # fmt: skip
    with checkpoints_until(written), pytest.raises(Crash):
        first.fit()
    before = rows(csv_file)
    assert len(before) == crash
    total = crash + more
    resumed = Trainer(network(), moons, {**CONFIG, "epochs": total}, [MetricsCSV(csv_file)],
                      out_dir=out)  # fmt: skip
    resumed.fit(resume_from=out)
    after = rows(csv_file)
    assert [int(row["epoch"]) for row in after] == list(range(1, total + 1))
    assert after[:written] == before[:written]
    CASES["crash at any epoch, checkpoints lagging, then resume"] += 1


# -- damaged and crafted checkpoints -----------------------------------------------------
@pytest.fixture(scope="module")
def finished_run(moons, tmp_path_factory):
    """A folder with the checkpoints of a 2-epoch run (and the project it trained)."""
    folder = tmp_path_factory.mktemp("finished")
    Trainer(network(), moons, {**CONFIG, "epochs": 2}, out_dir=folder / "run").fit()
    moons_project(folder, epochs=3)
    return folder


def craft(folder: Path, how: str) -> None:
    """Damage or craft the checkpoints in ``folder/run/checkpoints`` as ``how`` says."""
    files = folder / "run" / "checkpoints"
    state_file = files / "last.state.pt"
    if how in ("last weights of another shape", "best weights of another shape"):
        weights = files / f"{how.split()[0]}.safetensors"
        tensors = load_file(weights)
        tensors["linear1.weight"] = torch.zeros(3, 3)
        save_file(tensors, weights)
    elif how == "best weights damaged":
        (files / "best.safetensors").write_bytes(b"\xff" * 64)
    elif how == "state cut short":
        state_file.write_bytes(state_file.read_bytes()[:300])
    else:
        state = torch.load(state_file, weights_only=True)
        if how == "optimizer state of another shape":
            state["optimizer"]["state"][0]["exp_avg"] = torch.zeros(5)
        else:
            key, value = {"best value NaN": ("best_value", math.nan),
                          "epoch not a number": ("epoch", "2")}[how]  # fmt: skip
            state[key] = value
        torch.save(state, state_file)


CRAFTED = {
    "last weights of another shape": "last.safetensors do not fit this network",
    "best weights of another shape": "best.safetensors do not fit this network",
    "best weights damaged": "best.safetensors: not a readable .safetensors file",
    "state cut short": "last.state.pt: not a readable PyTorch file",
    "best value NaN": "last.state.pt: not a usable checkpoint: the best epoch's value is nan",
    "epoch not a number": "last.state.pt: not a usable checkpoint: epoch is '2'",
    "optimizer state of another shape": "last.state.pt: the optimizer state does not fit",
}


@pytest.mark.parametrize("how", sorted(CRAFTED))
def test_a_crafted_or_damaged_checkpoint_is_refused_naming_its_file(
    finished_run, tmp_path, capsys, how
):
    folder = tmp_path / "copy"
    shutil.copytree(finished_run, folder)
    craft(folder, how)
    files = sorted((folder / "run").rglob("*"))
    contents = [p.read_bytes() for p in files if p.is_file()]
    status = cli.main(["train", str(folder / "moons.dwire"), "--out", str(folder / "run"),
                       "--resume", str(folder / "run"), "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert status == cli.EXIT_FAILED
    assert captured.err.startswith("deepwire: ") and captured.err.count("\n") == 1
    assert CRAFTED[how] in captured.err and "Traceback" not in captured.err
    assert "epoch 3/" not in captured.out  # refused before training, not after
    assert sorted((folder / "run").rglob("*")) == files  # no weights claimed or written
    assert [p.read_bytes() for p in files if p.is_file()] == contents
    CASES[f"crafted checkpoint: {how}"] += 1


HOSTILE = [math.nan, math.inf, -math.inf, -1, 10**30, 2.5, "1", None, True, [], {}, [{"x": 1}]]
FIELDS = ["epoch", "step", "best_epoch", "best_value", "history", "best_row"]


@settings(max_examples=scaled(24), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(field=st.sampled_from(FIELDS), value=st.sampled_from(HOSTILE))
def test_any_hostile_field_of_a_checkpoint_is_refused_or_resumes_sanely(
    moons, finished_run, tmp_path_factory, field, value
):
    folder = tmp_path_factory.mktemp("hostile") / "run"
    shutil.copytree(finished_run / "run", folder)
    state_file = folder / "checkpoints" / "last.state.pt"
    state = torch.load(state_file, weights_only=True)
    state[field] = value
    torch.save(state, state_file)
    trainer = Trainer(network(), moons, {**CONFIG, "epochs": 3}, out_dir=folder)
    fresh = ckpt.state_tensors(trainer.model)
    try:
        end = trainer.fit(resume_from=folder)
    except TrainingError as error:
        message = str(error)
        assert "last.state.pt" in message and "\n" not in message
        assert same(ckpt.state_tensors(trainer.model), fresh)  # nothing was applied
        assert trainer.best_epoch == 0 and not trainer.history
        CASES["hostile checkpoint field: refused"] += 1
        return
    assert end.best_epoch in range(1, 4) and math.isfinite(trainer.best_value)
    assert [row["epoch"] for row in trainer.history] == list(range(1, end.epochs_done + 1))
    CASES["hostile checkpoint field: resumed"] += 1
