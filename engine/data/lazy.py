"""Samples read when asked: what a streamed dataset holds instead of arrays.

A *reader* gives the samples at some indices of a file dataset exactly as the in-memory
loader gives them (pixels as float32 in [0, 1], token ids as int64): ``read(indices)``,
with ``sample_shape``, ``dtype`` and ``count``. ``LazySamples`` is one part of it (the
training or the validation samples), normalised as ``registry.build`` normalises arrays,
and stands in for the NumPy array where code reads a few samples: ``len``, ``shape``,
``dtype``, an index, a slice or an index array; ``np.asarray`` reads the whole part.

Readers hold file names, never open files or maps, when they are pickled: every worker
process (forked or spawned) opens its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.files import check_size
from engine.data.split import normalize
from engine.errors import DataError


def check_finite(where: str, part: str, array: np.ndarray, samples=None) -> None:
    """Refuse NaN or infinite values, which would make the loss NaN at the first batch.

    Args:
        where: the file (or dataset) for the sentence.
        part: ``inputs`` or ``targets``.
        samples: the number of each row in the data as loaded (default: the row's own).
    """
    if not np.issubdtype(array.dtype, np.floating) or np.isfinite(array).all():
        return
    flat = ~np.isfinite(array.reshape(len(array), -1)).all(axis=1)
    row = int(np.argmax(flat))
    sample = row if samples is None else int(samples[row])
    raise DataError(
        f"{where}: the {part} of sample {sample} hold NaN or infinite values; "
        "remove or fill them first"
    )


@dataclass
class Lazy:
    """A file dataset opened for streaming: a reader of its samples, and its targets.

    Attributes:
        reader: gives samples by index (``read``, ``sample_shape``, ``dtype``, ``count``).
        y: every target, in memory (class indices or values), or None for none.
        task, kind, class_names, description, x_scale: as ``base.Raw`` has them.
        what: what a sample is called in the sentences (``images``, ``rows``...).
        note: a sentence about how it is read (the image cache), or "".
    """

    reader: object
    y: np.ndarray | None
    task: str
    kind: str
    class_names: list[str] = field(default_factory=list)
    description: str = ""
    x_scale: float = 1.0
    what: str = "samples"
    note: str = ""


@dataclass
class Probe:
    """What is known of a file dataset before it is read: enough to choose the path.

    Attributes:
        estimate: bytes it would take in memory (float32 samples, or what the reader
            needs, as for a CSV).
        materialize: ``f(progress) -> base.Raw``: read it all into memory.
        open: ``f(progress) -> Lazy``: open it for streaming; None when it cannot be.
        why_not: when it cannot be streamed, the sentence why.
    """

    estimate: int
    materialize: Callable
    open: Callable | None = None
    why_not: str = ""


class ArrayReader:
    """Samples of an array stored raw in a file from ``offset`` (an IDX file, an ``.npy``
    or an uncompressed ``.npz`` member), read through a memory map.

    Args:
        path: the file.
        offset: where the first value is.
        stored: the stored dtype (``>u1``, ``<f4``...) and ``shape``: what is on disk.
        convert: a picklable function from a block of stored rows to samples (the loader's
            own conversion, so both paths give the same numbers; a new array).
        sample_shape, dtype: what ``convert`` gives per sample.

    Attributes:
        finite: the samples cannot hold NaN (stored as whole numbers); float ones are
            checked batch by batch.
        bytes: the samples are stored bytes over 255 (pixels): ``read_pixels`` gives the
            bytes themselves.
    """

    def __init__(self, path, offset: int, stored: str, shape, convert, sample_shape, dtype):
        self.path, self.offset, self.stored = str(path), int(offset), stored
        self.stored_shape = tuple(int(s) for s in shape)
        self.convert, self.sample_shape, self.dtype = convert, tuple(sample_shape), dtype
        self.count = self.stored_shape[0]
        self.finite = not np.issubdtype(np.dtype(stored), np.floating)
        self.bytes = np.dtype(stored) == np.uint8 and dtype == "float32"
        self._map = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_map": None}

    def _rows(self, indices) -> np.ndarray:
        if self._map is None:
            self._map = np.memmap(self.path, dtype=np.dtype(self.stored), mode="r",
                                  offset=self.offset, shape=self.stored_shape)  # fmt: skip
        return np.asarray(self._map[np.asarray(indices, np.int64)])

    def read(self, indices) -> np.ndarray:
        """The samples at ``indices`` (an int array), converted."""
        return self.convert(self._rows(indices))

    def read_pixels(self, indices) -> np.ndarray | None:
        """The stored bytes at ``indices`` in the samples' shape (None unless ``bytes``)."""
        if not self.bytes:
            return None
        return self._rows(indices).reshape((len(indices), *self.sample_shape))


class LazySamples:
    """One part of a streamed dataset, read when indexed (see the module docstring).

    Args:
        reader: the source's reader.
        index: where each sample of this part sits in the source.
        mean, std: normalise as ``split.normalize`` does; None to leave samples as read.
        where: the file, for sentences.
    """

    def __init__(self, reader, index, mean=None, std=None, where: str = ""):
        self.reader, self.index = reader, np.asarray(index, np.int64)
        self.mean, self.std, self.where = mean, std, where

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.index), *self.reader.sample_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.reader.sample_shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.reader.dtype)

    @property
    def nbytes(self) -> int:
        """What the part takes as an array in memory."""
        return len(self.index) * math.prod(self.reader.sample_shape) * self.dtype.itemsize

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, int | np.integer):
            return self.take(np.arange(len(self))[[key]])[0]
        if isinstance(key, slice):
            return self.take(np.arange(len(self))[key])
        positions = np.asarray(key)
        if positions.dtype == np.bool_:
            positions = np.flatnonzero(positions)
        return self.take(positions.astype(np.int64))

    def take(self, positions) -> np.ndarray:
        """The samples at ``positions`` of this part, read, checked and normalised."""
        sources = self.index[np.asarray(positions, np.int64)]
        raw = self.reader.read(sources)
        if not getattr(self.reader, "finite", False):
            check_finite(self.where, "inputs", raw, sources)
        if self.mean is None:
            return raw
        if raw.dtype != np.float32:
            return normalize(raw, self.mean, self.std)
        np.subtract(raw, self.mean, out=raw)  # in place: the same numbers as ``normalize``
        return np.divide(raw, self.std, out=raw)

    def pixels(self, positions) -> np.ndarray | None:
        """The samples at ``positions`` as their stored bytes (0-255, uint8), when they are
        pixels (the samples are these over 255, then normalised with ``mean`` and
        ``std``); None for other samples. A batch of bytes is a quarter the size."""
        read = getattr(self.reader, "read_pixels", None)
        return None if read is None else read(self.index[np.asarray(positions, np.int64)])

    def pass_done(self) -> None:
        """The source was read through once (an epoch): the reader may keep what it
        made (``image_stream.ImageReader`` makes its cache whole)."""
        done = getattr(self.reader, "pass_done", None)
        if done is not None:
            done()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        check_size(Path(self.where).name or "the data", self.nbytes, f"{len(self)} samples")
        array = self[:]
        return array if dtype is None else array.astype(dtype)
