"""The validation samples a trained classifier gets wrong, and its accuracy per class.

``find_mistakes(model, data, input_shape)`` runs the validation part once through
``engine.training.evaluate.predict`` (batches, eval mode, no gradients, on the model's
device) and returns a ``MistakesReport``: per class its count, correct answers and
accuracy, and every wrong sample with its true and predicted class, the confidence of
the prediction (its softmax probability) and the probability the model gave the true
class; the most confident mistakes come first. The app's results and the confusion
matrix come from the same pass (``evaluate``). ``project_mistakes`` does it from a
project and its weights (``deepwire inspect``); ``write_mistakes_csv`` and
``write_per_class_csv`` write the report atomically. Only classification has mistakes:
any other task is a DataError that says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import DataError, ProjectError
from engine.training.evaluate import class_probabilities, confusion_matrix, evaluated_part, predict

MISTAKE_COLUMNS = ("part", "index", "dataset_index", "true", "true_name", "predicted",
                   "predicted_name", "confidence", "true_probability")  # fmt: skip
CLASS_COLUMNS = ("class", "name", "count", "correct", "accuracy")


@dataclass(frozen=True)
class Mistake:
    """One wrongly classified sample.

    Attributes:
        index: its position in the evaluated part (the validation samples).
        dataset_index: its position in the data as loaded, or -1 when unknown.
        true, predicted: class indices.
        confidence: the probability of the predicted class.
        true_probability: the probability the model gave the true class.
    """

    index: int
    dataset_index: int
    true: int
    predicted: int
    confidence: float
    true_probability: float


@dataclass(frozen=True)
class ClassAccuracy:
    """How one class fares: ``correct`` of ``count`` samples."""

    label: int
    name: str
    count: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        """``correct / count``; None for a class with no samples in the part."""
        return self.correct / self.count if self.count else None


SORTS = {
    "confidence": lambda m: (-m.confidence, m.index),
    "true": lambda m: (m.true, -m.confidence, m.index),
    "predicted": lambda m: (m.predicted, -m.confidence, m.index),
    "index": lambda m: m.index,
}


@dataclass
class MistakesReport:
    """A classifier's answers on one part of its data.

    Attributes:
        part: ``validation``, or ``training`` when the data has no validation part.
        class_names: a name per class.
        labels: the true class of each evaluated sample.
        probabilities: ``(samples, classes)`` probabilities the model gave.
        dataset_index: each evaluated sample's position in the data as loaded, or None.
        inputs: the evaluated samples as the dataset holds them (the same array, not a
            copy), to show them and explain them.
        input_shape: the network Input's shape the samples were reshaped to.
        to_units: the dataset's ``denormalize`` (samples back in the data's units), or None.
    """

    part: str
    class_names: list[str]
    labels: np.ndarray
    probabilities: np.ndarray
    dataset_index: np.ndarray | None = None
    inputs: np.ndarray | None = field(default=None, repr=False)
    input_shape: tuple = ()
    to_units: Callable | None = field(default=None, repr=False)

    @property
    def predicted(self) -> np.ndarray:
        """The predicted class of each evaluated sample."""
        return self.probabilities.argmax(axis=1)

    @property
    def total(self) -> int:
        """How many samples were evaluated."""
        return len(self.labels)

    @property
    def correct(self) -> int:
        """How many of them were right."""
        return int((self.predicted == self.labels).sum())

    def name(self, label: int) -> str:
        """Class ``label``'s name (its number when unnamed)."""
        return self.class_names[label] if 0 <= label < len(self.class_names) else str(label)

    def sample(self, index: int, units: bool = False) -> np.ndarray:
        """The ``index``-th evaluated sample as the network sees it, or with ``units`` in
        the data's own units (before normalisation) where the dataset knows them."""
        sample = np.asarray(self.inputs[index])
        return self.to_units(sample) if units and self.to_units is not None else sample

    def confusion(self) -> np.ndarray:
        """``matrix[true, predicted]`` counts."""
        classes = max(len(self.class_names), self.probabilities.shape[1])
        return confusion_matrix(self.labels, self.predicted, classes)

    def per_class(self) -> list[ClassAccuracy]:
        """Each class's count, correct answers and accuracy, in class order."""
        matrix = self.confusion()
        return [ClassAccuracy(label, self.name(label), int(matrix[label].sum()),
                              int(matrix[label, label])) for label in range(len(matrix))]  # fmt: skip

    def mistakes(self, sort: str = "confidence", label: int | None = None) -> list[Mistake]:
        """The wrong samples (of true class ``label`` only, when given).

        Args:
            sort: ``confidence`` (the most confident mistakes first), ``true`` or
                ``predicted`` (by class, then confidence) or ``index``.
            label: keep only the samples of this true class.
        """
        if sort not in SORTS:
            raise DataError(f"mistakes sort by {sort!r}: use one of {', '.join(SORTS)}")
        wrong = np.flatnonzero(self.predicted != self.labels)
        if label is not None:
            wrong = wrong[self.labels[wrong] == label]
        return sorted((self._mistake(int(i)) for i in wrong), key=SORTS[sort])

    def _mistake(self, index: int) -> Mistake:
        true, row = int(self.labels[index]), self.probabilities[index]
        predicted = int(row.argmax())
        where = -1 if self.dataset_index is None else int(self.dataset_index[index])
        return Mistake(index, where, true, predicted, float(row[predicted]), float(row[true]))


