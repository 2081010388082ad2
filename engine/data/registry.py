"""The project's ``dataset`` section: ``{"name": ..., "params": {...}}`` -> ``Dataset``.

Every dataset takes the common params below besides its own; unknown params and wrong
types are errors naming the field.

- ``validation_split`` (0.2): share of samples kept apart to validate on.
- ``seed`` (0): the split and the synthetic data follow it.
- ``normalize`` (true; false for the GAN sets ``rings``, ``grid`` and ``spiral``, whose
  points stay in the plane's coordinates): standardise samples (and regression targets)
  with statistics of the training part. A dataset's own defaults override these.
- ``augment`` (false): true, or ``{"hflip", "vflip", "shift", "noise"}`` for images.
- ``task`` ("auto"): ``classification``, ``regression`` or ``reconstruction`` (the
  target is the input, for autoencoders).
- ``limit`` (null): use only this many samples (a quick try on a large set).

File datasets (``csv``, ``npz``, ``images``, ``idx``) take a ``path``; a relative path
is taken from the project file's folder, and also:

- ``streaming`` (``auto``): ``on`` reads the samples from disk batch by batch in data
  workers, ``off`` reads them all into memory, ``auto`` streams data too big for memory
  (``engine.data.stream``). Gzipped IDX files and compressed ``.npz`` arrays cannot be
  read in place, so they are read into memory whatever the setting (the loading text
  says why).
- ``workers`` (null: one per two cores): data worker processes of a streamed dataset.
- ``cache`` (images only, ``auto``): keep the decoded images of a streamed folder on
  disk beside the project (``engine.data.image_cache``); ``auto`` when it fits the disk.

``load_dataset`` reports slow work (listing and decoding a large folder, a pass over a
large CSV) to its ``progress`` function (``engine.progress``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.bounds import BoundsError, check_plain
from engine.data.arrays import ARRAY_PARAMS, load_arrays, probe_arrays
from engine.data.augment import check_augment
from engine.data.base import TASKS, Dataset, Raw
from engine.data.builtin import BUILTINS
from engine.data.csv_stream import probe_csv
from engine.data.idx import IDX_PARAMS, load_idx, probe_idx
from engine.data.image_stream import probe_images
from engine.data.images import IMAGE_PARAMS, load_images
from engine.data.labels import class_labels
from engine.data.lazy import Lazy, check_finite
from engine.data.split import fit_normalizer, normalize, split_indices
from engine.data.stream import build_streamed, check_settings, memory_text, wants_streaming
from engine.data.tabular import CSV_PARAMS, load_csv
from engine.errors import DataError

COMMON_PARAMS: dict[str, Any] = {
    "validation_split": 0.2,
    "seed": 0,
    "normalize": True,
    "augment": False,
    "task": "auto",
    "limit": None,
}
LOADERS: dict[str, tuple] = {
    **BUILTINS,
    "csv": (load_csv, CSV_PARAMS),
    "npz": (load_arrays, ARRAY_PARAMS),
    "images": (load_images, IMAGE_PARAMS),
    "idx": (load_idx, IDX_PARAMS),
}
FILE_DATASETS = ("csv", "npz", "images", "idx")
FILE_PARAMS: dict[str, Any] = {"streaming": "auto", "workers": None}
PROBES = {"csv": probe_csv, "npz": probe_arrays, "images": probe_images, "idx": probe_idx}


def dataset_names() -> list[str]:
    """Names a ``dataset`` section may use: built-in ones first, then file formats."""
    return list(LOADERS)


def dataset_params(name: str) -> dict[str, Any]:
    """The params of dataset ``name`` with their defaults (common ones included)."""
    if name not in LOADERS:
        known = ", ".join(LOADERS)
        raise DataError(f"dataset: there is no dataset {name!r} (known: {known})")
    files = FILE_PARAMS if name in FILE_DATASETS else {}
    return {**COMMON_PARAMS, **files, **LOADERS[name][1]}


def check_section(section: Any) -> tuple[str, dict[str, Any]]:
    """Validate a ``dataset`` section without loading data; returns (name, full params)."""
    if not isinstance(section, dict):
        raise DataError('dataset: must be {"name": ..., "params": {...}}')
    unknown = sorted(set(section) - {"name", "params"})
    if unknown:
        raise DataError(f"dataset: unknown field {unknown[0]!r} (it has name and params)")
    name = section.get("name")
    if not isinstance(name, str):
        raise DataError('dataset: "name" must be a dataset name such as "digits"')
    params = section.get("params", {})
    if not isinstance(params, dict):
        raise DataError('dataset: "params" must be an object')
    defaults = dataset_params(name)
    for key in params:
        if key not in defaults:
            raise DataError(
                f"dataset {name}: unknown param {key!r} (it takes: {', '.join(defaults)})"
            )
    try:
        check_plain(params, f"dataset {name}: params")
    except BoundsError as error:
        raise DataError(str(error)) from None
    full = {**defaults, **params}
    _check_common(name, full)
    if name in FILE_DATASETS and not isinstance(full["path"], str):
        raise DataError(f'dataset {name}: "path" must name the file or folder to read')
    if name in FILE_DATASETS:
        check_settings(name, full)
    return name, full


def _check_common(name: str, params: dict) -> None:
    split = params["validation_split"]
    if isinstance(split, bool) or not isinstance(split, int | float) or not 0 <= split < 1:
        raise DataError(f'dataset {name}: "validation_split" must be a number from 0 to below 1')
    wholes = ("seed", "limit", "n_samples", "steps", "length", "vocab_size", "classes", "turns")
    for key in wholes:
        value = params.get(key)
        if value is None and key == "limit":
            continue
        if key == "classes" and name == "digits":
            continue  # a list of digits, checked by the loader
        least = 1 if key == "turns" else 0
        if key in params and (
            isinstance(value, bool) or not isinstance(value, int) or value < least
        ):
            raise DataError(f'dataset {name}: "{key}" must be a whole number of {least} or more')
    for key in ("noise", "factor", "radius", "std", "spacing"):
        value = params.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise DataError(f'dataset {name}: "{key}" must be a number of 0 or more')
    if not isinstance(params["normalize"], bool):
        raise DataError(f'dataset {name}: "normalize" must be true or false')
    if params["task"] not in ("auto", *TASKS):
        raise DataError(f'dataset {name}: "task" must be one of auto, {", ".join(TASKS)}')
    check_augment(params["augment"], name)


def load_dataset(section: dict, base_dir: str | Path | None = None, progress=None) -> Dataset:
    """Load, split and normalise the dataset a project's ``dataset`` section names: into
    memory, or opened for streaming when it is large (``engine.data.stream``).

    Args:
        section: ``{"name": "digits", "params": {"validation_split": 0.2}}``.
        base_dir: the folder relative paths start from (the project file's folder);
            a streamed image folder's cache goes there.
        progress: called with ``engine.progress.Progress`` events during slow work.

    Raises:
        DataError: the section is wrong or the data cannot be read; the message names the
            field, file, line or column.
    """
    name, params = check_section(section)
    params = resolve_paths(name, params, base_dir)
    try:
        raw, why = _read(name, params, base_dir, progress)
    except DataError:
        raise
    except MemoryError:
        raise DataError(f"{name}: not enough memory to load the data") from None
    except Exception as error:  # a loader's unexpected failure is still a sentence
        where = f"{params['path']}: " if "path" in params else f"{name}: "
        raise DataError(
            f"{where}the data cannot be read ({type(error).__name__}: {error})"
        ) from error
    source = Path(params["path"]).name if name in FILE_DATASETS else name
    shown = {**params, "path": source} if "path" in params else params
    try:
        if isinstance(raw, Lazy):
            return build_streamed(name, raw, shown, progress)
        dataset = build(name, raw, shown)
        dataset.loading = memory_text(len(dataset), why)
        return dataset
    except DataError as error:  # say which data the split or the checks are about
        if str(error).startswith(source):
            raise
        raise DataError(f"{source}: {error}") from None
    except (OSError, ValueError) as error:  # a streamed file changed or lies about itself
        raise DataError(
            f"{source}: the data cannot be read ({type(error).__name__}: {error})"
        ) from None


def _read(name: str, params: dict, base_dir, progress) -> tuple[Raw | Lazy, str]:
    """The data read into memory (``Raw``) or opened for streaming (``Lazy``), and why
    it is in memory when streaming was wanted but cannot be done ("" otherwise)."""
    if name not in FILE_DATASETS or (params["streaming"] == "off" and name != "images"):
        loader = LOADERS[name][0]
        return loader(params, params["seed"]), ""
    try:
        probe = PROBES[name](params, params["seed"], progress, base_dir)
    except DataError:
        if name == "images":  # its probe is the listing the loader makes
            raise
        return LOADERS[name][0](params, params["seed"]), ""  # its own sentence for it
    if not wants_streaming(params["streaming"], probe.estimate):
        return probe.materialize(progress), ""
    if probe.open is None:
        return probe.materialize(progress), probe.why_not
    return probe.open(progress), ""


def resolve_paths(name: str, params: dict, base_dir: str | Path | None) -> dict:
    """``params`` with a file dataset's ``path`` (and ``targets``) taken from ``base_dir``
    when relative; other datasets' params are returned as they are."""
    if name not in FILE_DATASETS:
        return params
    params = dict(params)
    for key in ("path", "targets"):
        if key == "path" or params.get(key):
            path = Path(params[key]).expanduser()
            absolute = path.is_absolute() or base_dir is None
            params[key] = str(path if absolute else Path(base_dir) / path)
    return params


def _check_finite(where: str, x: np.ndarray, y: np.ndarray) -> None:
    """NaN or infinite values would make the loss NaN at the first batch: refuse them."""
    check_finite(where, "inputs", x)
    check_finite(where, "targets", y)


@dataclass
class Parts:
    """How a dataset is split: the task, the indices of each part and its targets.

    Attributes:
        task: ``classification``, ``regression`` or ``reconstruction``.
        train, val: indices of the samples of each part, in order.
        y_train, y_val: the targets of each part (standardised for regression).
        classes: the number of classes (classification), else 0.
        target_mean, target_std: what regression targets were standardised with.
    """

    task: str
    train: np.ndarray
    val: np.ndarray
    y_train: np.ndarray
    y_val: np.ndarray
    classes: int = 0
    target_mean: float = 0.0
    target_std: float = 1.0


def split_targets(name: str, raw, y: np.ndarray, count: int, params: dict) -> Parts:
    """The task, the seeded (stratified) split and the targets of ``count`` samples: one
    rule for data in memory and streamed data (``raw``: a ``Raw`` or a ``lazy.Lazy``)."""
    task = raw.task
    if params["task"] == "reconstruction":
        task = "reconstruction"
    elif params["task"] != "auto" and params["task"] != task:
        raise DataError(f"{name}: the targets make this a {task} task, not {params['task']}")
    labels = None
    if task == "classification":  # whatever the loader: whole numbers indexing the names
        labels, _ = class_labels(y, name, list(raw.class_names))
        y = labels
    train, val = split_indices(count, params["validation_split"], params["seed"], labels)
    parts = Parts(task, train, val, y[train], y[val])
    if params["normalize"] and raw.kind != "tokens" and task == "regression":
        parts.target_mean = float(parts.y_train.mean())
        parts.target_std = float(parts.y_train.std() or 1.0)
        parts.y_train = ((parts.y_train - parts.target_mean) / parts.target_std).astype(np.float32)
        parts.y_val = ((parts.y_val - parts.target_mean) / parts.target_std).astype(np.float32)
    parts.classes = len(raw.class_names) if task == "classification" else 0
    return parts


def build(name: str, raw: Raw, params: dict) -> Dataset:
    """Split and normalise loaded arrays into a Dataset (``params`` are the common ones)."""
    x, y = raw.x, raw.y
    if params["limit"]:
        x, y = x[: params["limit"]], y[: params["limit"]]
    if len(x) < 2:
        raise DataError(f"{name}: needs at least 2 samples, found {len(x)}")
    _check_finite(params.get("path") or name, x, y)  # path: the file's name
    parts = split_targets(name, raw, y, len(x), params)
    x_train, x_val = x[parts.train], x[parts.val]
    x_mean = x_std = None
    if params["normalize"] and raw.kind != "tokens":
        mean, std = fit_normalizer(x_train, raw.kind)
        x_train, x_val = normalize(x_train, mean, std), normalize(x_val, mean, std)
        x_mean, x_std = mean[0], std[0]  # without the batch axis: they fit one sample
    y_train, y_val = parts.y_train, parts.y_val
    if parts.task == "reconstruction":
        y_train, y_val = x_train, x_val
    dataset = Dataset(
        name, np.ascontiguousarray(x_train), np.ascontiguousarray(y_train),
        np.ascontiguousarray(x_val), np.ascontiguousarray(y_val), parts.task, parts.classes,
        list(raw.class_names) if parts.classes else [], raw.kind, parts.target_mean,
        parts.target_std, raw.description, x_mean=x_mean, x_std=x_std, x_scale=raw.x_scale,
        train_index=parts.train, val_index=parts.val,
    )  # fmt: skip
    dataset.augment = check_augment(params["augment"], name, raw.kind)
    return dataset
