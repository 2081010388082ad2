"""Training faults: whatever ends a run, a sentence for the user and the last good weights.

Hypothesis picks a fault and where it strikes (epoch, batch), and a run of 3 epochs of
5 batches each is checked against what an independent listener saw:

- ``nan``: the network's output (so the loss) becomes NaN during that batch;
- ``data``: fetching that batch raises ``OSError`` (the data went away under the run);
- ``stop``: the user presses Stop while that batch is computed;
- ``disk``: from that epoch on the checkpoint folder cannot be written (disk full).

In every case the model ends up holding the weights of its best completed epoch (or
those it started with when no epoch completed), the checkpoints on disk are whole and
are the last ones written before the fault, and no temporary file is left. The number
of injected faults is reported through ``tests.reliability_log``.
"""

from __future__ import annotations

import errno
import math
import subprocess
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file

from engine import cli
from engine.data import load_dataset
from engine.errors import TrainingError
from engine.training import Callback, Trainer
from engine.training import checkpoint as ckpt
from engine.training.core.supervised import Supervised
from tests.engine.builders import chain
from tests.faults import checkpoints_fill_the_disk
from tests.reliability_log import scaled, write_case_counts

ROOT = Path(__file__).resolve().parents[2]
EPOCHS, BATCHES, BATCH_SIZE = 3, 5, 32
FAULTS = Counter()
CLI_FAULTS = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_faults():
    yield
    names = {"nan": "NaN loss", "data": "exception fetching a batch", "stop": "Stop mid-batch",
             "disk": "full disk"}  # fmt: skip
    write_case_counts({f"training fault: {names[kind]}": n for kind, n in FAULTS.items()})
    write_case_counts({f"training fault (command line): {k}": n for k, n in CLI_FAULTS.items()})


@pytest.fixture(scope="module")
def moons():
    data = load_dataset({"name": "moons", "params": {"n_samples": 200}})
    assert len(data.x_train) == BATCHES * BATCH_SIZE
    return data


def network():
    return chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}),
                 input_shape=(2,))  # fmt: skip


CONFIG = {"epochs": EPOCHS, "batch_size": BATCH_SIZE, "optimizer": {"type": "Adam", "lr": 0.05}}


class Observer(Callback):
    """Copies the weights at the start, after each epoch and at each new best."""

    def __init__(self):
        self.start = None
        self.epochs: dict[int, dict] = {}
        self.best, self.best_epoch = None, 0
        self.best_at: dict[int, int] = {}  # epoch -> the best epoch so far
        self.warnings: list[str] = []
        self.failures = []

    def on_train_start(self, trainer, event):
        self.start = self.best = ckpt.state_tensors(trainer.model)

    def on_epoch_end(self, trainer, event):
        self.epochs[event.epoch] = ckpt.state_tensors(trainer.model)
        if event.is_best:
            self.best, self.best_epoch = self.epochs[event.epoch], event.epoch
        self.best_at[event.epoch] = self.best_epoch

    def on_warning(self, trainer, message):
        self.warnings.append(message)

    def on_exception(self, trainer, event):
        self.failures.append(event)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class FaultAt:
    """Counts training batches; ``strike`` runs during batch (epoch, batch)."""

    def __init__(self, epoch: int, batch: int, strike):
        self.target = (epoch - 1) * BATCHES + batch
        self.calls = 0
        self.strike = strike

    def hit(self) -> bool:
        self.calls += 1
        return self.calls == self.target


