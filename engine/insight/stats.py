"""The numbers a learner reads off one tensor: mean, spread, range and dead units.

A ReLU's output that is mostly exact zeros has dead units; a layer whose outputs have a
tiny spread passes little on. ``tensor_stats`` computes them for one sample's tensor,
and ``TensorStats.describe`` says them in one line for a tooltip or a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


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
    """The statistics of ``tensor`` (a torch tensor or anything ``torch.as_tensor`` takes).

    Integer and boolean tensors are read as floats; an empty tensor gives zeros.
    """
    import torch

    values = torch.as_tensor(tensor).detach()
    shape = tuple(int(size) for size in values.shape)
    if values.numel() == 0:
        return TensorStats(shape, 0.0, 0.0, 0.0, 0.0, 0.0)
    values = values.to(torch.float64 if values.dtype == torch.float64 else torch.float32)
    std, mean = torch.std_mean(values, correction=0)
    low, high = torch.aminmax(values)
    zeros = (values == 0).sum() / values.numel()
    numbers = torch.stack([mean, std, low, high, zeros]).tolist()
    return TensorStats(shape, *(float(n) for n in numbers))


def _num(value: float) -> str:
    """A number in three significant digits, as a person writes it (``-2.1``, ``1.2e-05``)."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return f"{value:.3g}"