def find_mistakes(model, data, input_shape) -> MistakesReport:
    """Run ``model`` on ``data``'s validation part (else its training part) once.

    Args:
        model: the compiled classifier, on the device it should run on.
        data: an ``engine.data.Dataset`` (or the training core's ``Arrays``).
        input_shape: the network Input's shape; samples are reshaped to it.

    Raises:
        DataError: the data is not a classification task.
    """
    _require_classification(data)
    part, x, y = evaluated_part(data)
    positions = getattr(data, "val_index" if part == "validation" else "train_index", None)
    names = list(getattr(data, "class_names", []) or [])
    names = names or [str(i) for i in range(data.num_classes)]
    probabilities = class_probabilities(predict(model, x, input_shape))
    labels = np.asarray(y, np.int64).reshape(len(x))
    to_units = getattr(data, "denormalize", None)
    return MistakesReport(part, names, labels, probabilities, positions, x,
                          tuple(input_shape), to_units)  # fmt: skip


def _require_classification(data) -> None:
    if data.task != "classification":
        name = getattr(data, "name", "the data")
        raise DataError(f"{name} is a {data.task} task; mistakes and per-class accuracy are "
                        "counted for classification only")  # fmt: skip


def project_mistakes(project, weights, base_dir=None, device: str = "auto") -> MistakesReport:
    """``find_mistakes`` for a project's classifier with ``weights`` loaded.

    Args:
        project: an ``engine.project.Project`` with a dataset and one network to train.
        weights: a weights file, or a state_dict already read (a run's weights of
            several networks are taken by the network's name).
        base_dir: the folder the dataset's relative paths start from.
        device: ``auto`` (CUDA, then MPS, then the CPU), ``cpu``, ``cuda``...

    Raises:
        DeepwireError: no dataset, not a classifier, the network does not fit the data,
            or the weights do not fit the network; each one sentence.
    """
    from engine.compile import compile_network
    from engine.data import load_dataset
    from engine.training import setup
    from engine.training.config import TrainingConfig
    from engine.training.core.device import resolve_device
    from engine.training.recipes import main_network, recipe_name
    from engine.weights import fitting_weights, network_weights, read_weights

    if project.dataset is None:
        raise ProjectError('the project has no "dataset" section, so there is nothing to '
                           "find mistakes on")  # fmt: skip
    config = TrainingConfig.from_dict(project.training)
    dataset = load_dataset(project.dataset, base_dir)
    if config.recipe == "adversarial" or recipe_name(config, dataset) != "supervised":
        kind = "a GAN" if config.recipe == "adversarial" else "an autoencoder"
        raise DataError(f"the project trains {kind}; mistakes and per-class accuracy are "
                        "counted for classifiers only")  # fmt: skip
    network = main_network(project.networks)
    _require_classification(dataset)
    loss = setup.resolve_loss(config, dataset)
    input_shape, _ = setup.check_fit(network, dataset, loss["type"])
    module = compile_network(network)
    is_file = isinstance(weights, str | os.PathLike)
    state = read_weights(weights) if is_file else dict(weights)
    name = Path(weights).name if is_file else None
    state = fitting_weights(module, network_weights(state, network.name), name=name)
    module.load_state_dict(state, strict=True)
    return find_mistakes(module.to(resolve_device(device)), dataset, input_shape)


def mistake_rows(report: MistakesReport, sort: str = "confidence") -> list[dict]:
    """The report's mistakes as ``MISTAKE_COLUMNS`` rows."""
    return [{"part": report.part, "index": m.index, "dataset_index": m.dataset_index,
             "true": m.true, "true_name": report.name(m.true), "predicted": m.predicted,
             "predicted_name": report.name(m.predicted), "confidence": m.confidence,
             "true_probability": m.true_probability}
            for m in report.mistakes(sort)]  # fmt: skip


def class_rows(report: MistakesReport) -> list[dict]:
    """The report's per-class accuracy as ``CLASS_COLUMNS`` rows."""
    return [{"class": c.label, "name": c.name, "count": c.count, "correct": c.correct,
             "accuracy": c.accuracy} for c in report.per_class()]  # fmt: skip


def write_mistakes_csv(report: MistakesReport, path: str | os.PathLike,
                       sort: str = "confidence") -> Path:  # fmt: skip
    """Write ``mistakes.csv`` (one row per wrong sample) atomically; returns its path.

    Raises:
        ProjectError: the file cannot be written, or is read-only (left as it was).
    """
    return _write(Path(path), MISTAKE_COLUMNS, mistake_rows(report, sort))


def write_per_class_csv(report: MistakesReport, path: str | os.PathLike) -> Path:
    """Write ``per_class.csv`` (class, name, count, correct, accuracy) atomically."""
    return _write(Path(path), CLASS_COLUMNS, class_rows(report))


def _write(path: Path, columns, rows: list[dict]) -> Path:
    from engine.project import write_atomic
    from engine.training.callbacks import csv_bytes

    write_atomic(path, csv_bytes(columns, rows))
    return path


__all__ = ["ClassAccuracy", "Mistake", "MistakesReport", "find_mistakes", "project_mistakes",
           "write_mistakes_csv", "write_per_class_csv"]  # fmt: skip
