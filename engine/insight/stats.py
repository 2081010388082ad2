"""The numbers a learner reads off one tensor: mean, spread, range and dead units.

A ReLU's output that is mostly exact zeros has dead units; a layer whose outputs have a
tiny spread passes little on. ``tensor_stats`` computes them for one sample's tensor,
and ``TensorStats.describe`` says them in one line for a tooltip or a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TensorStats:
    """What one tensor of one sample holds.

    Attributes:
        shape: the tensor's shape, without the batch dimension.
        mean, std: the mean and the (population) standard deviation of its values.
        minimum, maximum: its smallest and largest values.
        zero_fraction: the share of values that are exactly zero (dead units after ReLU).
    """

    shape: tuple[int, ...]
    mean: float
    std: float
    minimum: float
    maximum: float
    zero_fraction: float

    def describe(self) -> str:
        """One line: ``mean 0.12 · std 0.98 · min -2.1 · max 3.4 · 43 % zeros``."""
        zeros = self.zero_fraction * 100
        share = f"{zeros:.0f}" if zeros == 0 or zeros >= 1 else "<1"
        return (
            f"mean {_num(self.mean)} · std {_num(self.std)} · min {_num(self.minimum)} · "
            f"max {_num(self.maximum)} · {share} % zeros"
        )

    def as_row(self) -> dict:
        """The statistics as plain numbers, keyed as ``nodes.csv`` names its columns."""
        from engine.data.base import fmt_shape

        return {
            "shape": fmt_shape(self.shape) if self.shape else "()",
            "mean": self.mean,
            "std": self.std,
            "min": self.minimum,
            "max": self.maximum,
            "zero_fraction": self.zero_fraction,
        }


def tensor_stats(tensor) -> TensorStats:
    """The statistics of ``tensor`` (a torch tensor or an array).

    Integer and boolean tensors are read as floats; an empty tensor gives zeros.
    """
    values = _values(tensor)
    shape = tuple(int(size) for size in values.shape)
    count = values.size
    if count == 0:
        return TensorStats(shape, 0.0, 0.0, 0.0, 0.0, 0.0)
    flat = values.reshape(-1)
    # NumPy, not torch: a quarter of the time on small tensors; and sums of the values
    # less the first, so that a nearly constant tensor keeps its spread (the first
    # value takes the constant out before the squares are summed)
    shift = flat[0]
    centred = flat - shift
    offset = float(centred.sum()) / count
    variance = max(float(np.dot(centred, centred)) / count - offset * offset, 0.0)
    zeros = count - int(np.count_nonzero(flat))
    return TensorStats(
        shape,
        float(shift) + offset,
        math.sqrt(variance),
        float(flat.min()),
        float(flat.max()),
        zeros / count,
    )


def _values(tensor) -> np.ndarray:
    """``tensor`` as a float32 (float64 when it is) NumPy array, sharing its memory
    where it can."""
    if hasattr(tensor, "detach"):  # a torch tensor: torch is imported
        import torch

        tensor = tensor.detach().cpu()
        if tensor.dtype not in (torch.float32, torch.float64):
            tensor = tensor.float()  # integers, booleans, half precision
        tensor = tensor.numpy()
    values = np.asarray(tensor)
    return values if values.dtype in (np.float32, np.float64) else values.astype(np.float32)


def _num(value: float) -> str:
    """A number in three significant digits, as a person writes it (``-2.1``, ``1.2e-05``)."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.3g}"
