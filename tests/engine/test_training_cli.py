"""``deepwire train``: files it writes and how it fails."""

import csv

from safetensors.torch import load_file

from engine import project
from engine.cli import main
from engine.compile import compile_network
from tests.engine.builders import chain


def write_project(path, network, dataset, training):
    proj = project.Project({"model": network}, dataset, training)
    project.save(proj, path)
    return path


def iris_project(tmp_path, **training):
    network = chain(("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 3}),
                    input_shape=(4,))  # fmt: skip
    settings = {
        "epochs": 3,
        "batch_size": 16,
        "optimizer": {"type": "Adam", "lr": 0.05},
        **training,
    }
    return write_project(tmp_path / "iris.dwire", network, {"name": "iris", "params": {}}, settings)


def test_train_writes_metrics_and_best_weights(tmp_path, capsys):
    path = iris_project(tmp_path)
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr()
    assert "epoch 1/2" in out.out and "epoch 2/2" in out.out
    with open(tmp_path / "run/metrics.csv") as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == [
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
    ]
    assert [row["epoch"] for row in table] == ["1", "2"]
    weights = load_file(tmp_path / "run/weights.safetensors")
    expected = compile_network(project.load(path).network).state_dict()
    assert set(weights) == set(expected)
    assert all(weights[k].shape == v.shape for k, v in expected.items())


def test_regression_metrics_columns_and_default_out_folder(tmp_path):
    network = chain(("Linear", {"out_features": 1}), input_shape=(10,))
    path = write_project(tmp_path / "dia.dwire", network, {"name": "diabetes"}, {"epochs": 1})
    assert main(["train", str(path), "--no-progress"]) == 0
    header = (tmp_path / "dia_run/metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,train_loss,train_mae,train_r2,val_loss,val_mae,val_r2,lr"


def test_bad_dataset_section_exits_2_with_the_reason(tmp_path, capsys):
    network = chain(("Linear", {"out_features": 3}), input_shape=(4,))
    path = write_project(
        tmp_path / "bad.dwire", network, {"name": "iris", "params": {"splt": 1}}, {}
    )
    assert main(["train", str(path)]) == 2
    assert "unknown param 'splt'" in capsys.readouterr().err
    path = write_project(tmp_path / "none.dwire", network, None, {})
    assert main(["train", str(path)]) == 2
    assert 'no "dataset" section' in capsys.readouterr().err


def test_bad_training_section_and_misfit_network_exit_2(tmp_path, capsys):
    assert main(["train", str(iris_project(tmp_path, optimizer={"type": "Adamm"}))]) == 2
    assert "optimizer 'Adamm' is not one of" in capsys.readouterr().err
    network = chain(("Linear", {"out_features": 3}), input_shape=(5,))
    path = write_project(tmp_path / "misfit.dwire", network, {"name": "iris"}, {})
    assert main(["train", str(path)]) == 2
    assert "the Input takes (5,) but iris samples are (4,)" in capsys.readouterr().err


def test_training_failure_exits_1(tmp_path, capsys):
    network = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 1}),
                    input_shape=(10,))  # fmt: skip
    training = {"epochs": 3, "batch_size": 32, "optimizer": {"type": "SGD", "lr": 5.0}}
    path = write_project(tmp_path / "nan.dwire", network, {"name": "diabetes"}, training)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    assert "training diverged" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.dwire")]) == 2
