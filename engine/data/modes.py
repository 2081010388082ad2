"""How many modes of a mixture of Gaussians a set of samples covers (GAN mode collapse).

``mode_coverage(samples, centers, std)`` gives each mode's share of the samples, counting
a sample for its nearest mode only when it lies within ``NEAR_STDS`` standard deviations
of it (a point far from every mode is no sample of any), the number of modes that hold at
least ``FAIR_SHARE`` of an even share (5 % of the samples for 8 modes, as the GAN
benchmark asks of ``rings``; 1.6 % for ``grid``'s 25, where 5 % would leave a perfect
generator covering none), and the share that lies near a mode at all.
``centers(name, params)`` gives the true modes of the built-in ``rings`` and ``grid``, and
``dataset_coverage(name, params, samples)`` measures samples against them. Samples are in
the data's loaded units (``Dataset.denormalize`` undoes normalisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.builtin import grid_centers, ring_centers
from engine.data.registry import check_section
from engine.errors import DataError

FAIR_SHARE = 0.4  # covered: a mode holds at least this part of an even share (1/modes)
NEAR_STDS = 3.0  # near a mode: within this many standard deviations of its centre
MODE_DATASETS = ("rings", "grid")
_CHUNK = 65_536  # samples per distance block: bounds memory for large sets


@dataclass(frozen=True)
class ModeCoverage:
    """How samples spread over the modes.

    Attributes:
        per_mode_share: for each mode, the share of all samples near it (nearest to it
            and within ``NEAR_STDS`` std); sums to ``near_share``.
        covered: the modes whose share is ``min_share`` or more.
        near_share: the share of samples within ``NEAR_STDS`` std of their nearest mode.
    """

    per_mode_share: np.ndarray
    covered: int
    near_share: float


def _as_points(samples, dims: int) -> np.ndarray:
    """``samples`` as an (n, dims) float64 array; a DataError names a wrong shape."""
    points = np.asarray(samples, dtype=np.float64)
    if points.ndim < 1 or (points.size and points.size // max(len(points), 1) != dims):
        raise DataError(
            f"mode coverage: samples of shape {points.shape} do not hold {dims} numbers each"
        )
    return points.reshape(len(points), dims)


def mode_coverage(samples, centers, std: float, min_share: float | None = None) -> ModeCoverage:
    """The share of ``samples`` near each of ``centers`` (modes of standard deviation ``std``).

    Args:
        samples: (n, d) points (or n samples of d numbers in any shape).
        centers: (k, d) mode centres.
        std: the modes' standard deviation per axis.
        min_share: the share of samples that covers a mode; by default ``FAIR_SHARE``
            of an even share (0.05 for 8 modes).

    Raises:
        DataError: the shapes do not match, or ``std`` is not a number of 0 or more.
    """
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or len(centers) == 0:
        raise DataError(f"mode coverage: centres must be (modes, dims), not {centers.shape}")
    if isinstance(std, bool) or not isinstance(std, int | float) or not 0 <= std < np.inf:
        raise DataError(f"mode coverage: std must be a number of 0 or more, not {std!r}")
    points = _as_points(samples, centers.shape[1])
    nearest = np.empty(len(points), dtype=np.int64)
    distance = np.empty(len(points))
    for start in range(0, len(points), _CHUNK):
        block = points[start : start + _CHUNK]
        squared = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        nearest[start : start + len(block)] = squared.argmin(axis=1)
        distance[start : start + len(block)] = np.sqrt(squared.min(axis=1))
    near = distance <= NEAR_STDS * std  # NaN samples are near nothing
    count = max(len(points), 1)
    share = np.bincount(nearest[near], minlength=len(centers)) / count
    least = FAIR_SHARE / len(centers) if min_share is None else min_share
    # a hair below, so an exact 5 % still counts however the division rounds
    covered = int((share >= least - 1e-12).sum())
    return ModeCoverage(share, covered, float(near.sum() / count))


def _params(name: str, params: dict | None) -> dict:
    if name not in MODE_DATASETS:
        raise DataError(
            f"{name} has no known modes; mode coverage is measured on {' and '.join(MODE_DATASETS)}"
        )
    return check_section({"name": name, "params": dict(params or {})})[1]


def centers(name: str, params: dict | None = None) -> np.ndarray:
    """The true mode centres (k, 2) of the built-in ``rings`` or ``grid`` with ``params``
    (missing ones take their defaults)."""
    full = _params(name, params)
    return ring_centers(full["radius"]) if name == "rings" else grid_centers(full["spacing"])


def dataset_coverage(name: str, params: dict | None, samples) -> ModeCoverage:
    """``mode_coverage`` of ``samples`` against the modes of ``rings`` or ``grid``."""
    return mode_coverage(samples, centers(name, params), float(_params(name, params)["std"]))
