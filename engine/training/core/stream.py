"""Batches streamed from files: a ``DataLoader`` whose workers read whole batches.

Each item the loader hands to a worker is one batch: ``("train", positions)`` or
``("val", positions)``. The worker reads those samples (``LazySamples``: decoding,
resizing and normalising happen there), reshapes them to the network's input, augments
training batches (``augment.apply_augment``, the function the in-memory path runs on the
device) and sends back ``(x, y)``. Pixels that need no augmentation travel as their bytes,
a quarter of the floats (moving a batch between processes costs by the byte): they are
scaled and normalised on arrival, on the device, to the same numbers. One pool of workers, started once
(``persistent_workers``), serves every epoch and the validation; on CUDA the batches come
in pinned memory and are copied without blocking. The order is ``data.epoch_order``'s,
sharded per rank under torchrun, so a streamed run takes the same batches as an
in-memory one; with no workers it also draws the same random numbers.

On the CPU the training itself gets the cores the workers leave (torch's threads, put
back when training ends). A worker's error comes back as the exception (a ``DeepwireError`` with its sentence) and
is raised here, never as a traceback from another process. Workers ignore Ctrl-C: the
first one stops training after the batch, in the main process.
"""

from __future__ import annotations

import signal

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .augment import apply_augment
from .data import epoch_order
from .errors import DeepwireError, TrainingError

PREFETCH = 2  # batches each worker reads ahead


class Parts(Dataset):
    """What a worker reads: one whole batch of one part per item (see the module
    docstring)."""

    def __init__(self, data, shape, targets: str, augment: dict):
        self.parts = {"train": (data.x_train, data.y_train), "val": (data.x_val, data.y_val)}
        self.shape, self.targets, self.augment = tuple(shape), targets, augment

    def __len__(self) -> int:
        return sum(len(x) for x, _ in self.parts.values())

    def __getitem__(self, item):
        part, positions = item
        try:
            return self._batch(part, positions)
        except DeepwireError as error:
            return error
        except Exception as error:  # a reader's unexpected failure is still a sentence
            return TrainingError(f"reading the data failed ({type(error).__name__}: {error})")

    def _batch(self, part: str, positions):
        x, y = self.parts[part]
        augment = self.augment if part == "train" else {}
        pixels = getattr(x, "pixels", None)
        block = pixels(positions) if pixels is not None and not augment else None
        if block is not None:  # bytes: ``StreamBatches.scale`` finishes them
            xb = torch.from_numpy(block)
        else:
            xb = torch.from_numpy(np.ascontiguousarray(x[positions]))
            xb = xb.reshape((len(positions), *self.shape))
        yb = None
        if self.targets == "samples" and block is None:
            yb = xb
        elif self.targets == "data":  # NumPy: each tensor passed between processes costs
            yb = np.ascontiguousarray(y[positions])  # a handshake of milliseconds
        if augment:
            xb = apply_augment(xb, augment)
        return xb, yb


