"""MNIST and Fashion-MNIST in their IDX files, gzipped or not, from a folder.

The folder holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (and the
``t10k-`` pair for the test part; ``subset`` picks which), each optionally ending in
``.gz``. An IDX file starts with two zero bytes, a type code (0x08 for unsigned bytes)
and the number of dimensions, then each dimension as a big-endian 32-bit number, then
the values. A damaged header, a file shorter than its header says or a header that
declares more than the file (or its gzip stream) can hold is an error naming the file,
found before the values are read. Labels are checked by ``engine.data.labels``: whole
numbers from 0, fewer than ten for Fashion-MNIST's names.
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.data.files import check_folder, check_ratio, check_size, file_size, open_file
from engine.data.labels import class_labels
from engine.errors import DataError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip
_CHUNK = 1 << 20


def _read_exactly(stream, count: int) -> bytes:
    """Up to ``count`` bytes; memory grows only with the bytes that really arrive."""
    chunks, left = [], count
    while left > 0:
        chunk = stream.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _header(stream, path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """The dimensions and value type an IDX header declares, and the header's size."""
    start = _read_exactly(stream, 4)
    if len(start) < 4 or start[0] != 0 or start[1] != 0:
        raise DataError(f"{path.name}: not an IDX file (bad magic number)")
    code, ndim = start[2], start[3]
    if code not in _TYPES:
        raise DataError(f"{path.name}: not an IDX file (unknown value type 0x{code:02x})")
    raw_dims = _read_exactly(stream, 4 * ndim)
    if ndim == 0 or len(raw_dims) < 4 * ndim:
        raise DataError(f"{path.name}: the IDX header is cut short")
    return struct.unpack(f">{ndim}I", raw_dims), np.dtype(_TYPES[code]), 4 + 4 * ndim


def _read(stream, path: Path, size: int, gzipped: bool) -> np.ndarray:
    dims, dtype, header = _header(stream, path)
    expected = math.prod(dims) * dtype.itemsize
    shape = "x".join(str(d) for d in dims)
    if expected == 0:
        raise DataError(f"{path.name}: the IDX header declares no values ({shape})")
    if gzipped:
        check_ratio(path.name, expected, size, f"the header's {shape} values")
    check_size(path.name, math.prod(dims) * (dtype.itemsize + 4), f"{shape} values")
    stored = size - header
    if not gzipped and stored != expected:
        body_size = stored
    else:
        body = _read_exactly(stream, expected)
        body_size = len(body) + len(stream.read(1))  # one byte more: the file is longer
    if body_size != expected:
        more = " or more" if gzipped and body_size > expected else ""
        raise DataError(
            f"{path.name}: the header promises {shape} values ({expected} bytes) but the "
            f"file holds {body_size}{more} bytes (damaged or truncated download?)"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def read_idx(path: Path) -> np.ndarray:
    """The array stored in one IDX file (gzipped or not), its declared size checked first."""
    with open_file(path, "an IDX file") as stream:
        gzipped = stream.read(2) == b"\x1f\x8b"
        stream.seek(0)
        try:
            if not gzipped:
                return _read(stream, path, file_size(stream), False)
            with gzip.GzipFile(fileobj=stream) as unpacked:
                return _read(unpacked, path, file_size(stream), True)
        except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
            raise DataError(f"{path.name}: cannot be read ({error})") from None


def _find(folder: Path, stem: str) -> Path:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).is_symlink() or (folder / name).exists():
            return folder / name  # whatever it is: read_idx says if it is not a file
    raise DataError(f"{folder}: there is no {stem} (or {stem}.gz) in this folder")


def load_idx(params: dict, seed: int) -> Raw:
    """Read MNIST-style images and labels from a folder (see the module docstring)."""
    folder = check_folder(
        Path(params["path"]), "no such folder (it should hold the MNIST IDX files)"
    )
    subset = params["subset"]
    if subset not in ("train", "t10k"):
        raise DataError('"subset" must be "train" or "t10k"')
    images_path = _find(folder, f"{subset}-images-idx3-ubyte")
    labels_path = _find(folder, f"{subset}-labels-idx1-ubyte")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(
            f"{images_path.name}: expected images (N, height, width), got {images.shape}"
        )
    if images.size == 0:
        raise DataError(f"{images_path.name}: the images {images.shape} hold no pixels")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{labels_path.name}: {len(labels)} labels for {len(images)} images; they must match"
        )
    x = images.astype(np.float32)[:, None] / 255.0
    fashion = FASHION if params["labels"] == "fashion" else None
    y, names = class_labels(labels, labels_path.name, fashion)
    return Raw(x, y, "classification", "image", names,
               f"{folder.name}: {len(x)} images of {images.shape[1]}x{images.shape[2]}",
               x_scale=255.0)  # fmt: skip


IDX_PARAMS = {"path": None, "subset": "train", "labels": "digits"}
