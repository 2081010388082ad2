"""The user's own arrays: an ``.npz`` file (samples and targets by key) or ``.npy`` files.

``x`` and ``y`` name the arrays in an ``.npz`` (the usual names ``x``/``X``/``data``/
``inputs`` and ``y``/``Y``/``labels``/``targets`` are found by themselves). With an
``.npy`` file, ``path`` holds the samples and ``targets`` another ``.npy`` with the
targets (none is needed for reconstruction). Pickled objects are never loaded, and
each array's declared shape is checked against the bytes stored and this computer's
memory before it is read (``engine.data.files``).

How samples are read: ``uint8`` is taken for pixels and scaled to [0, 1] ((N, H, W)
gains a channel: (N, 1, H, W)); other whole numbers are token ids (int64); floats stay
floats (token ids must not be negative). Whole-number targets are class indices (checked
by ``engine.data.labels``), floating ones regression values unless ``task`` is
``classification``, which takes whole-number floats as classes.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from engine.data.base import Raw, fmt_shape
from engine.data.files import check_ratio, check_size, file_size, open_file
from engine.data.labels import class_labels
from engine.errors import DataError

_X_NAMES = ("x", "X", "data", "inputs", "images", "features")
_Y_NAMES = ("y", "Y", "labels", "targets", "target", "label")
_READ_ERRORS = (ValueError, EOFError, OSError, zipfile.BadZipFile, NotImplementedError,
                UnicodeDecodeError, SyntaxError, RuntimeError)  # fmt: skip
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what np.savez(_compressed) writes


def _header(stream, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype an ``.npy`` stream declares (nothing of its data is read)."""
    try:
        version = npy.read_magic(stream)
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _fortran, dtype = reader(stream)
    except _READ_ERRORS as error:
        raise DataError(f"{where}: not NumPy data or damaged ({error})") from None
    if dtype.hasobject:
        raise DataError(f"{where}: it holds Python objects, which are not loaded")
    return shape, dtype


def _check_declared(where: str, shape, dtype: np.dtype, stored: int, compressed: int) -> None:
    """Refuse an array whose declared size the stored bytes or this computer cannot hold."""
    count = math.prod(shape)
    check_ratio(where, stored, compressed, "the array")
    check_size(where, count * (dtype.itemsize + 4), f"an array of {fmt_shape(shape or (1,))}")
    if count * dtype.itemsize > stored:
        raise DataError(
            f"{where}: the header promises {fmt_shape(shape or (1,))} {dtype} values but "
            f"only {stored} bytes follow (damaged or truncated?)"
        )


def _read_npy(stream, where: str, stored: int, compressed: int) -> np.ndarray:
    """One array from an ``.npy`` stream of ``stored`` bytes, its size checked first."""
    start = stream.tell()
    shape, dtype = _header(stream, where)
    _check_declared(where, shape, dtype, stored - (stream.tell() - start), compressed)
    stream.seek(start)
    try:
        return npy.read_array(stream, allow_pickle=False)
    except _READ_ERRORS as error:
        raise DataError(f"{where}: not NumPy data or damaged ({error})") from None


class _Archive:
    """The arrays of an ``.npz`` (a zip of ``.npy`` files), read one by one when asked."""

    def __init__(self, stream, path: Path):
        self.path, self.stream = path, stream
        try:
            self.zip = zipfile.ZipFile(stream)
            members = self.zip.infolist()
        except _READ_ERRORS as error:
            stream.close()
            raise DataError(f"{path.name}: not a NumPy file or damaged ({error})") from None
        self.members = {m.filename.removesuffix(".npy"): m for m in members}

    def __enter__(self):
        return self

    def __exit__(self, *_) -> None:
        self.zip.close()  # leaves the stream it was given open
        self.stream.close()

    def keys(self) -> list[str]:
        return list(self.members)

    def __getitem__(self, key: str) -> np.ndarray:
        member, where = self.members[key], f"{self.path.name}: array {key!r}"
        if member.compress_type not in _ZIP_METHODS:
            raise DataError(f"{where} is compressed in a way NumPy does not write")
        try:
            with self.zip.open(member) as stream:
                return _read_npy(stream, where, member.file_size, member.compress_size)
        except DataError:
            raise
        except _READ_ERRORS as error:
            raise DataError(f"{where}: damaged ({error})") from None


