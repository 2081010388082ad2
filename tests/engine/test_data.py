"""Built-in datasets, splits, normalisation, suggestions and the Input shape rule."""

import numpy as np
import pytest

from engine.data import check_section, dataset_names, load_dataset
from engine.errors import DataError
from engine.training.core.augment import apply_augment

BUILTIN = ["digits", "iris", "wine", "breast_cancer", "diabetes", "moons", "circles",
           "spirals", "xor", "sine", "sequences"]  # fmt: skip


def test_every_builtin_dataset_loads_offline_and_suggests_a_network():
    assert set(BUILTIN) <= set(dataset_names())
    for name in BUILTIN:
        data = load_dataset({"name": name, "params": {}})
        suggestion = data.suggest()
        assert suggestion.input_shape == data.sample_shape
        assert len(data.x_train) > len(data.x_val) > 0
        if data.task == "classification":
            assert suggestion.out_features == data.num_classes == len(np.unique(data.y_train))
            assert suggestion.loss == "CrossEntropyLoss"
        else:
            assert suggestion.loss == "MSELoss"


def test_digits_are_grey_8x8_images_with_ten_classes():
    data = load_dataset({"name": "digits", "params": {}})
    assert data.sample_shape == (1, 8, 8) and data.dtype == "float32"
    assert data.task == "classification" and data.num_classes == 10 and data.kind == "image"
    assert "Linear(out_features=10)" in data.suggest().text


def test_sine_forecasts_the_next_value_and_sequences_are_token_ids():
    sine = load_dataset({"name": "sine", "params": {"steps": 12, "n_samples": 100}})
    assert sine.sample_shape == (12, 1) and sine.target_shape == (1,) and sine.task == "regression"
    tokens = load_dataset({"name": "sequences", "params": {"length": 10, "vocab_size": 30}})
    assert tokens.dtype == "int64" and tokens.sample_shape == (10,)
    assert tokens.x_train.min() >= 0 and tokens.x_train.max() < 30
    assert tokens.suggest().input_dtype == "int64"


def test_split_is_seeded_and_stratified():
    a = load_dataset({"name": "iris", "params": {"seed": 3, "normalize": False}})
    b = load_dataset({"name": "iris", "params": {"seed": 3, "normalize": False}})
    c = load_dataset({"name": "iris", "params": {"seed": 4, "normalize": False}})
    assert np.array_equal(a.x_val, b.x_val) and not np.array_equal(a.x_val, c.x_val)
    assert np.bincount(a.y_val).tolist() == [10, 10, 10]  # 20% of 50 per class


def test_normalisation_uses_training_statistics_only():
    data = load_dataset({"name": "wine", "params": {"validation_split": 0.3}})
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(data.x_val.mean(axis=0), 0, atol=1e-3)


def test_regression_targets_are_standardised_and_remembered():
    data = load_dataset({"name": "diabetes", "params": {}})
    assert abs(float(data.y_train.mean())) < 1e-5
    assert data.target_std > 10  # progression scores are in the tens to hundreds


def test_reconstruction_targets_are_the_inputs():
    data = load_dataset({"name": "digits", "params": {"task": "reconstruction"}})
    assert data.task == "reconstruction" and np.array_equal(data.y_train, data.x_train)
    assert data.suggest().out_features == 64 and data.suggest().loss == "MSELoss"


def test_input_shape_rule_reshapes_same_size_and_names_both_shapes_otherwise():
    data = load_dataset({"name": "digits", "params": {}})
    data.check_input((64,), "float32")
    data.check_input((1, 8, 8), "float32")
    with pytest.raises(
        DataError, match=r"the Input takes \(1, 28, 28\) but digits samples are \(1, 8, 8\)"
    ):
        data.check_input((1, 28, 28), "float32")
    with pytest.raises(DataError, match="set the Input's dtype to float32"):
        data.check_input((64,), "int64")


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"name": "mnist_online"}, "there is no dataset 'mnist_online'"),
        ({"name": "digits", "params": {"split": 0.2}}, "unknown param 'split'"),
        ({"name": "digits", "params": {"validation_split": 1.5}}, "validation_split"),
        ({"name": "digits", "params": {"seed": -1}}, '"seed"'),
        ({"name": "digits", "params": {"augment": {"rotate": 10}}}, "no setting 'rotate'"),
        ({"name": "iris", "params": {"augment": {"hflip": True}}}, "flips and shifts need images"),
        ({"name": "csv", "params": {}}, '"path"'),
        ({"name": "digits", "extra": 1}, "unknown field 'extra'"),
        ({"name": "digits", "params": {"task": "ranking"}}, '"task"'),
    ],
)
def test_bad_dataset_sections_name_the_field(section, fragment):
    with pytest.raises(DataError, match=fragment.replace("(", r"\(")):
        load_dataset(section)


def test_check_section_fills_in_defaults_without_loading():
    name, params = check_section({"name": "moons", "params": {"noise": 0.3}})
    assert name == "moons" and params["noise"] == 0.3 and params["validation_split"] == 0.2


def test_augmentation_changes_images_but_keeps_their_shape():
    import torch

    data = load_dataset(
        {"name": "digits", "params": {"augment": {"hflip": True, "shift": 2, "noise": 0.1}}}
    )
    batch = torch.from_numpy(data.x_train[:32])
    torch.manual_seed(0)
    out = apply_augment(batch, data.augment)
    assert out.shape == batch.shape and not torch.equal(out, batch)
    assert torch.equal(apply_augment(batch, {}), batch)