class Plan(Sampler):
    """The batches of the part being read: an epoch's shuffled training batches, or the
    validation part in order."""

    def __init__(self, train_count: int, val_count: int, batch_size: int, seed: int, dist):
        self.train_count, self.val_count, self.batch_size = train_count, val_count, batch_size
        self.seed, self.dist = seed, dist
        self.part, self.epoch, self.val_size = "train", 1, batch_size

    def read_epoch(self, epoch: int) -> None:
        self.part, self.epoch = "train", epoch

    def read_validation(self, size: int) -> None:
        self.part, self.val_size = "val", size

    def __iter__(self):
        if self.part == "val":
            for start in range(0, self.val_count, self.val_size):
                yield "val", np.arange(start, min(start + self.val_size, self.val_count))
            return
        order = epoch_order(self.train_count, self.seed, self.epoch, torch.device("cpu"),
                            self.dist).numpy()  # fmt: skip
        for start in range(0, len(order), self.batch_size):
            yield "train", order[start : start + self.batch_size]

    def __len__(self) -> int:
        if self.part == "val":
            return -(-self.val_count // self.val_size)
        per_rank = self.train_count // (self.dist.world_size if self.dist else 1)
        return -(-per_rank // self.batch_size)


def _leave_cores(workers: int, device) -> int | None:
    """Train on the CPU with the cores the workers leave free: torch's threads spin, and
    two of them beside a worker on two cores made a step 3-4x slower. Returns the thread
    count to put back after training (None: unchanged)."""
    import os

    if device.type != "cpu" or not workers:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(min(before, max(1, (os.cpu_count() or 1) - workers)))
    return before


def _quiet_worker(_worker_id: int) -> None:
    """Ctrl-C is the main process's to handle (it stops after the batch)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class StreamBatches:
    """Training and validation batches read by worker processes (see the module
    docstring); the number of workers is the data's ``workers`` (0: read in this
    process)."""

    def __init__(self, data, device, shape, batch_size, seed, dist, targets, augment):
        self.data, self.device, self.shape = data, device, tuple(shape)
        self.targets, self.mean, self.std = targets, None, None
        if getattr(data.x_train, "mean", None) is not None:
            self.mean = torch.from_numpy(data.x_train.mean).to(device)
            self.std = torch.from_numpy(data.x_train.std).to(device)
        self.train_count = len(data.x_train)
        self.val_count = len(data.x_val) if targets != "none" else 0
        self.workers = int(getattr(data, "workers", 0) or 0)
        self.threads = _leave_cores(self.workers, device)
        self.plan = Plan(self.train_count, self.val_count, batch_size, seed, dist)
        self.loader = DataLoader(
            Parts(data, shape, targets, augment or {}), sampler=self.plan, batch_size=None,
            num_workers=self.workers, persistent_workers=self.workers > 0,
            pin_memory=device.type == "cuda", prefetch_factor=PREFETCH if self.workers else None,
            generator=torch.Generator().manual_seed(seed),
            worker_init_fn=_quiet_worker if self.workers else None,
        )  # fmt: skip

    def epoch(self, epoch: int):
        """The training batches of ``epoch`` on the device."""
        self.plan.read_epoch(epoch)
        yield from self._batches()
        self._pass_done()

    def validation(self, size: int):
        """The validation part in order, ``size`` samples a batch, on the device."""
        self.plan.read_validation(size)
        yield from self._batches()
        self._pass_done()

    def _batches(self):
        for item in self.loader:
            if isinstance(item, BaseException):
                raise item
            xb, yb = item
            if isinstance(yb, np.ndarray):
                yb = torch.from_numpy(yb)
            xb = xb.to(self.device, non_blocking=True)
            if xb.dtype == torch.uint8:
                xb = self.scale(xb)
                yb = xb if self.targets == "samples" else yb
            yield xb, (yb.to(self.device, non_blocking=True) if yb is not None else None)

    def scale(self, pixels):
        """A batch of pixel bytes as the samples the network reads: over 255, normalised,
        in the input's shape (the numbers ``LazySamples`` gives)."""
        x = pixels.to(torch.float32).div_(255.0)
        if self.mean is not None:
            x.sub_(self.mean).div_(self.std)
        return x.reshape((len(x), *self.shape))

    def _pass_done(self) -> None:
        """A part was read through: let the data keep what reading made (the image cache
        becomes whole once every image is in it)."""
        for part in (self.data.x_train, self.data.x_val):
            done = getattr(part, "pass_done", None)
            if done is not None:
                done()

    def head(self, count: int):
        """The first ``count`` training samples on the device (read here)."""
        x = np.ascontiguousarray(self.data.x_train[: min(count, self.train_count)])
        return torch.from_numpy(x).reshape((len(x), *self.shape)).to(self.device)

    def close(self) -> None:
        """End the worker processes (they would otherwise live as long as the source)."""
        iterator = getattr(self.loader, "_iterator", None)
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        self.loader._iterator = None
        if self.threads is not None:
            torch.set_num_threads(self.threads)
            self.threads = None
