"""Damaged and hostile data files: a loader raises nothing but ``DataError``, whatever the bytes.

The first test writes a good CSV, NPZ, IDX pair and image folder, then hypothesis
damages one file (truncation, flipped bytes, a spliced run of random bytes, gzip of the
damage) and loads the dataset: it must load or say why in one ``DataError`` sentence
that names the file. The others draw whole classes of hostile files: label values of
any size, sign and type in every label format (classes stay bounded and whole);
headers declaring any dimensions over a few stored bytes (memory stays bounded by the
bytes really there); categorical columns of any width; CSV headers with repeated or
blank names. Counts are stated in ``settings`` and reported through
``tests.reliability_log``.
"""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import load_dataset
from engine.data.labels import max_classes
from engine.data.tabular import MAX_CATEGORIES
from engine.errors import DataError
from tests.damage import WAYS, damage
from tests.engine.test_data_files import GOOD_CSV, idx_bytes
from tests.engine.test_data_hostile import idx_folder, idx_header, npy_bytes, npz_bytes
from tests.reliability_log import scaled, write_case_counts

OUTCOMES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    totals = Counter()
    for (_how, outcome), count in OUTCOMES.items():
        totals[f"damaged data files: {outcome}"] += count
    write_case_counts(totals)


def _npz() -> bytes:
    rng = np.random.default_rng(0)
    stream = io.BytesIO()
    np.savez(stream, x=rng.normal(size=(24, 3)).astype(np.float32), y=np.arange(24) % 3)
    return stream.getvalue()


def _png() -> bytes:
    from PIL import Image

    stream = io.BytesIO()
    Image.new("RGB", (6, 5), (200, 10, 0)).save(stream, format="PNG")
    return stream.getvalue()


def _idx_images() -> bytes:
    return idx_bytes(np.random.default_rng(1).integers(0, 256, (12, 4, 4), dtype=np.uint8))


GOOD = {
    "csv": GOOD_CSV.encode(),
    "npz": _npz(),
    "idx": _idx_images(),
    "images": _png(),
}


NAMES = {
    "csv": ["data.csv"],
    "npz": ["data.npz"],
    "idx": ["train-images-idx3-ubyte"],
    "images": ["0.png", "pics"],
}


def write_dataset(folder: Path, kind: str, damaged: bytes) -> dict:
    """Lay out a dataset whose one file holds ``damaged``; returns its section."""
    if kind == "csv":
        (folder / "data.csv").write_bytes(damaged)
        return {"name": "csv", "params": {"path": "data.csv", "target": "label"}}
    if kind == "npz":
        (folder / "data.npz").write_bytes(damaged)
        return {"name": "npz", "params": {"path": "data.npz"}}
    if kind == "idx":
        (folder / "train-images-idx3-ubyte").write_bytes(damaged)
        labels = idx_bytes((np.arange(12) % 3).astype(np.uint8))
        (folder / "train-labels-idx1-ubyte").write_bytes(labels)
        return {"name": "idx", "params": {"path": ".", "labels": "digits"}}
    for label in ("a", "b"):
        (folder / "pics" / label).mkdir(parents=True)
        for index in range(3):
            (folder / "pics" / label / f"{index}.png").write_bytes(GOOD["images"])
    (folder / "pics" / "a" / "0.png").write_bytes(damaged)
    return {"name": "images", "params": {"path": "pics", "size": [4, 4]}}


@st.composite
def damaged_files(draw):
    kind = draw(st.sampled_from(sorted(GOOD)))
    how = draw(st.sampled_from([*WAYS, "gzip"]))
    return kind, how, damage(draw, GOOD[kind], how)


