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
from engine.data.lazy import ArrayReader, Lazy, Probe
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


def _declared(path: Path, dims, dtype: np.dtype) -> tuple[int, str]:
    """The bytes the header's values take, and their shape as text (``30x6x5``)."""
    expected = math.prod(dims) * dtype.itemsize
    shape = "x".join(str(d) for d in dims)
    if expected == 0:
        raise DataError(f"{path.name}: the IDX header declares no values ({shape})")
    return expected, shape


def _mismatch(path: Path, shape: str, expected: int, found: int, more: str = "") -> DataError:
    return DataError(
        f"{path.name}: the header promises {shape} values ({expected} bytes) but the "
        f"file holds {found}{more} bytes (damaged or truncated download?)"
    )


def _read(stream, path: Path, size: int, gzipped: bool) -> np.ndarray:
    dims, dtype, header = _header(stream, path)
    expected, shape = _declared(path, dims, dtype)
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
        raise _mismatch(path, shape, expected, body_size, " or more" if gzipped else "")
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def idx_layout(path: Path) -> tuple[tuple[int, ...], np.dtype, int, bool]:
    """The dimensions, value type and header size of an IDX file, and whether it is
    gzipped; a plain file's size is checked against its header (it is read in place)."""
    with open_file(path, "an IDX file") as stream:
        gzipped = stream.read(2) == b"\x1f\x8b"
        stream.seek(0)
        size = file_size(stream)
        try:
            if gzipped:
                with gzip.GzipFile(fileobj=stream) as unpacked:
                    dims, dtype, header = _header(unpacked, path)
                _declared(path, dims, dtype)
                return dims, dtype, header, True
            dims, dtype, header = _header(stream, path)
        except (OSError, EOFError, zlib.error) as error:
            raise DataError(f"{path.name}: cannot be read ({error})") from None
    expected, shape = _declared(path, dims, dtype)
    if size - header != expected:
        raise _mismatch(path, shape, expected, size - header)
    return dims, dtype, header, False


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


def _paths(params: dict) -> tuple[Path, Path, Path]:
    """The folder and its images and labels files for ``subset``."""
    folder = check_folder(
        Path(params["path"]), "no such folder (it should hold the MNIST IDX files)"
    )
    subset = params["subset"]
    if subset not in ("train", "t10k"):
        raise DataError('"subset" must be "train" or "t10k"')
    return (folder, _find(folder, f"{subset}-images-idx3-ubyte"),
            _find(folder, f"{subset}-labels-idx1-ubyte"))  # fmt: skip


def _check_images(path: Path, dims) -> None:
    if len(dims) != 3:
        raise DataError(f"{path.name}: expected images (N, height, width), got {tuple(dims)}")
    if math.prod(dims) == 0:
        raise DataError(f"{path.name}: the images {tuple(dims)} hold no pixels")


def _labels(path: Path, count: int, params: dict) -> tuple[np.ndarray, list[str]]:
    labels = read_idx(path)
    if labels.ndim != 1 or len(labels) != count:
        raise DataError(f"{path.name}: {len(labels)} labels for {count} images; they must match")
    return class_labels(labels, path.name, FASHION if params["labels"] == "fashion" else None)


def pixels(block: np.ndarray) -> np.ndarray:
    """IDX images ``(N, H, W)`` of 0-255 as float32 ``(N, 1, H, W)`` in [0, 1]."""
    return block.astype(np.float32)[:, None] / 255.0


def _description(folder: Path, dims) -> str:
    return f"{folder.name}: {dims[0]} images of {dims[1]}x{dims[2]}"


def load_idx(params: dict, seed: int) -> Raw:
    """Read MNIST-style images and labels from a folder (see the module docstring)."""
    folder, images_path, labels_path = _paths(params)
    images = read_idx(images_path)
    _check_images(images_path, images.shape)
    y, names = _labels(labels_path, len(images), params)
    return Raw(pixels(images), y, "classification", "image", names,
               _description(folder, images.shape), x_scale=255.0)  # fmt: skip


def probe_idx(params: dict, seed: int, progress=None, base_dir=None) -> Probe:
    """How an IDX folder can be read: in place through a memory map unless gzipped."""
    folder, images_path, labels_path = _paths(params)
    dims, dtype, header, gzipped = idx_layout(images_path)
    _check_images(images_path, dims)

    def materialize(_progress=None) -> Raw:
        return load_idx(params, seed)

    if gzipped:
        why = (
            f"{images_path.name} is gzipped, which cannot be read in place; gunzip it to stream it"
        )
        return Probe(4 * math.prod(dims), materialize, None, why)

    def open_(_progress=None) -> Lazy:
        y, names = _labels(labels_path, dims[0], params)
        reader = ArrayReader(images_path, header, dtype.str, dims, pixels,
                             (1, dims[1], dims[2]), "float32")  # fmt: skip
        return Lazy(reader, y, "classification", "image", names, _description(folder, dims),
                    x_scale=255.0, what="images")  # fmt: skip

    return Probe(4 * math.prod(dims), materialize, open_)


IDX_PARAMS = {"path": None, "subset": "train", "labels": "digits"}
