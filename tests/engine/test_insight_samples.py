"""The sample a probe looks at: one of the project's data, or a made-up one."""

import pytest
import torch

from engine.data import load_dataset
from engine.errors import DataError
from engine.insight.samples import dataset_sample, example_sample
from engine.project import Project
from tests.engine.builders import chain, graph

XOR = {"name": "xor", "params": {"n_samples": 50, "validation_split": 0.2}}


def xor_project(input_shape=(2,)):
    network = chain(("Linear", {"out_features": 2}), input_shape=input_shape)
    return Project({"model": network}, dataset=XOR)


def test_a_sample_of_each_part_is_the_one_training_feeds():
    data = load_dataset(XOR)
    project = xor_project()
    value = dataset_sample(project, 3)["input"]
    assert torch.equal(value, torch.as_tensor(data.x_val[3]))
    train = dataset_sample(project, 0, "train", dataset=data)["input"]
    assert torch.equal(train, torch.as_tensor(data.x_train[0]))
    reshaped = dataset_sample(xor_project((1, 2)), 3, dataset=data)["input"]
    assert reshaped.shape == (1, 2)


@pytest.mark.parametrize(
    ("index", "part", "said"),
    [
        (10, "validation", r"no sample 10 in the validation part: it has 10 samples \(0 to 9\)"),
        (-1, "validation", "no sample -1"),
        (0, "test", "the part must be validation or train, not 'test'"),
    ],
)
def test_a_sample_that_does_not_exist_is_one_sentence(index, part, said):
    with pytest.raises(DataError, match=said):
        dataset_sample(xor_project(), index, part, dataset=load_dataset(XOR))


def test_without_data_or_with_a_network_that_does_not_take_it():
    with pytest.raises(DataError, match='no "dataset" section'):
        dataset_sample(Project({"model": chain("ReLU", input_shape=(2,))}), 0)
    with pytest.raises(DataError):
        dataset_sample(xor_project((3,)), 0, dataset=load_dataset(XOR))


def test_a_made_up_sample_fits_every_input():
    network = graph(
        [
            ("x", "Input", {"shape": [1, 4, 4]}),
            ("tokens", "Input", {"shape": [5], "dtype": "int64"}),
            ("output", "Output", {}),
        ],
        ["x->output"],
    )
    sample = example_sample(network, seed=2)
    assert sample["x"].shape == (1, 4, 4) and sample["x"].dtype == torch.float32
    assert sample["tokens"].dtype == torch.long and sample["tokens"].shape == (5,)
    assert torch.equal(example_sample(network, seed=2)["x"], sample["x"])
