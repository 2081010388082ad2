"""What every dataset is: arrays split into training and validation, plus what they mean.

A ``Dataset`` holds NumPy arrays (the trainer moves them to the training device as
tensors once), or for a large file dataset ``LazySamples`` read from disk batch by batch
(``engine.data.stream``), and knows its sample shape, dtype, task and number of classes. From that
it suggests how to draw the network around it: the Input's shape and dtype, the size
of the last layer and the loss (the app shows these as hints).

The Input rule: an Input whose shape has the same number of elements as a sample takes
the samples reshaped (digits (1, 8, 8) into an Input of (64,)); any other shape is an
error naming both shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import DataError

TASKS = ("classification", "regression", "reconstruction")


def fmt_shape(shape) -> str:
    """A shape as users see it: ``(1, 8, 8)``, ``(4,)``."""
    shape = tuple(int(s) for s in shape)
    return f"({shape[0]},)" if len(shape) == 1 else str(shape)


@dataclass(frozen=True)
class Suggestion:
    """How to draw the network for a dataset.

    Attributes:
        input_shape: the Input's shape (one sample, without the batch).
        input_dtype: ``float32`` or ``int64``.
        out_features: the size of the last layer (classes, targets or input elements).
        loss: the torch.nn loss name to train with.
        text: one sentence for the app.
    """

    input_shape: tuple[int, ...]
    input_dtype: str
    out_features: int
    loss: str
    text: str


@dataclass
class Dataset:
    """Samples split into training and validation parts.

    Attributes:
        name: the dataset's name (``digits``, ``csv``...).
        x_train, y_train, x_val, y_val: NumPy arrays, samples along axis 0.
        task: ``classification``, ``regression`` or ``reconstruction``.
        num_classes: number of classes for classification, else 0.
        class_names: a name per class when known.
        kind: ``tabular``, ``image``, ``sequence`` or ``tokens`` (augmentation and
            normalisation depend on it).
        target_mean, target_std: regression targets were standardised with these;
            metrics in the target's own units undo it.
        description: one line for the app.
        augment: image augmentation switched on (``engine.data.augment``); empty for none.
        x_mean, x_std: the samples were normalised with these (shaped to broadcast
            against one sample); None when they were not.
        x_scale: the loader divided the source's values by this (digits: 16).
        train_index, val_index: where each training and validation sample sits in the
            data as loaded (after ``limit``); None when the parts were not split here.
        workers: data worker processes that read a streamed dataset's batches (the
            samples are then ``engine.data.lazy.LazySamples``, not arrays); 0 in memory.
        loading: how the data is read, in words: ``in memory: 1,797 samples`` or
            ``streaming 50,000 images from disk with 2 workers``.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    task: str = "classification"
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    kind: str = "tabular"
    target_mean: float = 0.0
    target_std: float = 1.0
    description: str = ""
    augment: dict = field(default_factory=dict)
    x_mean: np.ndarray | None = None
    x_std: np.ndarray | None = None
    x_scale: float = 1.0
    train_index: np.ndarray | None = None
    val_index: np.ndarray | None = None
    workers: int = 0
    loading: str = ""

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample, without the batch."""
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def dtype(self) -> str:
        """``float32`` or ``int64``: the Input dtype the samples need."""
        return "int64" if np.issubdtype(self.x_train.dtype, np.integer) else "float32"

    @property
    def target_shape(self) -> tuple[int, ...]:
        """The shape of one target (``()`` for a class index)."""
        return tuple(int(s) for s in self.y_train.shape[1:])

    def denormalize(self, samples: np.ndarray) -> np.ndarray:
        """Samples in the units of the data as loaded, before normalisation (digits: 0-16
        as scikit-learn gives them; ``rings``: the plane's coordinates).

        Args:
            samples: any leading batch axes, then the data's sample shape or as many
                numbers flat (a Linear generator's output).

        Returns:
            The samples in the data's sample shape; the same values when the data was
            neither normalised nor scaled, else float32.

        Raises:
            DataError: the samples do not hold one sample's numbers along their last axes.
        """
        samples = np.asarray(samples)
        shape, ndim = self.sample_shape, len(self.sample_shape)
        if samples.ndim >= ndim and samples.shape[samples.ndim - ndim :] == shape:
            lead = samples.shape[: samples.ndim - ndim]
        elif samples.ndim >= 1 and samples.shape[-1] == math.prod(shape):
            lead = samples.shape[:-1]
        else:
            raise DataError(
                f"samples of shape {fmt_shape(samples.shape)} are not {self.name} samples "
                f"of {fmt_shape(shape)} (after any batch axes)"
            )
        samples = samples.reshape(*lead, *shape)
        if self.x_std is None and self.x_scale == 1.0:
            return samples
        samples = samples.astype(np.float32)
        if self.x_std is not None:
            samples = samples * self.x_std + self.x_mean
        return (samples * np.float32(self.x_scale)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.x_train) + len(self.x_val)

    def info(self):
        """What the network must fit (``engine.data_fit.DataInfo``)."""
        from engine.data_fit import DataInfo  # it builds on this module

        return DataInfo.of(self)

    def suggest(self) -> Suggestion:
        """The Input shape, last layer size and loss that fit this dataset."""
        return self.info().suggest()

    def check_input(self, shape, dtype: str = "float32") -> None:
        """Raise DataError unless an Input of ``shape`` and ``dtype`` can take the samples."""
        problem = self.info().input_problem(shape, dtype)
        if problem:
            raise DataError(problem)

    def summary(self) -> str:
        """One line: name, sizes, shape, task."""
        classes = f", {self.num_classes} classes" if self.task == "classification" else ""
        return (
            f"{self.name}: {len(self.x_train)} training and {len(self.x_val)} validation "
            f"samples of {fmt_shape(self.sample_shape)} {self.dtype}, {self.task}{classes}"
        )


@dataclass
class Raw:
    """What a loader returns before splitting and normalisation.

    Attributes:
        x: all samples, along axis 0 (float32, or int64 token ids).
        y: all targets: int64 class indices, or float32 values.
        task: ``classification`` or ``regression``.
        kind: ``tabular``, ``image``, ``sequence`` or ``tokens``.
        class_names: a name per class for classification.
        description: one line for the app.
        x_scale: the loader divided the source's values by this (digits: 16, to [0, 1]).
    """

    x: np.ndarray
    y: np.ndarray
    task: str = "classification"
    kind: str = "tabular"
    class_names: list[str] = field(default_factory=list)
    description: str = ""
    x_scale: float = 1.0
