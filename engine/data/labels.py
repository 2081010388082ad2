"""Class labels read from a user's file: whole numbers from 0, and not too many classes.

Every loader that takes class labels from a file calls ``class_labels``. A label must
be a whole number (a float ``3.0`` is class 3; ``2.5`` is refused, not cut to 2) and 0
or more (a negative label would reach the loss). The number of classes is the largest
label plus one, so it is bounded before any class list is built: by the number of
samples (with at least ``FEW_SAMPLES_CLASSES`` allowed, for a few samples of a large
set) and by ``MAX_CLASSES``. One label of 10^9 in a small file is refused at once
instead of asking for a billion class names.
"""

from __future__ import annotations

import numpy as np

from engine.errors import DataError

MAX_CLASSES = 100_000
FEW_SAMPLES_CLASSES = 1_000


def max_classes(count: int) -> int:
    """The most classes ``count`` samples may have."""
    return min(MAX_CLASSES, max(count, FEW_SAMPLES_CLASSES))


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask))


def _check_numbers(labels: np.ndarray, where: str) -> None:
    if labels.dtype == np.bool_ or not np.issubdtype(labels.dtype, np.number):
        raise DataError(
            f"{where}: class labels of type {labels.dtype} cannot be used; store whole numbers"
        )
    if np.issubdtype(labels.dtype, np.complexfloating):
        raise DataError(f"{where}: class labels cannot be complex numbers; store whole numbers")
    if np.issubdtype(labels.dtype, np.floating):
        bad = ~np.isfinite(labels) | (labels != np.floor(labels))
        if bad.any():
            index = _first(bad)
            raise DataError(
                f"{where}: class label {labels[index]} of sample {index} is not a whole "
                "number; classes are numbered 0, 1, 2, ..."
            )


def class_labels(
    labels: np.ndarray, where: str, names: list[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Checked class indices (int64) and a name per class.

    Args:
        labels: one label per sample (any numeric dtype).
        where: the file, for the sentence.
        names: the class names when the format fixes them; labels must index them.

    Raises:
        DataError: a label is not a whole number, is negative, or asks for more classes
            than allowed (or than ``names`` has).
    """
    labels = np.asarray(labels).reshape(-1)
    _check_numbers(labels, where)
    if names is not None and len(names) > max_classes(len(labels)):
        raise DataError(
            f"{where}: {len(names)} classes are too many for {len(labels)} samples (at most "
            f"{max_classes(len(labels))}); is this column an identifier rather than a class?"
        )
    if labels.size == 0:
        return labels.astype(np.int64), list(names or [])
    if labels.min() < 0:
        index = _first(labels < 0)
        raise DataError(
            f"{where}: class label {labels[index]} of sample {index} is negative; classes "
            "are numbered 0, 1, 2, ..."
        )
    top = labels.max()
    limit = len(names) if names is not None else max_classes(len(labels))
    if top >= limit:
        index = _first(labels == top)
        count = f"{len(names)} class names" if names is not None else f"{len(labels)} samples"
        raise DataError(
            f"{where}: class label {top} of sample {index} is too large: with {count}, "
            f"labels go from 0 to at most {limit - 1}; number the classes 0, 1, 2, ..."
        )
    labels = labels.astype(np.int64)
    return labels, list(names) if names is not None else [str(c) for c in range(int(top) + 1)]
