"""In memory or streamed from disk: the choice, and a streamed dataset built.

Small data is read into memory and moved to the device whole (the fastest way to train
on it). A file dataset whose in-memory size is over ``threshold()`` is streamed instead:
its samples stay on disk and the data workers read each batch (``LazySamples``). The
threshold is the smaller of ``STREAM_LIMIT`` (1 GiB) and a quarter of the memory
available when the data is opened: loading, splitting and normalising an array briefly
takes about three times its size, and the model and torch need the rest. The
``streaming`` param overrides the choice: ``auto``, ``on`` or ``off``.

A streamed dataset is split exactly as the in-memory one (the same seeded, stratified
indices); its normalisation statistics come from a seeded sample of up to
``STATS_SAMPLE`` training samples (all of them when there are fewer, so the two paths
then give the same numbers), and its targets are held in memory. Workers: the
``workers`` param, or ``auto_workers()``.
"""

from __future__ import annotations

import os

import numpy as np

from engine.data.augment import check_augment
from engine.data.base import Dataset
from engine.data.lazy import Lazy, LazySamples, check_finite
from engine.data.split import fit_normalizer
from engine.errors import DataError
from engine.progress import Steps

STREAM_CHOICES = ("auto", "on", "off")
STREAM_LIMIT = 1 << 30
MEMORY_SHARE = 4  # stream when the data needs more than this part of available memory
STATS_SAMPLE = 1000
MAX_WORKERS = 8


def available_memory() -> int:
    """Bytes of memory available now (Linux's MemAvailable; else the free pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return 8 << 30


def threshold() -> int:
    """In-memory bytes above which a file dataset is streamed (``auto``)."""
    return min(STREAM_LIMIT, available_memory() // MEMORY_SHARE)


def wants_streaming(setting: str, estimate: int) -> bool:
    """Whether to stream data of ``estimate`` in-memory bytes with ``streaming`` set so."""
    return setting == "on" or (setting == "auto" and estimate > threshold())


def check_settings(name: str, params: dict) -> None:
    """Refuse a bad ``streaming``, ``workers`` or ``cache`` param with one sentence."""
    if params["streaming"] not in STREAM_CHOICES:
        raise DataError(
            f'dataset {name}: "streaming" must be one of {", ".join(STREAM_CHOICES)}, '
            f"not {params['streaming']!r}"
        )
    workers = params["workers"]
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or not 0 <= workers <= 64):  # fmt: skip
        raise DataError(f'dataset {name}: "workers" must be null (auto) or a whole number 0-64')
    if params.get("cache", "auto") not in STREAM_CHOICES:
        raise DataError(
            f'dataset {name}: "cache" must be one of {", ".join(STREAM_CHOICES)}, '
            f"not {params['cache']!r}"
        )


def auto_workers() -> int:
    """Data workers for a streamed dataset: one per two cores (the training itself needs
    the others), at least one, at most ``MAX_WORKERS``."""
    return max(1, min(MAX_WORKERS, (os.cpu_count() or 2) // 2))


def _sample(train: np.ndarray, seed: int) -> np.ndarray:
    """A seeded sample of up to ``STATS_SAMPLE`` training indices, in order."""
    if len(train) <= STATS_SAMPLE:
        return train
    rng = np.random.default_rng(seed)
    return train[np.sort(rng.choice(len(train), STATS_SAMPLE, replace=False))]


def _statistics(lazy: Lazy, train: np.ndarray, params: dict, where: str, progress):
    """Mean and std of a sample of the training part (None, None when not normalised)."""
    if not params["normalize"] or lazy.kind == "tokens":
        return None, None
    picked = _sample(train, params["seed"])
    steps = Steps(progress, "reading a sample for the normalisation", len(picked))
    blocks = []
    for start in range(0, len(picked), 100):
        blocks.append(lazy.reader.read(picked[start : start + 100]))
        steps.tell(min(start + 100, len(picked)))
    raw = np.concatenate(blocks)
    check_finite(where, "inputs", raw, picked)
    mean, std = fit_normalizer(raw, lazy.kind)
    return mean, std


def build_streamed(name: str, lazy: Lazy, params: dict, progress=None) -> Dataset:
    """A Dataset whose samples are read from disk when asked (``params``: the checked
    params, ``path`` the file's name for sentences)."""
    from engine.data.registry import split_targets  # it builds on this module

    count = lazy.reader.count if not params["limit"] else min(lazy.reader.count, params["limit"])
    if count < 2:
        raise DataError(f"{name}: needs at least 2 samples, found {count}")
    where = params.get("path") or name
    y = lazy.y[:count] if lazy.y is not None else np.zeros((count, 0), np.float32)
    check_finite(where, "targets", y)
    parts = split_targets(name, lazy, y, count, params)
    mean, std = _statistics(lazy, parts.train, params, where, progress)
    x_train = LazySamples(lazy.reader, parts.train, mean, std, where)
    x_val = LazySamples(lazy.reader, parts.val, mean, std, where)
    y_train, y_val = parts.y_train, parts.y_val
    if parts.task == "reconstruction":
        y_train, y_val = x_train, x_val
    dataset = Dataset(
        name, x_train, y_train, x_val, y_val, parts.task, parts.classes,
        list(lazy.class_names) if parts.classes else [], lazy.kind, parts.target_mean,
        parts.target_std, lazy.description, x_mean=None if mean is None else mean[0],
        x_std=None if std is None else std[0], x_scale=lazy.x_scale,
        train_index=parts.train, val_index=parts.val,
    )  # fmt: skip
    dataset.augment = check_augment(params["augment"], name, lazy.kind)
    dataset.workers = auto_workers() if params["workers"] is None else params["workers"]
    dataset.loading = streaming_text(count, lazy.what, dataset.workers, lazy.note)
    return dataset


def streaming_text(count: int, what: str, workers: int, note: str = "") -> str:
    """``streaming 50,000 images from disk with 2 workers`` (and the cache's sentence)."""
    how = f"with {workers} worker{'s' if workers != 1 else ''}" if workers else "in this process"
    text = f"streaming {count:,} {what} from disk {how}"
    return f"{text}; {note}" if note else text


def memory_text(count: int, why: str = "") -> str:
    """``in memory: 1,797 samples`` (and why it is not streamed, when it was wanted)."""
    return f"in memory: {count:,} samples" + (f" ({why})" if why else "")
