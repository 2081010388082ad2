"""The training data as tensors on the device, and the order batches are taken in.

The samples are moved to the device once and batches are taken with an index tensor
(``x[idx]``), which is what a hand-written PyTorch loop does; no DataLoader, no
per-sample Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Arrays:
    """What a recipe trains on: NumPy arrays split into training and validation parts.

    ``engine.data.Dataset`` has the same attributes; the exported ``train.py`` builds one
    of these from ``data.npz``.

    Attributes:
        x_train, y_train, x_val, y_val: samples (and targets) along axis 0.
        task: ``classification``, ``regression`` or ``reconstruction``.
        num_classes: classes for classification, else 0.
        target_std: regression targets were divided by this (metrics undo it).
        augment: image augmentation settings (``augment.apply_augment``); {} for none.
    """

    x_train: object
    y_train: object
    x_val: object
    y_val: object
    task: str = "classification"
    num_classes: int = 0
    target_std: float = 1.0
    augment: dict = field(default_factory=dict)


def to_device(array, device, shape=None):
    """A NumPy array as a tensor on ``device``, reshaped to ``(len, *shape)`` if given."""
    import numpy as np
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if shape is not None:
        tensor = tensor.reshape((len(array), *shape))
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


def epoch_order(count: int, seed: int, epoch: int, device, dist=None):
    """The shuffled sample indices of ``epoch`` (this process's share under torchrun)."""
    import torch

    generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(count, generator=generator)
    if dist is not None:
        order = dist.shard(order)
    return order.to(device, non_blocking=True)


def batches_per_epoch(count: int, batch_size: int, dist=None) -> int:
    """How many batches one epoch takes on each process."""
    from .errors import TrainingError

    per_rank = count // (dist.world_size if dist else 1)
    if per_rank == 0:
        raise TrainingError("there are fewer training samples than processes")
    return -(-per_rank // batch_size)
