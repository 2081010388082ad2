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

import functools
import math
import struct
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

from engine.data.base import Raw, fmt_shape
from engine.data.files import check_ratio, check_size, file_size, open_file
from engine.data.labels import class_labels
from engine.data.lazy import ArrayReader, Lazy, Probe
from engine.errors import DataError

_X_NAMES = ("x", "X", "data", "inputs", "images", "features")
_Y_NAMES = ("y", "Y", "labels", "targets", "target", "label")
_READ_ERRORS = (ValueError, EOFError, OSError, zipfile.BadZipFile, NotImplementedError,
                UnicodeDecodeError, SyntaxError, RuntimeError)  # fmt: skip
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what np.savez(_compressed) writes


def _header(stream, where: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    """The shape, dtype and Fortran order an ``.npy`` stream declares (nothing of its
    data is read)."""
    try:
        version = npy.read_magic(stream)
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, fortran, dtype = reader(stream)
    except _READ_ERRORS as error:
        raise DataError(f"{where}: not NumPy data or damaged ({error})") from None
    if dtype.hasobject:
        raise DataError(f"{where}: it holds Python objects, which are not loaded")
    return shape, dtype, fortran


def _check_declared(where: str, shape, dtype: np.dtype, stored: int, compressed: int) -> None:
    """Refuse an array whose declared size the stored bytes or this computer cannot hold."""
    check_ratio(where, stored, compressed, "the array")
    check_size(where, math.prod(shape) * (dtype.itemsize + 4),
               f"an array of {fmt_shape(shape or (1,))}")  # fmt: skip
    _check_stored(where, shape, dtype, stored)


def _check_stored(where: str, shape, dtype: np.dtype, stored: int) -> None:
    """Refuse an array whose declared size is more than the bytes stored."""
    if math.prod(shape) * dtype.itemsize > stored:
        raise DataError(
            f"{where}: the header promises {fmt_shape(shape or (1,))} {dtype} values but "
            f"only {stored} bytes follow (damaged or truncated?)"
        )


def _read_npy(stream, where: str, stored: int, compressed: int) -> np.ndarray:
    """One array from an ``.npy`` stream of ``stored`` bytes, its size checked first."""
    start = stream.tell()
    shape, dtype, _ = _header(stream, where)
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


def _key(keys: list[str], path: Path, key: str | None, names: tuple[str, ...], what: str):
    """The name of the array that holds ``what`` (None: no targets)."""
    if key is not None:
        if key not in keys:
            raise DataError(f"{path.name}: there is no array {key!r} (it has: {', '.join(keys)})")
        return key
    for name in names:
        if name in keys:
            return name
    if what == "targets":
        return None
    raise DataError(
        f"{path.name}: which array holds the {what}? It has: {', '.join(keys)}; set "
        f'"x" and "y" in the dataset params'
    )


def _pick(archive, path: Path, key: str | None, names: tuple[str, ...], what: str):
    name = _key(list(archive.keys()), path, key, names, what)
    return None if name is None else archive[name]


def _sample_kind(dtype: np.dtype, shape, path: Path) -> tuple[str, tuple[int, ...], str]:
    """What samples stored as ``dtype`` in ``shape`` become: (kind, sample shape, dtype)."""
    if len(shape) < 2:
        raise DataError(f"{path.name}: samples must be an array of shape (N, ...), got {shape}")
    if math.prod(shape) == 0:
        raise DataError(f"{path.name}: the samples {fmt_shape(shape)} hold no values")
    sample = tuple(int(s) for s in shape[1:])
    if dtype == np.uint8:
        sample = (1, *sample) if len(shape) == 3 else sample
        return ("image" if len(sample) == 3 else "tabular"), sample, "float32"
    if np.issubdtype(dtype, np.integer):
        return "tokens", sample, "int64"
    if np.issubdtype(dtype, np.floating) or dtype == np.bool_:
        kind = {2: "tabular", 3: "sequence", 4: "image"}.get(len(shape), "tabular")
        return kind, sample, "float32"
    raise DataError(f"{path.name}: samples of type {dtype} cannot be used; store numbers")


def convert_samples(x: np.ndarray, where: str) -> np.ndarray:
    """Stored samples (or a block of them) as the network reads them: bytes as pixels in
    [0, 1] (a channel added to (N, H, W)), whole numbers as token ids, floats as float32."""
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
        return x[:, None] if x.ndim == 3 else x
    if np.issubdtype(x.dtype, np.integer):
        if x.size and x.min() < 0:
            raise DataError(
                f"{where}: samples of whole numbers ({x.dtype}) are read as token ids, "
                f"which cannot be negative (found {x.min()}); store measurements as floats"
            )
        return x.astype(np.int64)
    return x.astype(np.float32)


def _samples(x: np.ndarray, path: Path) -> tuple[np.ndarray, str]:
    kind, _, _ = _sample_kind(x.dtype, x.shape, path)
    return convert_samples(x, path.name), kind


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


def _local_data(stream, member: zipfile.ZipInfo) -> int:
    """Where a stored zip member's bytes start: after its local header, whose name and
    extra field (zip64 sizes) may differ in length from the central directory's."""
    stream.seek(member.header_offset)
    local = stream.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise DataError(f"{member.filename}: damaged zip entry (no local header)")
    name_length, extra_length = struct.unpack("<HH", local[26:30])
    return member.header_offset + 30 + name_length + extra_length


def _stored_samples(path: Path, params: dict):
    """(offset, shape, dtype) of the samples as stored, and why they cannot be read in
    place ("" when they can). Only the headers are read."""
    with open_file(path, "a .npy or .npz file") as stream:
        if not stream.read(6).startswith(b"PK"):
            stream.seek(0)
            shape, dtype, fortran = _header(stream, path.name)
            offset, stored = stream.tell(), file_size(stream) - stream.tell()
        else:
            stream.seek(0)
            archive = _Archive(stream, path)
            name = _key(archive.keys(), path, params["x"], _X_NAMES, "samples")
            member, where = archive.members[name], f"{path.name}: array {name!r}"
            if member.compress_type != zipfile.ZIP_STORED or member.flag_bits & 0x1:
                with archive.zip.open(member) as inner:
                    shape, dtype, _ = _header(inner, where)
                why = (
                    f"array {name!r} of {path.name} is compressed (np.savez_compressed), "
                    "which cannot be read in place; save it with np.savez to stream it"
                )
                return 0, shape, dtype, why
            start = _local_data(stream, member)
            stream.seek(start)
            shape, dtype, fortran = _header(stream, where)
            offset, stored = stream.tell(), member.file_size - (stream.tell() - start)
        stored = min(stored, file_size(stream) - offset)  # a zip entry may claim more
    _check_stored(path.name, shape, dtype, stored)
    why = f"{path.name} stores its samples in Fortran order, which cannot be streamed" if (
        fortran and len(shape) > 1) else ""  # fmt: skip
    return offset, shape, dtype, why


def _stored_targets(path: Path, params: dict) -> np.ndarray | None:
    """All targets, read into memory (they are small beside the samples)."""
    with open_file(path, "a .npy or .npz file") as stream:
        zipped = stream.read(2) == b"PK"
    if not zipped:
        return _load_targets(Path(params["targets"])) if params["targets"] else None
    with _load(path) as data:
        return _pick(data, path, params["y"], _Y_NAMES, "targets")


def probe_arrays(params: dict, seed: int, progress=None, base_dir=None) -> Probe:
    """How a ``.npz``/``.npy`` can be read: in place through a memory map, unless the
    samples are compressed."""
    path = Path(params["path"])
    offset, shape, dtype, why = _stored_samples(path, params)
    kind, sample_shape, out = _sample_kind(dtype, shape, path)
    estimate = shape[0] * math.prod(sample_shape) * np.dtype(out).itemsize

    def materialize(_progress=None) -> Raw:
        return load_arrays(params, seed)

    def open_(_progress=None) -> Lazy:
        y = _stored_targets(path, params)
        y, task, names = _targets(None if y is None else np.asarray(y), shape[0], path,
                                  params["task"])  # fmt: skip
        convert = functools.partial(convert_samples, where=path.name)
        reader = ArrayReader(path, offset, dtype.str, shape, convert, sample_shape, out)
        scale = 255.0 if dtype == np.uint8 else 1.0
        return Lazy(reader, y, task, kind, names, f"{path.name}: {shape[0]} samples",
                    x_scale=scale)  # fmt: skip

    return Probe(estimate, materialize, None if why else open_, why)


ARRAY_PARAMS = {"path": None, "x": None, "y": None, "targets": None}
