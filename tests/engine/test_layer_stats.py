"""Per-layer weight and gradient statistics: exact on a known gradient, and in layers.csv."""

import csv
import math

import torch

from engine.cli import main
from engine.training.core.layer_stats import LayerStats
from tests.engine.test_training_cli import iris_project


class Two(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 4)
        self.block = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
        self.frozen = torch.nn.Linear(2, 2)
        self.frozen.requires_grad_(False)


def test_gradient_norms_and_update_ratios_are_per_node():
    model = Two()
    stats = LayerStats(model.named_parameters(), batches=4)  # fewer than 16: every batch
    assert stats.nodes == ["fc1", "block"]  # a block's tensors are its node's; frozen left out
    stats.begin_epoch()
    start = {name: p.detach().clone() for name, p in model.named_parameters()}
    expected = {"fc1": 0.0, "block": 0.0}
    for scale in (1.0, 2.0):
        for p in model.parameters():
            if p.requires_grad:
                p.grad = torch.full_like(p, scale)
        for node in expected:
            squares = sum(p.grad.square().sum() for n, p in model.named_parameters()
                          if n.startswith(node + ".") and p.requires_grad)  # fmt: skip
            expected[node] += math.sqrt(squares) / 2
        observe = stats.observer()
        assert observe is not None
        observe()
    with torch.no_grad():
        model.fc1.weight.add_(1.0)  # the epoch moved fc1 only
    rows = {row["node"]: row for row in stats.end_epoch(3)}
    assert set(rows) == {"fc1", "block"} and all(r["epoch"] == 3 for r in rows.values())
    for node, grad in expected.items():
        assert math.isclose(rows[node]["grad_norm"], grad, rel_tol=1e-5)
    before = math.sqrt(start["fc1.weight"].square().sum() + start["fc1.bias"].square().sum())
    assert math.isclose(rows["fc1"]["update_ratio"], math.sqrt(12) / before, rel_tol=1e-5)
    assert rows["block"]["update_ratio"] == 0.0
    weight = math.sqrt(sum(p.detach().square().sum() for p in model.fc1.parameters()))
    assert math.isclose(rows["fc1"]["weight_norm"], weight, rel_tol=1e-5)


def test_readings_are_spread_over_a_long_epoch():
    stats = LayerStats(Two().named_parameters(), batches=160)
    stats.begin_epoch()
    due = [stats.observer() is not None for _ in range(160)]
    assert sum(due) == 16 and due[9] and not due[0]


def test_train_writes_layers_csv_beside_metrics_csv(tmp_path, capsys):
    path = iris_project(tmp_path)
    assert main(["train", str(path), "--epochs", "2", "--out", str(tmp_path / "run")]) == 0
    assert "layers.csv" in capsys.readouterr().err
    with open(tmp_path / "run/layers.csv") as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == ["epoch", "node", "weight_norm", "grad_norm", "update_ratio"]
    weighted = {row["node"] for row in table}
    assert [row["epoch"] for row in table] == ["1"] * len(weighted) + ["2"] * len(weighted)
    assert all(
        float(row[k]) > 0 for row in table for k in ("weight_norm", "grad_norm", "update_ratio")
    )


def test_the_doctor_names_the_vanishing_gradient_of_a_deep_sigmoid_mlp(tmp_path, capsys):
    from engine import project
    from tests.engine.builders import chain

    layers = [("Linear", {"out_features": 32}), "Sigmoid"] * 10 + [("Linear", {"out_features": 10})]
    settings = {"epochs": 2, "batch_size": 64, "optimizer": {"type": "SGD", "lr": 0.1}}
    deep = project.Project({"model": chain(*layers)}, {"name": "digits", "params": {}}, settings)
    project.save(deep, tmp_path / "deep.dwire")
    assert main(["train", str(tmp_path / "deep.dwire"), "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "note: Vanishing gradients: the first layer (linear1) gets" in out
    assert "Use ReLU instead of Sigmoid" in out


def test_each_epoch_gives_histograms_of_a_nodes_weights_and_last_read_gradient():
    import numpy as np

    model = Two()
    with torch.no_grad():
        model.fc1.weight.copy_(torch.arange(12.0).reshape(4, 3))  # 0..11
        model.fc1.bias.copy_(torch.tensor([20.0, 20.0, 20.0, 5.0]))
    stats = LayerStats(model.named_parameters(), batches=2)
    stats.begin_epoch()
    for scale in (1.0, -3.0):  # the histogram is of the last reading's gradient
        for p in model.parameters():
            p.grad = torch.full_like(p, scale) if p.requires_grad else None
        model.block[1].bias.grad[0] = 7.0
        stats.observer()()
        for p in model.parameters():
            if p.grad is not None:
                p.grad.mul_(0.01)  # clipping scales it in place after the reading
            p.grad = None  # as the optimizer drops it
    stats.end_epoch(1)
    weights = stats.histograms["fc1"]["weights"]
    values = np.concatenate([np.arange(12.0), [20, 20, 20, 5]])
    counts, edges = np.histogram(values, bins=30)
    assert weights.counts == tuple(counts) and np.allclose(weights.edges, edges)
    assert weights.total == 16 and weights.sum == values.sum()
    assert weights.sum_squares == (values**2).sum()
    grads = stats.histograms["block"]["gradients"]
    assert grads.edges[0] == -3.0 and grads.edges[-1] == 7.0 and len(grads.edges) == 31
    assert grads.counts[0] == 16 + 4 + 8 + 1 and grads.counts[-1] == 1 and grads.total == 30
    single = stats.histograms["fc1"]["gradients"]  # one value: one bin of width 1 around it
    assert single.edges[0] == -3.5 and single.edges[-1] == -2.5 and sum(single.counts) == 16
    assert set(stats.histograms) == {"fc1", "block"}  # the frozen node has none


def test_a_histogram_counts_finite_values_only():
    from engine.training.core.layer_stats import histogram

    counted = histogram([torch.tensor([0.0, 1.0, float("nan"), 2.0, float("inf")])], bins=2)
    assert counted.counts == (1, 2) and counted.edges == (0.0, 1.0, 2.0) and counted.total == 3


def test_a_gan_records_both_networks_layers_named_by_network(tmp_path):
    from engine.data import load_dataset
    from engine.training import Callback, Trainer
    from engine.training.callbacks import LayersCSV
    from tests.engine.test_adversarial import RINGS, TRAINING, gan

    events = []

    class Epochs(Callback):
        def on_epoch_end(self, trainer, event):
            events.append(event)

    listeners = [Epochs(), LayersCSV(tmp_path / "layers.csv")]
    training = {**TRAINING, "adversarial": {"d_steps": 2}}
    Trainer(gan(), load_dataset(RINGS), training, listeners).fit()
    nodes = ["generator.linear1", "generator.linear3", "discriminator.linear1",
             "discriminator.linear3"]  # fmt: skip
    assert len(events) == 2
    for event in events:
        assert [row["node"] for row in event.layers] == nodes
        assert all(row[k] > 0 for row in event.layers for k in ("grad_norm", "update_ratio"))
        assert set(event.histograms) == set(nodes)
        assert all(set(h) == {"weights", "gradients"} for h in event.histograms.values())
    with open(tmp_path / "layers.csv") as stream:
        table = list(csv.DictReader(stream))
    assert list(table[0]) == ["epoch", "node", "weight_norm", "grad_norm", "update_ratio"]
    assert [row["node"] for row in table] == nodes * 2