@settings(max_examples=scaled(200), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(case=damaged_files())
def test_damaged_data_files_load_or_raise_one_data_error(tmp_path_factory, case):
    kind, how, data = case
    folder = tmp_path_factory.mktemp(kind)
    section = write_dataset(folder, kind, data)
    try:
        dataset = load_dataset(section, folder)
    except DataError as error:
        message = str(error)
        assert "\n" not in message.strip() and "Traceback" not in message
        assert any(name in message for name in NAMES[kind]), message  # says which file
        OUTCOMES[how, "refused"] += 1
        return
    assert len(dataset.x_train) + len(dataset.x_val) >= 2
    assert np.isfinite(dataset.x_train).all()
    OUTCOMES[how, "loaded"] += 1


def test_the_good_files_load(tmp_path):
    for kind, data in GOOD.items():
        folder = tmp_path / kind
        folder.mkdir()
        dataset = load_dataset(write_dataset(folder, kind, data), folder)
        assert len(dataset.x_train) > 0, kind


def test_nan_or_infinite_values_are_refused_with_the_sample(tmp_path):
    x = np.ones((10, 3), dtype=np.float32)
    x[7, 1] = np.nan
    np.savez(tmp_path / "holes.npz", x=x, y=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"holes\.npz: the inputs of sample 7 hold NaN"):
        load_dataset({"name": "npz", "params": {"path": str(tmp_path / "holes.npz")}})
    (tmp_path / "inf.csv").write_text("a,b\n" + "".join(f"{i},{i}\n" for i in range(5)) + "inf,3\n")
    with pytest.raises(DataError, match=r"inf\.csv: the inputs of sample 5 hold NaN or infinite"):
        load_dataset({"name": "csv", "params": {"path": str(tmp_path / "inf.csv")}})


# ---- hostile labels and declared sizes: the classes of defect, not one file each ------------
BOMBS: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_bombs():
    yield
    write_case_counts({f"size bombs: {outcome}": count for outcome, count in BOMBS.items()})


def _outcome(section: dict, folder: Path, *names: str):
    """The Dataset loaded, or None after checking the refusal is one sentence naming one
    of ``names`` (the files of the dataset)."""
    try:
        dataset = load_dataset(section, folder)
    except DataError as error:
        message = str(error)
        assert "\n" not in message.strip(), message
        assert any(name in message for name in names), message
        BOMBS["refused"] += 1
        return None
    BOMBS["loaded"] += 1
    return dataset


_LABEL_VALUES = st.one_of(
    st.integers(-3, 12),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([2**31 - 1, 10**9, 2**62, 999, 1000, 100_000]),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from([0.5, 1.0, 2.0, -1.0, 3.0000002]),
)
_LABEL_FILES = {  # container: (dtype of the labels, IDX type code)
    "npz int64": ("<i8", None),
    "npz float64": ("<f8", None),
    "idx uint8": (">u1", 0x08),
    "idx int8": (">i1", 0x09),
    "idx int32": (">i4", 0x0C),
    "idx float32": (">f4", 0x0D),
    "csv": (None, None),
}


def _labels_file(folder: Path, container: str, values: list, task: str) -> tuple[dict, str]:
    """A dataset of len(values) samples whose labels are ``values`` in ``container``."""
    count = len(values)
    dtype, code = _LABEL_FILES[container]
    if container == "csv":
        rows = "".join(f"{i},{v!r}\n" for i, v in enumerate(values))
        (folder / "data.csv").write_text("a,label\n" + rows)
        return {"name": "csv", "params": {"path": "data.csv", "task": task}}, "data.csv"
    with np.errstate(all="ignore"):
        labels = np.array([np.array(v).astype(dtype) for v in values], dtype=dtype)
    if code is None:
        (folder / "data.npz").write_bytes(npz_bytes({
            "x": npy_bytes((count, 2), body=bytes(8 * count)),
            "y": npy_bytes((count,), dtype, labels.tobytes()),
        }))  # fmt: skip
        return {"name": "npz", "params": {"path": "data.npz", "task": task}}, "data.npz"
    idx_folder(folder, idx_header(0x08, (count, 2, 2)) + bytes(4 * count),
               idx_header(code, (count,)) + labels.tobytes())  # fmt: skip
    return {"name": "idx", "params": {"path": "."}}, "train-labels-idx1-ubyte"


@settings(max_examples=scaled(150), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    container=st.sampled_from(sorted(_LABEL_FILES)),
    values=st.lists(_LABEL_VALUES, min_size=2, max_size=40),
    task=st.sampled_from(["auto", "classification"]),
)
def test_any_label_values_load_as_bounded_classes_or_are_refused(
    tmp_path_factory, container, values, task
):
    folder = tmp_path_factory.mktemp("labels")
    section, name = _labels_file(folder, container, values, task)
    section["params"]["validation_split"] = 0
    dataset = _outcome(section, folder, name)
    if dataset is None or dataset.task != "classification":
        return
    labels = dataset.y_train
    assert labels.dtype == np.int64 and labels.min() >= 0
    assert labels.max() < dataset.num_classes <= max_classes(len(labels))


_DIM = st.one_of(st.integers(0, 40), st.integers(2**16, 2**32 - 1))
_CONTAINERS = ["npz stored", "npz deflated", "npy", "idx", "idx gzip"]


@st.composite
def declared_files(draw):
    """A file whose header declares dimensions from ``_DIM`` over a few stored bytes."""
    container = draw(st.sampled_from(_CONTAINERS))
    dims = tuple(draw(st.lists(_DIM, min_size=1, max_size=draw(st.sampled_from([4, 40])))))
    stored = draw(st.binary(max_size=256))
    if container.startswith("npz"):
        method = zipfile.ZIP_DEFLATED if container.endswith("deflated") else zipfile.ZIP_STORED
        body = npy_bytes((max(2, dims[0]), *dims[1:]), "<f4", stored)
        labels = npy_bytes((2,), "<i8", bytes(16))
        return container, npz_bytes({"x": body, "y": labels}, method)
    if container == "npy":
        return container, npy_bytes((max(2, dims[0]), *dims[1:]), "<f4", stored)
    data = idx_header(0x08, dims) + stored
    return container, gzip.compress(data) if container == "idx gzip" else data


@settings(max_examples=scaled(150), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(case=declared_files())
def test_declared_sizes_never_allocate_more_than_the_file_holds(tmp_path_factory, case):
    container, data = case
    folder = tmp_path_factory.mktemp("declared")
    if container.startswith("idx"):
        name = "train-images-idx3-ubyte" + (".gz" if container == "idx gzip" else "")
        idx_folder(folder)
        (folder / "train-images-idx3-ubyte").unlink()
        (folder / name).write_bytes(data)
        section = {"name": "idx", "params": {"path": "."}}
        names = (name, "train-labels-idx1-ubyte")
    else:
        name = "data.npy" if container == "npy" else "data.npz"
        (folder / name).write_bytes(data)
        section = {"name": "npz", "params": {"path": name, "task": "reconstruction"}}
        names = (name,)
    tracemalloc.start()
    try:
        _outcome(section, folder, *names)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16_000_000 + 100 * len(data), (container, peak)  # never what was declared


@settings(max_examples=scaled(30), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(rows=st.integers(2, 2500), words=st.integers(1, 2500), seed=st.integers(0, 9))
def test_categorical_columns_of_any_width_are_one_hot_or_refused(
    tmp_path_factory, rows, words, seed
):
    words = min(words, rows)
    order = np.random.default_rng(seed).permutation(rows)
    lines = [f"w{order[i] % words},{i % 2}" for i in range(rows)]
    folder = tmp_path_factory.mktemp("onehot")
    (folder / "data.csv").write_text("word,label\n" + "\n".join(lines))
    section = {"name": "csv", "params": {"path": "data.csv", "validation_split": 0}}
    dataset = _outcome(section, folder, "data.csv")
    if words == 1:  # one word is a number-free constant: still a category
        assert dataset is not None
    if dataset is not None:
        assert dataset.sample_shape == (words,) and words <= MAX_CATEGORIES
    else:
        assert words > MAX_CATEGORIES


@settings(max_examples=scaled(60), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(header=st.lists(st.sampled_from(["a", "b", "c", "label", "", " a "]), min_size=2,
                       max_size=6))  # fmt: skip
def test_csv_headers_load_only_with_distinct_named_columns(tmp_path_factory, header):
    folder = tmp_path_factory.mktemp("header")
    rows = "".join(",".join(str((r + c) % 3) for c in range(len(header))) + "\n" for r in range(9))
    (folder / "data.csv").write_text(",".join(header) + "\n" + rows)
    names = [name.strip() for name in header]
    section = {"name": "csv", "params": {"path": "data.csv", "validation_split": 0}}
    dataset = _outcome(section, folder, "data.csv")
    assert (dataset is not None) == ("" not in names and len(set(names)) == len(names))
    if dataset is not None:
        assert dataset.sample_shape == (len(names) - 1,)