def run_with_fault(data, kind: str, epoch: int, batch: int, out_dir: Path, seed: int = 0):
    """Train with the fault injected; returns (trainer, observer, end or error)."""
    observer = Observer()
    config = {**CONFIG, "seed": seed}
    trainer = Trainer(network(), data, config, [observer], out_dir=out_dir)
    fault = FaultAt(epoch, batch, None)
    patches = []
    if kind in ("nan", "stop"):

        def forward_hook(module, inputs, output):
            if not module.training or not fault.hit():
                return None
            if kind == "stop":
                trainer.stop()
                return None
            return output * math.nan

        trainer.model.register_forward_hook(forward_hook)
    elif kind == "data":
        real_step = Supervised.step

        def step_that_fails(recipe, idx):
            if fault.hit():
                raise OSError(errno.EIO, "Input/output error", "digits.csv")
            return real_step(recipe, idx)

        patches.append(mock.patch.object(Supervised, "step", step_that_fails))
    elif kind == "disk":
        import safetensors.torch

        real_save = safetensors.torch.save_file

        def save_until_full(tensors, filename, *args, **kwargs):
            if len(trainer.history) >= epoch:  # the checkpoint of epoch `epoch` on
                Path(filename).write_bytes(b"half a file")
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_save(tensors, filename, *args, **kwargs)

        patches.append(mock.patch.object(safetensors.torch, "save_file", save_until_full))
    for patch in patches:
        patch.start()
    try:
        result = trainer.fit()
    except TrainingError as error:
        result = error
    finally:
        for patch in patches:
            patch.stop()
    return trainer, observer, result


def check_checkpoints(folder: Path, observer: Observer, last_written: int) -> None:
    """The checkpoints on disk are whole: ``last`` of ``last_written``, ``best`` of its best."""
    assert not list(folder.parent.rglob("*.tmp")), "a temporary file was left behind"
    if last_written == 0:
        assert not folder.exists() or not any(folder.iterdir())
        return
    assert same(load_file(folder / "last.safetensors"), observer.epochs[last_written])
    best = observer.best_at[last_written]
    assert same(load_file(folder / "best.safetensors"), observer.epochs[best])
    weights, state = ckpt.resolve(folder.parent)
    assert weights == folder / "last.safetensors"
    assert ckpt.load_state(state, "cpu")["epoch"] == last_written


@settings(max_examples=scaled(40), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    kind=st.sampled_from(["nan", "data", "stop", "disk"]),
    epoch=st.integers(1, EPOCHS),
    batch=st.integers(1, BATCHES),
    seed=st.integers(0, 2**16),  # initial weights and batch order, so runs differ
)
def test_every_fault_ends_with_a_sentence_and_the_last_good_weights(
    moons, tmp_path_factory, kind, epoch, batch, seed
):
    out = tmp_path_factory.mktemp("run")
    trainer, observer, result = run_with_fault(moons, kind, epoch, batch, out, seed)
    FAULTS[kind] += 1
    kept = trainer.model.state_dict()
    assert all(torch.isfinite(v).all() for v in kept.values() if v.is_floating_point())
    if kind in ("nan", "data"):
        assert isinstance(result, TrainingError)
        message = str(result)
        assert "\n" not in message and "Traceback" not in message
        if kind == "nan":
            assert "training diverged" in message and "lower optimizer.lr" in message
        else:
            assert message == "training failed: Input/output error (digits.csv)"
        completed = epoch - 1
        assert [f.kept_epoch for f in observer.failures] == [observer.best_epoch]
        assert max(observer.epochs, default=0) == completed
    elif kind == "stop":
        completed = epoch if batch == BATCHES else epoch - 1
        assert result.reason == "stopped" and result.epochs_done == completed
    else:
        completed = EPOCHS
        assert result.reason == "finished" and result.epochs_done == EPOCHS
        assert len(observer.warnings) == 1, observer.warnings
        warning = observer.warnings[0]
        assert "cannot write checkpoints to" in warning and "No space left" in warning
        assert "training goes on" in warning
    assert sorted(observer.epochs) == list(range(1, completed + 1))
    expected = observer.best if observer.best_epoch else observer.start
    assert same({k: v.cpu() for k, v in kept.items()}, expected)
    last_written = min(completed, epoch - 1) if kind == "disk" else completed
    check_checkpoints(out / "checkpoints", observer, last_written)


# -- the command line ----------------------------------------------------------------
def moons_project(tmp_path: Path, epochs: int = EPOCHS) -> Path:
    from engine import project

    settings = {**CONFIG, "epochs": epochs}
    dataset = {"name": "moons", "params": {"n_samples": 200}}
    path = tmp_path / "moons.dwire"
    project.save(project.Project({"model": network()}, dataset, settings), path)
    return path


