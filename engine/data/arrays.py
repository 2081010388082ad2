"""The user's own arrays: an ``.npz`` file (samples and targets by key) or ``.npy`` files.

``x`` and ``y`` name the arrays in an ``.npz`` (the usual names ``x``/``X``/``data``/
``inputs`` and ``y``/``Y``/``labels``/``targets`` are found by themselves). With an
``.npy`` file, ``path`` holds the samples and ``targets`` another ``.npy`` with the
targets (none is needed for reconstruction). Pickled objects are never loaded.

How samples are read: ``uint8`` is taken for pixels and scaled to [0, 1] ((N, H, W)
gains a channel: (N, 1, H, W)); other whole numbers are token ids (int64); floats stay
floats. Whole-number targets are class indices, floating ones regression values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.errors import DataError

_X_NAMES = ("x", "X", "data", "inputs", "images", "features")
_Y_NAMES = ("y", "Y", "labels", "targets", "target", "label")


def _starts_like_a_pickle(path: Path) -> bool:
    """Whether the file is NumPy data or a pickle (not some other file numpy gave up on)."""
    try:
        with path.open("rb") as stream:
            start = stream.read(6)
    except OSError:
        return False
    # .npy magic, .npz (zip) magic, or the PROTO opcode of pickle protocols 2 and up
    return start.startswith((b"\x93NUMPY", b"PK", b"\x80"))


def _load(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except ValueError as error:
        reason = error
        if "pickle" in str(error):  # numpy falls back to pickle for anything unknown
            reason = (
                "it holds Python objects, which are not loaded"
                if _starts_like_a_pickle(path)
                else "it is neither a .npy nor a .npz file"
            )
        raise DataError(f"{path.name}: cannot be read as NumPy data ({reason})") from None
    except (OSError, EOFError) as error:
        raise DataError(f"{path.name}: not a NumPy file or damaged ({error})") from None


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
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
        if x.ndim == 3:
            x = x[:, None]
        return x, "image" if x.ndim == 4 else "tabular"
    if np.issubdtype(x.dtype, np.integer):
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
    if len(y) != count:
        raise DataError(f"{path.name}: {count} samples but {len(y)} targets; they must match")
    if np.issubdtype(y.dtype, np.integer) and task != "regression":
        y = y.reshape(count).astype(np.int64)
        if y.min() < 0:
            raise DataError(f"{path.name}: class labels must be 0 or more, found {y.min()}")
        return y, "classification", [str(c) for c in range(int(y.max()) + 1)]
    if not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{path.name}: targets of type {y.dtype} cannot be used; store numbers")
    y = y.astype(np.float32)
    return (y[:, None] if y.ndim == 1 else y), "regression", []


def load_arrays(params: dict, seed: int) -> Raw:
    """Read samples and targets from ``.npz`` or ``.npy`` (see the module docstring)."""
    path = Path(params["path"])
    data = _load(path)
    if isinstance(data, np.ndarray):
        x = data
        y = _load(Path(params["targets"])) if params["targets"] else None
    else:
        with data:
            x = _pick(data, path, params["x"], _X_NAMES, "samples")
            y = _pick(data, path, params["y"], _Y_NAMES, "targets")
    x, kind = _samples(np.asarray(x), path)
    y, task, names = _targets(None if y is None else np.asarray(y), len(x), path, params["task"])
    return Raw(x, y, task, kind, names, f"{path.name}: {len(x)} samples")


ARRAY_PARAMS = {"path": None, "x": None, "y": None, "targets": None}
