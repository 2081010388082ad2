"""The validation samples a classifier gets wrong, per-class accuracy, and why (saliency).

Known answers: a Linear with identity weights outputs each sample itself, so its
mistakes are the samples whose largest number is not their class; a network that reads
only the top-left pixel has all its saliency there.
"""

import csv
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.compile import compile_network
from engine.errors import DataError, DeepwireError, ProjectError
from engine.insight.mistakes import (
    find_mistakes,
    project_mistakes,
    write_mistakes_csv,
    write_per_class_csv,
)
from engine.insight.saliency import explain
from engine.project import Project, load
from engine.training.evaluate import class_probabilities, evaluate
from engine.weights import WeightsError
from tests.engine.builders import chain

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
IDENTITY = {"linear1.weight": torch.eye(3), "linear1.bias": torch.zeros(3)}


def logits_project(tmp_path, count=60, seed=3) -> tuple[Project, np.ndarray, np.ndarray]:
    """A 3-class project whose samples are the logits its identity Linear gives back."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 3)).astype(np.float32)
    y = rng.integers(0, 3, count).astype(np.int64)
    np.savez(tmp_path / "logits.npz", x=x, y=y)
    params = {"path": "logits.npz", "normalize": False, "validation_split": 0.5}
    project = Project(
        {"model": chain(("Linear", {"out_features": 3}), input_shape=(3,))},
        {"name": "npz", "params": params},
        {"loss": "CrossEntropyLoss"},
    )
    return project, x, y


def softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_report_lists_exactly_the_wrong_validation_samples_most_confident_first(tmp_path):
    project, x, y = logits_project(tmp_path)
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    assert report.part == "validation" and 25 < report.total < 35  # about half of 60
    probabilities = softmax(x)
    mistakes = report.mistakes()
    dataset_rows = [m.dataset_index for m in mistakes]
    validation = report.dataset_index
    expected = {int(i) for i in validation if x[i].argmax() != y[i]}
    assert set(dataset_rows) == expected and len(dataset_rows) == len(expected) > 3
    for m in mistakes:
        assert validation[m.index] == m.dataset_index  # both positions name one sample
        assert (m.true, m.predicted) == (y[m.dataset_index], x[m.dataset_index].argmax())
        assert m.confidence == pytest.approx(probabilities[m.dataset_index, m.predicted])
        assert m.true_probability == pytest.approx(probabilities[m.dataset_index, m.true])
    confidences = [m.confidence for m in mistakes]
    assert confidences == sorted(confidences, reverse=True)
    by_class = report.mistakes("true")
    assert [m.true for m in by_class] == sorted(m.true for m in mistakes)
    assert {m.dataset_index for m in report.mistakes(label=1)} == {
        i for i in expected if y[i] == 1}  # fmt: skip


def test_per_class_accuracy_counts_each_class_of_the_validation_part(tmp_path):
    project, x, y = logits_project(tmp_path)
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    rows = report.per_class()
    assert [r.name for r in rows] == ["0", "1", "2"]
    validation = report.dataset_index
    for row in rows:
        members = validation[y[validation] == row.label]
        assert row.count == len(members)
        assert row.correct == int((x[members].argmax(axis=1) == row.label).sum())
        assert row.accuracy == pytest.approx(row.correct / row.count)
    assert sum(r.correct for r in rows) == report.correct == report.total - len(report.mistakes())


def test_the_csv_files_hold_one_row_per_mistake_and_per_class(tmp_path):
    project, _, _ = logits_project(tmp_path)
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    with write_mistakes_csv(report, tmp_path / "mistakes.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    first = report.mistakes()[0]
    assert len(rows) == len(report.mistakes())
    assert rows[0]["part"] == "validation" and int(rows[0]["dataset_index"]) == first.dataset_index
    assert rows[0]["true_name"] == str(first.true)
    assert float(rows[0]["confidence"]) == pytest.approx(first.confidence, rel=1e-5)
    with write_per_class_csv(report, tmp_path / "per_class.csv").open() as stream:
        classes = list(csv.DictReader(stream))
    assert [r["name"] for r in classes] == ["0", "1", "2"]
    assert sum(int(r["correct"]) for r in classes) == report.correct


def test_a_read_only_csv_is_left_as_it_was(tmp_path):
    project, _, _ = logits_project(tmp_path)
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    target = tmp_path / "mistakes.csv"
    target.write_text("mine\n")
    target.chmod(0o444)
    with pytest.raises(ProjectError, match="read-only"):
        write_mistakes_csv(report, target)
    assert target.read_text() == "mine\n"


def test_one_logit_is_class_one_when_positive(tmp_path):
    """BCEWithLogitsLoss with one output: a positive logit means class 1 (as training's
    accuracy counts it), so the confusion matrix is not all class 0."""
    x = np.array([[2.0, 0.0], [0.0, 2.0], [3.0, 1.0], [1.0, 3.0]] * 10, np.float32)
    y = np.array([1, 0, 0, 1] * 10)  # the logit x0 - x1 gets the first two right
    np.savez(tmp_path / "two.npz", x=x, y=y)
    project = Project(
        {"model": chain(("Linear", {"out_features": 1}), input_shape=(2,))},
        {"name": "npz", "params": {"path": "two.npz", "normalize": False}},
        {"loss": "BCEWithLogitsLoss"},
    )
    weights = {"linear1.weight": torch.tensor([[1.0, -1.0]]), "linear1.bias": torch.zeros(1)}
    report = project_mistakes(project, weights, tmp_path, device="cpu")
    validation = report.dataset_index
    wrong = {int(i) for i in validation if i % 4 >= 2}
    assert {m.dataset_index for m in report.mistakes()} == wrong
    assert report.correct == report.confusion()[0, 0] + report.confusion()[1, 1] > 0
    assert report.mistakes()[0].confidence == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-5)


def test_probabilities_from_softmax_outputs_are_kept_and_logits_go_through_softmax():
    probabilities = np.array([[0.2, 0.8], [0.9, 0.1]])
    assert np.allclose(class_probabilities(probabilities), probabilities)
    assert np.allclose(class_probabilities(np.log(probabilities)), probabilities)
    assert np.allclose(class_probabilities(np.array([[1000.0, 0.0]])), [[1.0, 0.0]])


def test_evaluate_gives_the_confusion_matrix_and_the_mistakes_from_one_pass(tmp_path):
    project, _, _ = logits_project(tmp_path)
    from engine.data import load_dataset

    data = load_dataset(project.dataset, tmp_path)
    model = compile_network(project.network)
    model.load_state_dict(IDENTITY)
    trainer = types.SimpleNamespace(recipe=types.SimpleNamespace(task="classification"),
                                    dataset=data, model=model, input_shape=(3,))  # fmt: skip
    result = evaluate(trainer)
    report = result["mistakes"]
    assert (result["confusion"] == report.confusion()).all()
    assert result["confusion"].sum() - np.trace(result["confusion"]) == len(report.mistakes())


@pytest.mark.parametrize(
    ("dataset", "training", "words"),
    [
        ({"name": "diabetes", "params": {}}, {},
         "diabetes is a regression task; mistakes and per-class accuracy are counted for "
         "classification only"),
        ({"name": "digits", "params": {"task": "reconstruction", "limit": 50}}, {},
         "the project trains an autoencoder"),
        ({"name": "digits", "params": {"limit": 50}}, {"recipe": "reconstruction"},
         "the project trains an autoencoder"),
        (None, {}, 'the project has no "dataset" section'),
    ],
)  # fmt: skip
def test_other_tasks_are_refused_in_one_sentence(dataset, training, words):
    network = chain(("Linear", {"out_features": 1}), input_shape=(10,))
    project = Project({"model": network}, dataset, training)
    with pytest.raises(DeepwireError, match=words):
        project_mistakes(project, {}, device="cpu")


def test_weights_that_do_not_fit_are_named(tmp_path):
    project, _, _ = logits_project(tmp_path)
    with pytest.raises(WeightsError, match="linear1"):
        project_mistakes(project, {"linear1.weight": torch.eye(4)}, tmp_path, device="cpu")


def test_an_unknown_sort_is_a_sentence(tmp_path):
    project, _, _ = logits_project(tmp_path)
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    with pytest.raises(DataError, match="use one of confidence, true, predicted, index"):
        report.mistakes("colour")


def test_without_a_validation_part_the_training_part_is_reported():
    data = types.SimpleNamespace(
        task="classification", num_classes=2, class_names=["no", "yes"],
        x_val=np.zeros((0, 2), np.float32), y_val=np.zeros(0, np.int64),
        x_train=np.array([[1, 0], [0, 1]], np.float32), y_train=np.array([1, 1]),
    )  # fmt: skip
    report = find_mistakes(torch.nn.Identity(), data, (2,))
    assert report.part == "training" and report.dataset_index is None
    (mistake,) = report.mistakes()
    assert (mistake.index, mistake.dataset_index, report.name(mistake.predicted)) == (0, -1, "no")


# ---------------------------------------------------------------------------- saliency
class TopLeft(torch.nn.Module):
    """Two classes scored from the top-left pixel of the first channel only."""

    def forward(self, x):
        pixel = x[:, 0, 0, 0:1]
        return torch.cat([2 * pixel, -pixel], dim=1)


def test_saliency_of_a_model_that_reads_one_pixel_is_that_pixel():
    sample = np.random.default_rng(0).normal(size=(3, 6, 5)).astype(np.float32)
    result = explain(TopLeft(), sample, (3, 6, 5))
    assert result.saliency.shape == (6, 5)
    assert result.saliency[0, 0] == 1.0 and result.saliency.sum() == 1.0
    assert result.gradcam is None and result.gradcam_layer == ""  # no convolution
    assert result.probabilities.sum() == pytest.approx(1.0)


def test_grad_cam_finds_where_the_evidence_is():
    """A blob in the top-left corner, a positive 1x1 convolution, average pooling and a
    positive weight for class 0: Grad-CAM lights the blob, and nothing else."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 2))  # fmt: skip
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
        model[4].weight.copy_(torch.tensor([[1.0] * 4, [-1.0] * 4]))
        model[4].bias.zero_()
    sample = np.zeros((1, 8, 8), np.float32)
    sample[0, :2, :2] = 1.0
    result = explain(model, sample, (1, 8, 8))
    assert result.target == 0 and result.gradcam_layer == "0"
    assert result.gradcam.shape == (8, 8)
    assert result.gradcam[:2, :2].min() > 0.5 and result.gradcam[4:, 4:].max() == 0.0


