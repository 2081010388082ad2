"""The network checked against its data: sentences that name the node and the setting,
the edits of "Apply to network", and descriptions that need no loading."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine import project as project_file
from engine.analysis import ERROR, WARNING, analyze
from engine.data import load_dataset
from engine.data_fit import DataInfo, analyze_project, check_fit, describe, fit_edits, remember
from engine.project import Project
from tests.engine.builders import chain, graph

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
DIGITS = DataInfo("digits", (1, 8, 8), num_classes=10)


def found(network, info=DIGITS, loss="auto"):
    return check_fit(analyze(network), info, loss)


def mlp(last=32, input_shape=(64,)):
    return graph(
        [("input", "Input", {"shape": list(input_shape)}),
         ("fc1", "Linear", {"out_features": 64}), ("act", "ReLU", {}),
         ("fc2", "Linear", {"out_features": last}), ("output", "Output", {})],
        ["input->fc1", "fc1->act", "act->fc2", "fc2->output"],
    )  # fmt: skip


def test_a_last_layer_wider_than_the_classes_is_named_with_the_setting_to_change():
    (diagnostic,) = found(mlp(32))
    assert diagnostic.severity == WARNING and diagnostic.node == "fc2"
    assert diagnostic.message.startswith(
        "fc2: Linear gives 32 outputs but digits has 10 classes; set out_features to 10"
    )
    assert found(mlp(10)) == []


def test_too_few_outputs_is_an_error_and_training_refuses_it_with_the_same_sentence():
    from engine.errors import TrainingError
    from engine.training import Trainer

    (diagnostic,) = found(mlp(5))
    assert diagnostic.severity == ERROR
    assert diagnostic.message == (
        "fc2: Linear gives 5 outputs but digits has 10 classes; set out_features to 10"
    )
    digits = load_dataset({"name": "digits", "params": {}})
    with pytest.raises(TrainingError) as refused:
        Trainer(mlp(5), digits, {"epochs": 1})
    assert str(refused.value) == diagnostic.message


def test_the_last_layer_is_found_behind_activations_dropout_and_flatten():
    network = chain(
        ("Conv2d", {"out_channels": 3, "kernel_size": 8}), "ReLU", "Flatten",
        ("Dropout", {"p": 0.1}), input_shape=(1, 8, 8),
    )  # fmt: skip
    (diagnostic,) = found(network)
    assert diagnostic.node == "conv2d1"
    assert "Conv2d gives 3 outputs but digits has 10 classes; set out_channels to 10" in (
        diagnostic.message
    )
    assert fit_edits(network, DIGITS) == {"conv2d1": {"out_channels": 10}}


def test_no_single_setting_fixes_it_then_the_output_is_named():
    network = chain(("Linear", {"out_features": 12}), ("Reshape", {"shape": [3, 4]}),
                    "Flatten", input_shape=(64,))  # fmt: skip
    (diagnostic,) = found(network)
    assert diagnostic.node == "output"
    assert "make the last layer give 10" in diagnostic.message
    assert fit_edits(network, DIGITS) == {}


def test_an_output_that_is_not_one_vector_of_scores_is_explained():
    network = chain(("Linear", {"out_features": 10}), input_shape=(8, 8))
    (diagnostic,) = found(network)
    assert diagnostic.severity == ERROR and diagnostic.node == "output"
    assert "the network gives (8, 10) but CrossEntropyLoss needs one score per class" in (
        diagnostic.message
    )


def test_regression_and_reconstruction_compare_with_targets_and_input_size():
    sine = DataInfo("sine", (20, 1), task="regression", target_shape=(1,))
    network = chain("Flatten", ("Linear", {"out_features": 4}), input_shape=(20, 1))
    (diagnostic,) = found(network, sine)
    assert diagnostic.message == (
        "linear2: Linear gives 4 outputs but sine has 1 target value(s) per sample; "
        "set out_features to 1"
    )
    rebuild = DataInfo("digits", (1, 8, 8), task="reconstruction", target_shape=(1, 8, 8))
    network = chain("Flatten", ("Linear", {"out_features": 16}), ("Linear", {"out_features": 32}),
                    input_shape=(1, 8, 8))  # fmt: skip
    (diagnostic,) = found(network, rebuild)
    assert diagnostic.node == "linear3" and "needs 64; set out_features to 64" in diagnostic.message


def test_input_shape_and_dtype_are_checked_against_the_samples():
    images = chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 28, 28))
    (shape,) = found(images)
    assert shape.node == "input" and shape.severity == ERROR
    assert shape.message == (
        "input: the Input takes (1, 28, 28) but digits samples are (1, 8, 8); set the Input's "
        "shape to (1, 8, 8)"
    )
    tokens = DataInfo("sequences", (16,), "int64", num_classes=2)
    network = chain(("Linear", {"out_features": 2}), input_shape=(16,))
    (dtype,) = found(network, tokens)
    assert "set the Input's dtype to int64" in dtype.message
    flat = chain("Flatten", ("Linear", {"out_features": 10}), input_shape=(8, 8))
    assert found(flat) == []  # as many elements as a sample: the samples are reshaped


def test_the_loss_is_checked_against_the_task_in_the_words_of_the_form():
    sine = DataInfo("sine", (4,), task="regression", target_shape=(1,))
    network = chain(("Linear", {"out_features": 1}), input_shape=(4,))
    (wrong,) = found(network, sine, "CrossEntropyLoss")
    assert wrong.severity == ERROR and wrong.node is None
    assert wrong.message == (
        "CrossEntropyLoss is for classes, but sine is a regression task; set Loss to MSELoss "
        "(or auto)"
    )
    (slow,) = found(mlp(10), DIGITS, "MSELoss")
    assert slow.severity == WARNING and "set Loss to CrossEntropyLoss" in slow.message
    assert found(mlp(10), DIGITS, "CrossEntropyLoss") == found(mlp(10), DIGITS, "auto") == []


def test_a_softmax_before_cross_entropy_and_nll_without_log_softmax_are_warned():
    network = chain(("Linear", {"out_features": 10}), "Softmax")
    (softmax,) = found(network)
    assert softmax.node == "softmax2" and "applies softmax itself" in softmax.message
    (nll,) = found(mlp(10), DIGITS, "NLLLoss")
    assert nll.node == "fc2" and "add a LogSoftmax" in nll.message
    assert found(chain(("Linear", {"out_features": 10}), "LogSoftmax"), DIGITS, "NLLLoss") == []


def test_two_classes_with_bce_may_have_one_output():
    moons = DataInfo("moons", (2,), num_classes=2)
    assert found(chain(("Linear", {"out_features": 1}), input_shape=(2,)), moons,
                 "BCEWithLogitsLoss") == []  # fmt: skip
    network = chain(("Linear", {"out_features": 5}), input_shape=(2,))
    assert fit_edits(network, moons, "BCEWithLogitsLoss") == {"linear1": {"out_features": 1}}


def test_fit_edits_set_the_input_and_the_last_weighted_layer():
    network = mlp(32, input_shape=(784,))
    (wrong_input,) = found(network)  # the output is judged once the input fits
    assert wrong_input.message.endswith("set the Input's shape to (64,)")  # flat, for an MLP
    edits = fit_edits(network, DIGITS)
    assert edits == {
        "input": {"shape": [64], "dtype": "float32"},
        "fc2": {"out_features": 10},
    }
    for node_id, params in edits.items():
        network.set_params(node_id, params)
    assert found(network) == [] and fit_edits(network, DIGITS) == {}


def test_the_last_conv_of_an_image_network_is_sized_after_the_input_is_fixed():
    rebuild = DataInfo("digits", (1, 8, 8), task="reconstruction", target_shape=(1, 8, 8))
    network = chain(("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
                    input_shape=(1, 4, 4))  # fmt: skip
    assert fit_edits(network, rebuild) == {
        "input": {"shape": [1, 8, 8], "dtype": "float32"},
        "conv2d1": {"out_channels": 1},
    }


# ------------------------------------------------------------------ descriptions
BUILTIN_SECTIONS = [
    {"name": name, "params": {}}
    for name in ("digits", "iris", "wine", "breast_cancer", "diabetes", "moons", "circles",
                 "spirals", "xor", "sine", "sequences")
] + [
    {"name": "digits", "params": {"classes": [3, 5, 7]}},
    {"name": "digits", "params": {"task": "reconstruction"}},
    {"name": "spirals", "params": {"classes": 4}},
    {"name": "sine", "params": {"steps": 7, "n_samples": 40}},
    {"name": "sequences", "params": {"length": 9, "classes": 3, "n_samples": 60}},
]  # fmt: skip


@pytest.mark.parametrize("section", BUILTIN_SECTIONS, ids=lambda s: json.dumps(s["params"]) or "")
def test_builtin_datasets_are_described_without_loading_exactly_as_loaded(section):
    assert describe(section) == load_dataset(section).info()


def test_a_wrong_section_or_task_is_not_described():
    assert describe({"name": "nope"}) is None
    assert describe({"name": "digits", "params": {"classes": "all"}}) is None
    assert describe({"name": "diabetes", "params": {"task": "classification"}}) is None
    assert describe(None) is None


def test_a_file_dataset_is_described_once_loaded_until_its_file_changes(tmp_path):
    path = tmp_path / "points.npz"
    rng = np.random.default_rng(0)
    np.savez(path, x=rng.normal(size=(30, 5)).astype(np.float32), y=np.arange(30) % 3)
    section = {"name": "npz", "params": {"path": "points.npz"}}
    assert describe(section, tmp_path) is None  # not loaded yet: unknown, never loaded here
    remember(section, tmp_path, load_dataset(section, tmp_path))
    info = describe(section, tmp_path)
    assert info.sample_shape == (5,) and info.num_classes == 3
    np.savez(path, x=np.zeros((30, 7), np.float32), y=np.arange(30) % 2)
    os.utime(path, ns=(1, 1))
    assert describe(section, tmp_path) is None  # changed since: described again after loading


def test_the_project_analysis_includes_the_data_check_only_when_a_dataset_is_named():
    project = Project(networks={"model": mlp(32)})
    assert [d.node for d in analyze_project(project).diagnostics] == []
    project.dataset = {"name": "digits", "params": {}}
    analysis = analyze_project(project)
    assert [d.node for d in analysis.diagnostics] == ["fc2"]
    project.training = {"loss": "MSELoss"}
    assert [d.severity for d in analyze_project(project).diagnostics] == [ERROR, WARNING]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.dwire")), ids=lambda p: p.stem)
def test_every_bundled_example_fits_its_dataset(path):
    project = project_file.load(path)
    assert analyze_project(project, path.parent).diagnostics == []
