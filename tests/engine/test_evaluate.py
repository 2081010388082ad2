"""Pictures of a trained model's result: confusion matrix, decision boundary, reconstructions."""

import numpy as np
import pytest

from engine.data import load_dataset
from engine.training import Trainer
from engine.training.evaluate import confusion_matrix, evaluate
from tests.engine.builders import chain


@pytest.fixture(scope="module")
def moons_trainer():
    data = load_dataset({"name": "moons", "params": {"n_samples": 300}})
    net = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}),
                input_shape=(2,))  # fmt: skip
    trainer = Trainer(net, data, {"epochs": 15, "batch_size": 32,
                                  "optimizer": {"type": "Adam", "lr": 0.03}})  # fmt: skip
    trainer.fit()
    return trainer


def test_confusion_matrix_counts_true_against_predicted():
    matrix = confusion_matrix(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_moons_gets_a_confusion_matrix_and_a_boundary_that_agrees_with_it(moons_trainer):
    result = evaluate(moons_trainer)
    matrix, boundary = result["confusion"], result["boundary"]
    assert matrix.sum() == len(moons_trainer.dataset.x_val)
    assert np.trace(matrix) / matrix.sum() > 0.8  # a trained model is mostly right
    classes, extent = boundary["classes"], boundary["extent"]
    assert set(np.unique(classes)) == {0, 1}
    # the grid covers every point; the class at a point's grid cell is usually its label
    points, labels = boundary["points"], boundary["labels"]
    assert extent[0] < points[:, 0].min() and points[:, 0].max() < extent[1]
    steps = classes.shape[0]
    cols = ((points[:, 0] - extent[0]) / (extent[1] - extent[0]) * (steps - 1)).round()
    rows = ((points[:, 1] - extent[2]) / (extent[3] - extent[2]) * (steps - 1)).round()
    agree = classes[rows.astype(int), cols.astype(int)] == labels
    assert agree.mean() > 0.8


def test_digits_get_a_confusion_matrix_without_a_boundary():
    data = load_dataset({"name": "digits", "params": {"limit": 300}})
    net = chain(("Linear", {"out_features": 10}), input_shape=(64,))
    trainer = Trainer(net, data, {"epochs": 1})
    trainer.fit()
    result = evaluate(trainer)
    assert result["confusion"].shape == (10, 10) and "boundary" not in result
    assert result["class_names"] == [str(i) for i in range(10)]


def test_an_autoencoder_gets_reconstructions_shaped_like_its_inputs():
    data = load_dataset({"name": "digits", "params": {"limit": 200, "task": "reconstruction"}})
    net = chain(("Linear", {"out_features": 8}), ("Linear", {"out_features": 64}),
                input_shape=(64,))  # fmt: skip
    trainer = Trainer(net, data, {"epochs": 2})
    trainer.fit()
    pictures = evaluate(trainer)["reconstruction"]
    assert pictures["inputs"].shape == pictures["outputs"].shape == (8, 1, 8, 8)
    assert not np.allclose(pictures["outputs"], 0)
