"""Seeded train/validation splits and normalisation fitted on the training part only.

The split is stratified for classification (each class keeps its share in both parts)
and reproducible from its seed. Normalisation statistics come from the training part
alone, so nothing about the validation samples leaks into training: per feature for
tabular data, per channel for images, one mean and scale for sequences; token ids are
left as they are.
"""

from __future__ import annotations

import numpy as np

from engine.errors import DataError


def split_indices(
    count: int, fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation parts.

    Args:
        count: number of samples.
        fraction: share of samples for validation, 0 <= fraction < 1.
        seed: the same seed gives the same split.
        labels: class labels for a stratified split, or None.
    """
    rng = np.random.default_rng(seed)
    if fraction <= 0:
        return rng.permutation(count), np.empty(0, dtype=np.int64)
    if labels is None:
        order = rng.permutation(count)
        n_val = max(1, round(count * fraction))
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_val = round(len(members) * fraction) if len(members) > 1 else 0
        val.append(members[:n_val])
        train.append(members[n_val:])
    train_idx, val_idx = np.concatenate(train), np.concatenate(val)
    if len(val_idx) == 0:
        raise DataError(
            "validation_split is too small to hold one sample of any class; raise it or set it to 0"
        )
    return np.sort(train_idx), np.sort(val_idx)


def _stat_axes(kind: str, ndim: int) -> tuple[int, ...]:
    if kind == "image" and ndim >= 3:
        return tuple(i for i in range(ndim) if i != 1)  # per channel
    if kind == "tabular":
        return (0,)  # per feature
    return tuple(range(ndim))  # one mean and scale


def fit_normalizer(x_train: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the training samples (std 0 becomes 1)."""
    axes = _stat_axes(kind, x_train.ndim)
    mean = x_train.mean(axis=axes, keepdims=True, dtype=np.float64)
    std = x_train.std(axis=axes, keepdims=True, dtype=np.float64)
    std[std < 1e-8] = 1.0
    return mean.astype(np.float32), std.astype(np.float32)


def normalize(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` as float32."""
    return ((x - mean) / std).astype(np.float32)
