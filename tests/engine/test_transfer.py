"""Transfer learning: digits by class, loading matching weights, the transfer example."""

import csv
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine import project
from engine.cli import main
from engine.compile import compile_network
from engine.data import load_dataset
from engine.errors import DataError
from engine.weights import WeightsError, load_matching_weights, load_weights
from tests.engine.builders import chain

EXAMPLES = Path(__file__).parents[2] / "resources" / "examples"


def test_digits_classes_keeps_those_digits_renumbered():
    every = load_dataset({"name": "digits", "params": {"validation_split": 0.2}})
    some = load_dataset({"name": "digits", "params": {"classes": [7, 2]}})
    assert some.num_classes == 2 and some.class_names == ["7", "2"]
    assert set(some.y_train.tolist()) == {0, 1}
    sevens = int((every.y_train == 7).sum() + (every.y_val == 7).sum())
    assert int((some.y_train == 0).sum() + (some.y_val == 0).sum()) == sevens
    assert len(some) < len(every)


@pytest.mark.parametrize("classes", [[3], [1, 1], [0, 10], "0-4", [0.0, 1]])
def test_digits_classes_refuses_bad_lists(classes):
    with pytest.raises(DataError, match="classes"):
        load_dataset({"name": "digits", "params": {"classes": classes}})


def _mlp(out_features, hidden=8):
    layers = (
        ("Linear", {"out_features": hidden}),
        "ReLU",
        ("Linear", {"out_features": out_features}),
    )
    return compile_network(chain(*layers, input_shape=(4,)))


def test_partial_load_takes_matching_nodes_and_reports_the_rest():
    source, target = _mlp(5), _mlp(3)
    before = target.linear3.weight.detach().clone()
    report = load_weights(target, source.state_dict(), partial=True)
    assert report.loaded == ["linear1"]
    assert "shape (5, 8) in the file but (3, 8)" in report.skipped["linear3"]
    assert torch.equal(target.linear1.weight, source.linear1.weight)
    assert torch.equal(target.linear3.weight, before)
    assert "skipped linear3" in report.summary()


def test_partial_load_reports_nodes_missing_and_unused():
    source = _mlp(3).state_dict()
    renamed = {k.replace("linear3", "head"): v for k, v in source.items()}
    report = load_matching_weights(_mlp(3), renamed)
    assert report.unused == ["head"]
    assert "no weight" in report.skipped["linear3"]


def test_partial_load_with_nothing_in_common_loads_nothing():
    target = _mlp(3, hidden=6)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(WeightsError, match="no node"):
        load_matching_weights(target, _mlp(5).state_dict())
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_transfer_example_learns_5_to_9_from_the_0_to_4_network(tmp_path, capsys):
    source, target = (EXAMPLES / f"transfer_digits_{n}.dwire" for n in ("source", "target"))
    assert main(["train", str(source), "--epochs", "4", "--out", str(tmp_path / "src"),
                 "--no-progress"]) == 0  # fmt: skip
    learned = load_file(tmp_path / "src/weights.safetensors")
    capsys.readouterr()
    assert main(["train", str(target), "--epochs", "3", "--out", str(tmp_path / "tgt"),
                 "--no-progress", "--init-weights", str(tmp_path / "src/weights.safetensors")]) == 0  # fmt: skip
    report = capsys.readouterr().err
    assert "loaded weights for 3 node(s): conv1, bn1, conv2" in report
    assert "skipped new_head" in report  # the replaced head starts fresh
    with open(tmp_path / "tgt/metrics.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert max(float(r["val_accuracy"]) for r in rows) > 0.7
    trained = load_file(tmp_path / "tgt/weights.safetensors")
    for key in ("conv1.weight", "conv2.weight", "bn1.weight"):
        assert torch.equal(trained[key], learned[key])
    frozen = [n.id for n in project.load(target).network.nodes if not n.trainable]
    assert frozen == ["conv1", "bn1", "conv2"]


def test_init_weights_that_fit_nothing_is_bad_input(tmp_path, capsys):
    target = EXAMPLES / "transfer_digits_target.dwire"
    other = tmp_path / "other.safetensors"
    from safetensors.torch import save_file

    save_file({"x.weight": torch.zeros(2)}, other)
    code = main(["train", str(target), "--epochs", "1", "--out", str(tmp_path / "t"),
                 "--init-weights", str(other)])  # fmt: skip
    assert code == 2
    assert "no node" in capsys.readouterr().err
