"""MNIST and Fashion-MNIST in their IDX files, gzipped or not, from a folder.

The folder holds ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (and the
``t10k-`` pair for the test part; ``subset`` picks which), each optionally ending in
``.gz``. An IDX file starts with two zero bytes, a type code (0x08 for unsigned bytes)
and the number of dimensions, then each dimension as a big-endian 32-bit number, then
the values. A damaged header or a file shorter than its header says is an error naming
the file.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.errors import DataError

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]  # fmt: skip


def read_idx(path: Path) -> np.ndarray:
    """The array stored in one IDX file (gzipped or not)."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(f"{path.name}: cannot be read ({error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{path.name}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise DataError(f"{path.name}: not an IDX file (unknown value type 0x{code:02x})")
    if ndim == 0 or len(raw) < 4 + 4 * ndim:
        raise DataError(f"{path.name}: the IDX header is cut short")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(dims)) * dtype.itemsize
    body = raw[4 + 4 * ndim :]
    if len(body) != expected:
        shape = "x".join(str(d) for d in dims)
        raise DataError(
            f"{path.name}: the header promises {shape} values ({expected} bytes) but the "
            f"file holds {len(body)} bytes (damaged or truncated download?)"
        )
    return np.frombuffer(body, dtype=dtype).reshape(dims)


def _find(folder: Path, stem: str) -> Path:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).is_file():
            return folder / name
    raise DataError(f"{folder}: there is no {stem} (or {stem}.gz) in this folder")


def load_idx(params: dict, seed: int) -> Raw:
    """Read MNIST-style images and labels from a folder (see the module docstring)."""
    folder = Path(params["path"])
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder (it should hold the MNIST IDX files)")
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
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{labels_path.name}: {len(labels)} labels for {len(images)} images; they must match"
        )
    x = images.astype(np.float32)[:, None] / 255.0
    y = labels.astype(np.int64)
    names = FASHION if params["labels"] == "fashion" else [str(c) for c in range(int(y.max()) + 1)]
    return Raw(x, y, "classification", "image", names,
               f"{folder.name}: {len(x)} images of {images.shape[1]}x{images.shape[2]}")  # fmt: skip


IDX_PARAMS = {"path": None, "subset": "train", "labels": "digits"}