def _load(path: Path):
    """The array of an ``.npy`` file or the ``_Archive`` of an ``.npz`` file."""
    stream = open_file(path, "a .npy or .npz file")
    try:
        start = stream.read(6)
        stream.seek(0)
        if start.startswith(b"PK"):
            archive = _Archive(stream, path)
            stream = None  # the archive reads it and closes it
            return archive
        if start.startswith(b"\x93NUMPY"):
            return _read_npy(stream, path.name, file_size(stream), file_size(stream))
        # the PROTO opcode of pickle protocols 2 and up
        reason = (
            "it holds Python objects, which are not loaded"
            if start.startswith(b"\x80")
            else "it is neither a .npy nor a .npz file"
        )
        raise DataError(f"{path.name}: cannot be read as NumPy data ({reason})")
    finally:
        if stream is not None:
            stream.close()


def _pick(archive, path: Path, key: str | None, names: tuple[str, ...], what: str):
    keys = list(archive.keys())
    if key is not None:
        if key not in keys:
            raise DataError(f"{path.name}: there is no array {key!r} (it has: {', '.join(keys)})")
        return archive[key]
    for name in names:
        if name in keys:
            return archive[name]
    if what == "targets":
        return None
    raise DataError(
        f"{path.name}: which array holds the {what}? It has: {', '.join(keys)}; set "
        f'"x" and "y" in the dataset params'
    )


def _samples(x: np.ndarray, path: Path) -> tuple[np.ndarray, str]:
    if x.ndim < 2:
        raise DataError(f"{path.name}: samples must be an array of shape (N, ...), got {x.shape}")
    if x.size == 0:
        raise DataError(f"{path.name}: the samples {fmt_shape(x.shape)} hold no values")
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
        if x.ndim == 3:
            x = x[:, None]
        return x, "image" if x.ndim == 4 else "tabular"
    if np.issubdtype(x.dtype, np.integer):
        if x.size and x.min() < 0:
            raise DataError(
                f"{path.name}: samples of whole numbers ({x.dtype}) are read as token ids, "
                f"which cannot be negative (found {x.min()}); store measurements as floats"
            )
        return x.astype(np.int64), "tokens"
    if np.issubdtype(x.dtype, np.floating) or x.dtype == np.bool_:
        kind = {2: "tabular", 3: "sequence", 4: "image"}.get(x.ndim, "tabular")
        return x.astype(np.float32), kind
    raise DataError(f"{path.name}: samples of type {x.dtype} cannot be used; store numbers")


def _targets(y: np.ndarray | None, count: int, path: Path, task: str):
    if y is None:
        if task != "reconstruction":
            raise DataError(
                f'{path.name}: no targets found; name them with "y" (or "targets" for .npy), '
                'or set "task": "reconstruction"'
            )
        return np.zeros((count, 0), np.float32), "reconstruction", []
    if y.ndim == 0 or len(y) != count:
        found = len(y) if y.ndim else "a single number as"
        raise DataError(f"{path.name}: {count} samples but {found} targets; they must match")
    single = y.ndim == 1 or math.prod(y.shape[1:]) == 1
    whole = np.issubdtype(y.dtype, np.integer)
    if single and ((whole and task != "regression") or task == "classification"):
        labels, names = class_labels(y, path.name)
        return labels, "classification", names
    if task == "classification":
        raise DataError(
            f"{path.name}: targets of shape {fmt_shape(y.shape[1:])} per sample cannot be "
            "class labels; classification takes one whole number per sample"
        )
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{path.name}: targets of type {y.dtype} cannot be used; store numbers")
    y = y.astype(np.float32)
    return (y[:, None] if y.ndim == 1 else y), "regression", []


def _load_targets(path: Path) -> np.ndarray:
    targets = _load(path)
    if not isinstance(targets, np.ndarray):
        targets.__exit__()
        raise DataError(f"{path.name}: the targets must be one .npy file, not a .npz")
    return targets


def load_arrays(params: dict, seed: int) -> Raw:
    """Read samples and targets from ``.npz`` or ``.npy`` (see the module docstring)."""
    path = Path(params["path"])
    data = _load(path)
    if isinstance(data, np.ndarray):
        x = data
        y = _load_targets(Path(params["targets"])) if params["targets"] else None
    else:
        with data:
            x = _pick(data, path, params["x"], _X_NAMES, "samples")
            y = _pick(data, path, params["y"], _Y_NAMES, "targets")
    x = np.asarray(x)
    scale = 255.0 if x.dtype == np.uint8 else 1.0  # _samples reads bytes as 0-1
    x, kind = _samples(x, path)
    y, task, names = _targets(None if y is None else np.asarray(y), len(x), path, params["task"])
    return Raw(x, y, task, kind, names, f"{path.name}: {len(x)} samples", x_scale=scale)


ARRAY_PARAMS = {"path": None, "x": None, "y": None, "targets": None}
