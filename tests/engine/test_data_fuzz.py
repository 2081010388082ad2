"""Damaged data files: a loader raises nothing but ``DataError``, whatever the bytes.

The test writes a good CSV, NPZ, IDX pair and image folder, then hypothesis damages
one file (truncation, flipped bytes, a spliced run of random bytes, gzip of the
damage) and loads the dataset: it must load or say why in one ``DataError``
sentence that names the file. Counts are stated in ``settings`` and reported through
``tests.reliability_log``.
"""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data import load_dataset
from engine.errors import DataError
from tests.damage import WAYS, damage
from tests.engine.test_data_files import GOOD_CSV, idx_bytes
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