def test_a_trained_networks_explanation_leaves_it_as_it_was():
    """The digits CNN: saliency per pixel, Grad-CAM from its last convolution (conv2); the
    model keeps its training mode and no gradient is left on its weights."""
    network = load(EXAMPLES / "digits_cnn.dwire").network
    torch.manual_seed(0)
    model = compile_network(network).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    sample = np.random.default_rng(1).normal(size=(1, 8, 8)).astype(np.float32)
    result = explain(model, sample, (1, 8, 8), target=3)
    assert result.target == 3 and result.gradcam_layer == "conv2"
    assert result.saliency.shape == result.gradcam.shape == (8, 8)
    assert result.saliency.max() == 1.0 and result.gradcam.min() >= 0
    assert model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_flat_input_network_explains_the_image_sample():
    """The digits MLP takes 64 numbers; its saliency comes back as the 8x8 image."""
    model = compile_network(chain(("Linear", {"out_features": 10}), input_shape=(64,)))
    result = explain(model, np.ones((1, 8, 8), np.float32), (64,))
    assert result.saliency.shape == (8, 8) and result.gradcam is None


def test_tabular_saliency_is_one_number_per_feature():
    model = torch.nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0, 2.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]]))
        model.bias.copy_(torch.tensor([5.0, 0.0]))
    result = explain(model, np.ones(4, np.float32), (4,))
    assert result.target == 0 and result.saliency.tolist() == [0.0, 1.0, 0.0, 0.5]


