"""Where a recipe's batches come from: the device's memory, or a stream of the files.

``make_batches`` gives one of two sources with the same methods, so a recipe does not
know which it has:

- ``MemoryBatches`` (small data, the usual case): the samples are moved to the device
  once and a batch is ``x[idx]`` with an index tensor, as a hand-written loop does;
  augmentation runs on the device, on the whole batch.
- ``stream.StreamBatches`` (data that is bigger than memory; the samples are
  ``engine.data.lazy.LazySamples``): a ``torch.utils.data.DataLoader`` whose worker
  processes read, decode and augment whole batches.

Both take each epoch's batches in the same order (``data.epoch_order``, sharded under
torchrun), so the two paths train on the same batches. Methods: ``epoch(epoch)`` yields
``(x, y)`` per batch on the device (``y`` is None when the recipe needs no targets),
``validation(size)`` the validation part in order, ``head(count)`` the first training
samples; ``train_count``, ``val_count``; ``close()`` ends the workers.
"""

from __future__ import annotations

from .augment import apply_augment
from .data import epoch_order, to_device


def make_batches(data, device, shape, batch_size: int, seed: int, dist=None, *,
                 targets: str = "data", augment: dict | None = None):  # fmt: skip
    """The batch source for ``data`` (``data.Arrays`` or an ``engine.data.Dataset``).

    Args:
        shape: the network input's shape; samples are reshaped to it.
        targets: ``data`` (the data's targets), ``samples`` (the samples themselves,
            before augmentation: an autoencoder) or ``none`` (a GAN: no targets, and no
            validation part either).
        augment: augmentation settings for the training batches ({} or None: none).
    """
    import numpy as np

    if isinstance(data.x_train, np.ndarray):
        return MemoryBatches(data, device, shape, batch_size, seed, dist, targets, augment)
    from .stream import StreamBatches

    return StreamBatches(data, device, shape, batch_size, seed, dist, targets, augment)


class MemoryBatches:
    """Batches taken with index tensors from samples on the device (see the module
    docstring)."""

    def __init__(self, data, device, shape, batch_size, seed, dist, targets, augment):
        self.device, self.batch_size, self.seed, self.dist = device, batch_size, seed, dist
        self.augment = augment or {}
        self.x = to_device(data.x_train, device, shape)
        self.x_val = to_device(data.x_val if targets != "none" else data.x_val[:0], device, shape)
        self.y = self.y_val = None
        if targets == "samples":
            self.y, self.y_val = self.x, self.x_val
        elif targets == "data":
            self.y, self.y_val = to_device(data.y_train, device), to_device(data.y_val, device)
        self.train_count, self.val_count = len(self.x), len(self.x_val)

    def epoch(self, epoch: int):
        """The training batches of ``epoch``, shuffled, augmented as the data asks."""
        order = epoch_order(self.train_count, self.seed, epoch, self.device, self.dist)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            xb = self.x[idx]
            yb = self.y[idx] if self.y is not None else None
            yield (apply_augment(xb, self.augment) if self.augment else xb), yb

    def validation(self, size: int):
        """The validation part in order, ``size`` samples a batch."""
        for start in range(0, self.val_count, size):
            yb = self.y_val[start : start + size] if self.y_val is not None else None
            yield self.x_val[start : start + size], yb

    def head(self, count: int):
        """The first ``count`` training samples (fewer when there are fewer)."""
        return self.x[:count]

    def close(self) -> None:
        """Nothing to end: the samples go with the source."""
