"""deepwire train writes TensorBoard event files (read back as TensorBoard reads them),
and without the tensorboard package says so once and trains on."""

import csv
import math
import sys

import pytest

from engine.cli import main
from tests.engine.test_training_cli import iris_project


def _table(path):
    with open(path) as stream:
        return list(csv.DictReader(stream))


def test_a_run_writes_scalars_and_histograms_that_tensorboard_reads(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    path = iris_project(tmp_path)
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    assert "warning" not in capsys.readouterr().err
    events = EventAccumulator(str(tmp_path / "run/tensorboard"), size_guidance={"scalars": 0,
                              "histograms": 0})  # fmt: skip
    events.Reload()
    metrics = _table(tmp_path / "run/metrics.csv")
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr"):
        written = events.Scalars(f"metrics/{key}")
        assert [e.step for e in written] == [1, 2]
        assert [e.value for e in written] == pytest.approx([float(r[key]) for r in metrics],
                                                           rel=1e-5)  # fmt: skip
    layers = _table(tmp_path / "run/layers.csv")
    assert {row["node"] for row in layers} == {"linear1", "linear3"}
    for row in layers:
        for key in ("weight_norm", "grad_norm", "update_ratio"):
            value = events.Scalars(f"{key}/{row['node']}")[int(row["epoch"]) - 1].value
            assert value == pytest.approx(float(row[key]), rel=1e-5)
        weights = events.Histograms(f"weights/{row['node']}")[int(row["epoch"]) - 1]
        histogram = weights.histogram_value
        assert histogram.num == {"linear1": 4 * 8 + 8, "linear3": 8 * 3 + 3}[row["node"]]
        assert sum(histogram.bucket) == histogram.num and len(histogram.bucket) == 31
        assert math.sqrt(histogram.sum_squares) == pytest.approx(float(row["weight_norm"]),
                                                                 rel=1e-5)  # fmt: skip
        assert histogram.min == histogram.bucket_limit[0] < histogram.max
        gradients = events.Histograms(f"gradients/{row['node']}")[int(row["epoch"]) - 1]
        assert weights.step == gradients.step == int(row["epoch"])
        assert sum(gradients.histogram_value.bucket) == histogram.num


def test_without_tensorboard_a_run_says_so_once_and_trains_on(tmp_path, capsys, monkeypatch):
    for name in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    path = iris_project(tmp_path)
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    said = (
        "warning: TensorBoard event files are not written: the tensorboard package is not "
        "installed (pip install tensorboard)"
    )
    assert err.count(said) == 1
    assert len(_table(tmp_path / "run/metrics.csv")) == 2
    assert not (tmp_path / "run/tensorboard").exists()


def test_a_tensorboard_folder_that_cannot_be_made_is_a_warning(tmp_path, capsys):
    path = iris_project(tmp_path)
    (tmp_path / "run").mkdir()
    (tmp_path / "run/tensorboard").write_text("a file where the folder would go")
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert (
        err.count(f"warning: cannot write TensorBoard files to {tmp_path / 'run/tensorboard'}") == 1
    )
    assert "training goes on" in err and len(_table(tmp_path / "run/metrics.csv")) == 2


def test_a_resumed_run_shows_each_epoch_once_in_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from engine.data import load_dataset
    from engine.training import Trainer
    from engine.training.tensorboard import TensorBoardWriter
    from tests.engine.test_resume import Crash, CrashAfter, checkpoints_until
    from tests.engine.test_training_faults import CONFIG, network

    moons = load_dataset({"name": "moons", "params": {"n_samples": 200}})
    first = Trainer(network(), moons, {**CONFIG, "epochs": 10},
                    [TensorBoardWriter(tmp_path / "tb"), CrashAfter(3)], out_dir=tmp_path)  # fmt: skip
    with checkpoints_until(1), pytest.raises(Crash):  # epochs 2 and 3 are written again
        first.fit()
    resumed = Trainer(network(), moons, {**CONFIG, "epochs": 4},
                      [TensorBoardWriter(tmp_path / "tb")], out_dir=tmp_path)  # fmt: skip
    resumed.fit(resume_from=tmp_path)
    events = EventAccumulator(str(tmp_path / "tb"), size_guidance={"histograms": 0})
    events.Reload()
    assert [e.step for e in events.Scalars("metrics/train_loss")] == [1, 2, 3, 4]
    assert [e.step for e in events.Histograms("weights/linear1")] == [1, 2, 3, 4]