def test_token_ids_have_no_saliency():
    with pytest.raises(DataError, match="token ids"):
        explain(torch.nn.Identity(), np.array([1, 2, 3]), (3,))


def test_a_gan_is_refused_in_one_sentence():
    project = load(EXAMPLES / "gan_digits.dwire")
    with pytest.raises(DataError, match="the project trains a GAN; mistakes"):
        project_mistakes(project, {}, device="cpu")


# ------------------------------------------------------------------- deepwire inspect
def inspect(capsys, *argv):
    from engine.cli import main

    code = main(["inspect", *(str(a) for a in argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_deepwire_inspect_writes_the_mistakes_of_a_classifier(tmp_path, capsys):
    from engine.project import save
    from engine.weights import save_weights

    project, _, _ = logits_project(tmp_path)
    save(project, tmp_path / "logits.dwire")
    save_weights(IDENTITY, tmp_path / "w.safetensors")
    code, said, err = inspect(capsys, tmp_path / "logits.dwire", "--weights",
                              tmp_path / "w.safetensors", "-o", tmp_path / "o")  # fmt: skip
    assert code == 0, err
    report = project_mistakes(project, IDENTITY, tmp_path, device="cpu")
    wrong = len(report.mistakes())
    assert said.splitlines()[1] == (f"wrote mistakes.csv ({wrong} of {report.total} validation "
                                    f"samples wrong) and per_class.csv to {tmp_path / 'o'}")  # fmt: skip
    with open(tmp_path / "o" / "mistakes.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [int(r["dataset_index"]) for r in rows] == [m.dataset_index for m in report.mistakes()]
    with open(tmp_path / "o" / "per_class.csv", newline="") as stream:
        assert [int(r["count"]) for r in csv.DictReader(stream)] == [
            c.count for c in report.per_class()]  # fmt: skip


def test_deepwire_inspect_of_a_regressor_says_why_there_is_no_mistakes_csv(tmp_path, capsys):
    from engine.project import save
    from engine.weights import save_weights

    network = chain(("Linear", {"out_features": 1}), input_shape=(10,))
    save(Project({"model": network}, {"name": "diabetes", "params": {}}), tmp_path / "r.dwire")
    save_weights(compile_network(network), tmp_path / "w.safetensors")
    code, said, err = inspect(capsys, tmp_path / "r.dwire", "--weights",
                              tmp_path / "w.safetensors", "-o", tmp_path / "o")  # fmt: skip
    assert code == 0 and "mistakes.csv" not in said
    assert "note: no mistakes.csv: diabetes is a regression task" in err
    assert not (tmp_path / "o" / "mistakes.csv").exists()


def test_an_explainer_compiles_the_network_with_its_weights_once(tmp_path):
    from engine.insight.saliency import Explainer

    network = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    weights = {
        "linear1.weight": torch.tensor([[0.0, 3.0], [0.0, 0.0]]),
        "linear1.bias": torch.zeros(2),
    }
    explainer = Explainer(network, weights, (2,))
    result = explainer.explain(np.ones(2, np.float32))
    assert result.target == 0 and result.saliency.tolist() == [0.0, 1.0]
    model = explainer.model
    explainer.explain(np.zeros(2, np.float32))
    assert explainer.model is model
    with pytest.raises(WeightsError, match="linear1"):
        Explainer(network, {"linear1.weight": torch.eye(3)}, (2,)).explain(np.ones(2, np.float32))