def test_cli_failure_after_an_epoch_keeps_the_best_weights_so_far(tmp_path, capsys):
    path, out = moons_project(tmp_path), tmp_path / "run"
    fault = FaultAt(epoch=2, batch=3, strike=None)
    real_step = Supervised.step

    def step_that_fails(recipe, idx):
        if fault.hit():
            raise OSError(errno.EIO, "Input/output error", "moons.csv")
        return real_step(recipe, idx)

    with mock.patch.object(Supervised, "step", step_that_fails):
        status = cli.main(["train", str(path), "--out", str(out), "--no-progress"])
    CLI_FAULTS["exception in epoch 2"] += 1
    err = capsys.readouterr().err
    assert status == cli.EXIT_FAILED
    assert "deepwire: training failed: Input/output error (moons.csv)" in err
    assert "the weights of epoch 1 (the best before the failure) are in" in err
    assert "Traceback" not in err
    assert same(
        load_file(out / "weights.safetensors"), load_file(out / "checkpoints/best.safetensors")
    )


def test_cli_failure_in_the_first_epoch_writes_no_weights(tmp_path, capsys):
    path, out = moons_project(tmp_path), tmp_path / "run"
    out.mkdir()
    (out / "weights.safetensors").write_bytes(b"an earlier run's weights")

    real_step = Supervised.step

    def nan_step(recipe, idx):
        return real_step(recipe, idx) * math.nan

    with mock.patch.object(Supervised, "step", nan_step):
        status = cli.main(["train", str(path), "--out", str(out), "--no-progress"])
    CLI_FAULTS["NaN in epoch 1"] += 1
    err = capsys.readouterr().err
    assert status == cli.EXIT_FAILED and "training diverged" in err
    assert (out / "weights.safetensors").read_bytes() == b"an earlier run's weights"


def test_cli_refuses_an_out_folder_it_cannot_write_before_training(tmp_path, capsys):
    path = moons_project(tmp_path)
    (tmp_path / "a file").write_text("not a folder")
    status = cli.main(["train", str(path), "--out", str(tmp_path / "a file" / "run")])
    CLI_FAULTS["unwritable --out"] += 1
    captured = capsys.readouterr()
    assert status == cli.EXIT_BAD_INPUT
    assert captured.err.startswith("deepwire: cannot write the results to ")
    assert "choose another folder with --out" in captured.err
    assert "epoch 1" not in captured.out  # nothing was trained for nothing


def test_cli_full_disk_mid_run_warns_and_still_writes_the_weights(tmp_path, capsys):
    path, out = moons_project(tmp_path), tmp_path / "run"
    with checkpoints_fill_the_disk(after=2):  # epoch 1's last and best are written
        status = cli.main(["train", str(path), "--out", str(out), "--no-progress"])
    CLI_FAULTS["full disk mid-run"] += 1
    captured = capsys.readouterr()
    assert status == cli.EXIT_OK
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "No space left on device" in warnings[0]
    assert "the checkpoint of epoch 1 there is kept" in warnings[0]
    assert f"epoch {EPOCHS}/{EPOCHS}" in captured.out
    assert ckpt.load_state(out / "checkpoints/last.state.pt", "cpu")["epoch"] == 1
    assert (out / "weights.safetensors").is_file()
    assert not list(out.rglob("*.tmp"))


def test_ctrl_c_stops_after_the_batch_and_keeps_the_best_weights(tmp_path):
    import os
    import signal

    path, out = moons_project(tmp_path, epochs=100_000), tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "train", str(path), "--out", str(out), "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        lines = []
        while not any(line.startswith("epoch 2/") for line in lines):
            line = process.stdout.readline()
            assert line, process.stderr.read()
            lines.append(line)
        process.send_signal(signal.SIGINT)
        out_text, err = process.communicate(timeout=60)
    finally:
        process.kill()
    CLI_FAULTS["Ctrl-C"] += 1
    assert process.returncode == cli.EXIT_INTERRUPTED, err
    assert "stopping after this batch" in err and "Traceback" not in err
    assert "stopped by the user" in out_text
    assert same(
        load_file(out / "weights.safetensors"), load_file(out / "checkpoints/best.safetensors")
    )
