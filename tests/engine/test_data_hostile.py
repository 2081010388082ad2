"""Hostile data files: special files, size bombs and data that would load wrongly.

Each file is written the way an attacker would write it: bytes and headers by hand,
special files with the system calls that make them. Every one must be refused at once
with one ``DataError`` sentence naming the file. The special files are loaded in a
child process, so a reader that blocks fails the test instead of hanging the suite.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import struct
import subprocess
import sys
import zipfile
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.data import files, load_dataset
from engine.errors import DataError
from tests.engine.test_data_files import GOOD_CSV, idx_bytes
from tests.reliability_log import write_case_counts

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 120  # only a hang gets near this; each case takes milliseconds


# ---- files as an attacker writes them ---------------------------------------------------
def npy_bytes(shape, descr: str = "<f4", body: bytes = b"") -> bytes:
    """An .npy file whose header declares ``shape`` and ``descr``, followed by ``body``."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body


def npz_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip of ``name.npy`` members, as np.savez writes (or np.savez_compressed)."""
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return stream.getvalue()


def idx_header(code: int, dims) -> bytes:
    """An IDX header: two zero bytes, the value type, the dimensions (big-endian)."""
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def png_declaring(width: int, height: int) -> bytes:
    """A grey PNG whose header declares ``width`` x ``height`` over a few bytes of pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def good_png() -> bytes:
    from PIL import Image

    stream = io.BytesIO()
    Image.new("L", (5, 4), 90).save(stream, format="PNG")
    return stream.getvalue()


def image_folder(root: Path, first: bytes | None = None) -> Path:
    """Two class folders of three small PNGs; ``first`` replaces a/0.png."""
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for index in range(3):
            (root / label / f"{index}.png").write_bytes(good_png())
    if first is not None:
        (root / "a" / "0.png").write_bytes(first)
    return root


def idx_folder(folder: Path, images: bytes | None = None, labels: bytes | None = None) -> Path:
    """A folder with an MNIST-style pair of 12 images; either file may be replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    good_images = idx_bytes(np.zeros((12, 4, 4), np.uint8))
    good_labels = idx_bytes((np.arange(12) % 3).astype(np.uint8))
    (folder / "train-images-idx3-ubyte").write_bytes(images or good_images)
    (folder / "train-labels-idx1-ubyte").write_bytes(labels or good_labels)
    return folder


BOMB, WRONG = "size bombs (hand-written)", "data that would load wrongly"
REFUSED: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_refusals():
    yield
    write_case_counts({f"{kind}: refused": count for kind, count in REFUSED.items()})


def refused(section: dict, base_dir=None, kind: str = WRONG) -> str:
    """The one sentence ``load_dataset`` refuses ``section`` with (counted under ``kind``)."""
    with pytest.raises(DataError) as error:
        load_dataset(section, base_dir)
    message = str(error.value)
    assert "\n" not in message.strip() and "Traceback" not in message
    REFUSED[kind] += 1
    return message


# ---- special files ------------------------------------------------------------------------
def _block_device() -> str | None:
    for name in ("loop0", "sda", "vda", "nvme0n1", "xvda"):
        if os.path.exists(f"/dev/{name}"):
            return f"/dev/{name}"
    return None


def make_special(path: Path, kind: str) -> None:
    """Put a ``kind`` of special file at ``path``."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))  # the socket file stays after close
        server.close()
    elif kind == "character device":
        path.symlink_to("/dev/zero")
    elif kind == "block device":
        path.symlink_to(_block_device())
    elif kind == "symlink loop":
        path.symlink_to(path.name)
    elif kind == "link to a fifo":
        os.mkfifo(path.with_name(path.name + ".real"))
        path.symlink_to(path.name + ".real")
    elif kind == "folder":
        path.mkdir()
    else:
        raise ValueError(kind)


SPECIALS = ["fifo", "socket", "character device", "block device", "symlink loop",
            "link to a fifo", "folder"]  # fmt: skip


def _lay_out(folder: Path, reader: str, kind: str) -> tuple[dict, str]:
    """A dataset of ``reader`` whose one path is a ``kind`` special file; (section, name)."""
    if reader == "csv":
        make_special(folder / "data.csv", kind)
        return {"name": "csv", "params": {"path": "data.csv"}}, "data.csv"
    if reader == "npz":
        make_special(folder / "data.npz", kind)
        return {"name": "npz", "params": {"path": "data.npz"}}, "data.npz"
    if reader == "npy targets":
        np.save(folder / "x.npy", np.zeros((10, 2), np.float32))
        make_special(folder / "y.npy", kind)
        return {"name": "npz", "params": {"path": "x.npy", "targets": "y.npy"}}, "y.npy"
    if reader == "idx images file":
        idx_folder(folder / "mnist")
        (folder / "mnist" / "train-images-idx3-ubyte").unlink()
        make_special(folder / "mnist" / "train-images-idx3-ubyte", kind)
        return {"name": "idx", "params": {"path": "mnist"}}, "train-images-idx3-ubyte"
    if reader == "idx folder":
        make_special(folder / "mnist", kind)
        return {"name": "idx", "params": {"path": "mnist"}}, "mnist"
    if reader == "image folder":
        make_special(folder / "pics", kind)
        return {"name": "images", "params": {"path": "pics"}}, "pics"
    if reader == "image file":
        image_folder(folder / "pics")
        (folder / "pics" / "a" / "0.png").unlink()
        make_special(folder / "pics" / "a" / "0.png", kind)
        return {"name": "images", "params": {"path": "pics", "size": [4, 4]}}, "0.png"
    raise ValueError(reader)


READERS = ["csv", "npz", "npy targets", "idx images file", "idx folder", "image folder",
           "image file"]  # fmt: skip
FOLDER_READERS = ("idx folder", "image folder", "image file")  # a folder there is no attack


def special_cases(root: Path) -> list[dict]:
    """Every reader with every kind of special file, laid out under ``root``."""
    cases = []
    for reader in READERS:
        for kind in SPECIALS:
            if kind == "folder" and reader in FOLDER_READERS:
                continue
            if kind == "block device" and _block_device() is None:
                continue
            folder = root / f"{len(cases)}"
            folder.mkdir()
            section, name = _lay_out(folder, reader, kind)
            cases.append({"case": f"{reader}: {kind}", "section": section,
                          "base": str(folder), "name": name})  # fmt: skip
    return cases


# Loads each case in turn and prints one JSON line per case as soon as it is done.
_CHILD = """
import json, sys
from engine.data import load_dataset
from engine.errors import DataError
for case in json.load(sys.stdin):
    try:
        load_dataset(case["section"], case["base"])
        outcome = {"case": case["case"], "loaded": True}
    except DataError as error:
        outcome = {"case": case["case"], "message": str(error)}
    except BaseException as error:
        outcome = {"case": case["case"], "escaped": f"{type(error).__name__}: {error}"}
    print(json.dumps(outcome), flush=True)
"""


def load_in_child(cases: list[dict]) -> tuple[list[dict], str]:
    """The outcome of each case, loaded in a child process; a hang ends it and is named."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", _CHILD], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        out, err = child.communicate(json.dumps(cases), timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
    outcomes = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return outcomes, err


def test_every_reader_refuses_special_files_at_once_with_a_sentence(tmp_path):
    cases = special_cases(tmp_path)
    outcomes, err = load_in_child(cases)
    write_case_counts({
        "special files: tried": len(cases),
        "special files: refused": sum("message" in o for o in outcomes),
        "special files: hung": len(cases) - len(outcomes),
    })  # fmt: skip
    if len(outcomes) < len(cases):
        pytest.fail(f"hung on {cases[len(outcomes)]['case']!r} {err[-500:]}")
    for case, outcome in zip(cases, outcomes):
        assert "message" in outcome, (case["case"], outcome)
        message = outcome["message"]
        assert case["name"] in message and "\n" not in message, (case["case"], message)


def test_special_files_are_described_in_words(tmp_path):
    sentences = {
        "fifo": "is a named pipe",
        "socket": "is a socket",
        "character device": "is a device",
        "symlink loop": "symbolic link that loops",
        "folder": "is a folder, not a CSV file",
    }
    for kind, fragment in sentences.items():
        folder = tmp_path / kind.replace(" ", "_")
        folder.mkdir()
        section, _ = _lay_out(folder, "csv", kind)
        assert fragment in refused(section, folder, "special files in words"), kind


def test_open_file_checks_the_file_it_opened_not_only_the_name(tmp_path, monkeypatch):
    # the name looked like a regular file, then a pipe took its place before the open
    os.mkfifo(tmp_path / "swapped.csv")
    regular = os.stat(__file__)
    monkeypatch.setattr(files.os, "stat", lambda path: regular)
    with pytest.raises(DataError, match="is a named pipe"):
        files.open_file(tmp_path / "swapped.csv")


# ---- size bombs -----------------------------------------------------------------------------
@pytest.mark.parametrize("label", [10**9, 2**62, 2**63 - 1])
def test_one_huge_label_in_a_small_npz_is_refused_before_any_class_list(tmp_path, label):
    y = np.arange(40, dtype=np.int64) % 3
    y[17] = label
    (tmp_path / "tiny.npz").write_bytes(
        npz_bytes({"x": npy_bytes((40, 2), body=bytes(320)), "y": npy_bytes((40,), "<i8", y.tobytes())})
    )  # fmt: skip
    message = refused({"name": "npz", "params": {"path": "tiny.npz"}}, tmp_path, BOMB)
    assert f"class label {label} of sample 17 is too large" in message


def test_an_idx_label_of_2_31_is_refused(tmp_path):
    labels = (np.arange(12) % 3).astype(">i4")
    labels[5] = 2**31 - 1
    idx_folder(tmp_path, labels=idx_header(0x0C, (12,)) + labels.tobytes())
    message = refused({"name": "idx", "params": {"path": "."}}, tmp_path, BOMB)
    assert "train-labels-idx1-ubyte: class label 2147483647 of sample 5 is too large" in message


def test_a_feature_of_60000_different_words_is_not_one_hot_encoded(tmp_path):
    lines = ["name,size,label"] + [f"user{i:05d},{i % 7},{i % 2}" for i in range(60_000)]
    (tmp_path / "people.csv").write_text("\n".join(lines))
    message = refused({"name": "csv", "params": {"path": "people.csv"}}, tmp_path, BOMB)
    assert "column 'name' has 60000 different words" in message


def test_an_npz_member_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    for method in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        huge = npy_bytes((10**12, 3), "<f8", bytes(64))
        (tmp_path / "bomb.npz").write_bytes(
            npz_bytes({"x": huge, "y": npy_bytes((4,), "<i8")}, method)
        )
        message = refused({"name": "npz", "params": {"path": "bomb.npz"}}, tmp_path, BOMB)
        assert "bomb.npz: array 'x'" in message and "more than this computer can hold" in message
    (tmp_path / "bomb.npy").write_bytes(npy_bytes((2**40,), "|u1", bytes(100)))
    message = refused({"name": "npz", "params": {"path": "bomb.npy"}}, tmp_path, BOMB)
    assert "bomb.npy" in message and "more than this computer can hold" in message


def test_an_npz_header_promising_more_than_is_stored_is_refused(tmp_path):
    (tmp_path / "short.npz").write_bytes(
        npz_bytes({"x": npy_bytes((1000, 1000), "<f4", bytes(64)), "y": npy_bytes((4,), "<i8")})
    )  # fmt: skip
    message = refused({"name": "npz", "params": {"path": "short.npz"}}, tmp_path, BOMB)
    assert "short.npz: array 'x': the header promises (1000, 1000) float32 values" in message


def test_a_deflate_bomb_in_an_npz_is_refused_before_it_is_inflated(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "memory_limit", lambda: 1 << 20)  # a 1 MB computer
    zeros = npy_bytes((4 << 20,), "|u1", bytes(4 << 20))  # 4 MB of zeros in about 4 KB
    (tmp_path / "zeros.npz").write_bytes(
        npz_bytes({"x": zeros, "y": npy_bytes((4,), "<i8", bytes(32))}, zipfile.ZIP_DEFLATED)
    )  # fmt: skip
    assert (tmp_path / "zeros.npz").stat().st_size < 20_000
    message = refused({"name": "npz", "params": {"path": "zeros.npz"}}, tmp_path, BOMB)
    assert "zeros.npz: array 'x': an array of (4194304,) would take" in message


def test_gzipped_idx_declaring_huge_dimensions_is_refused_before_inflating(tmp_path):
    bomb = gzip.compress(idx_header(0x08, (60000, 65535, 65535)) + bytes(1000))
    idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(bomb)
    message = refused({"name": "idx", "params": {"path": "."}}, tmp_path, BOMB)
    assert "train-images-idx3-ubyte.gz: the header's 60000x65535x65535 values declares" in message


def test_gzipped_idx_of_real_zeros_beyond_memory_is_refused_before_inflating(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "memory_limit", lambda: 1 << 20)
    zeros = gzip.compress(idx_header(0x08, (100, 100, 100)) + bytes(10**6))
    idx_folder(tmp_path, images=b"x")
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(zeros)
    message = refused({"name": "idx", "params": {"path": "."}}, tmp_path, BOMB)
    assert "100x100x100 values would take" in message


def test_plain_idx_declaring_more_than_the_file_holds_is_refused_before_reading(tmp_path):
    idx_folder(tmp_path, images=idx_header(0x0E, (2**32 - 1,) * 3) + bytes(8))
    message = refused({"name": "idx", "params": {"path": "."}}, tmp_path, BOMB)
    assert "train-images-idx3-ubyte" in message


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("width", "height"), [(100_000, 100_000), (12_000, 9_000)])
def test_a_png_declaring_huge_dimensions_is_refused_before_decoding(tmp_path, width, height):
    # Pillow itself raises above twice its limit and only warns between once and twice
    image_folder(tmp_path / "pics", png_declaring(width, height))
    message = refused({"name": "images", "params": {"path": "pics"}}, tmp_path, BOMB)
    assert "a/0.png" in message and str(width) in message


def test_image_folder_sized_beyond_memory_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "memory_limit", lambda: 1 << 20)
    image_folder(tmp_path / "pics")
    message = refused(
        {"name": "images", "params": {"path": "pics", "size": [512, 512]}}, tmp_path, BOMB
    )
    assert "pics: 6 images would take" in message


# ---- data that would load wrongly ------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "params", "fragment"),
    [
        ("x,x,x,y\n" + "1,2,3,0\n4,5,6,1\n" * 5, {}, "the header names column 'x' 3 times"),
        ("a,,b\n" + "1,2,0\n3,4,1\n" * 5, {}, "column 2 of the header has no name"),
        (GOOD_CSV, {"target": "label", "columns": ["age", "label"]},
         "column 'label' is the target; it cannot also be a feature"),
        (GOOD_CSV, {"target": "label", "columns": ["age", "age"]}, "\"columns\" names 'age' 2 times"),
    ],
)  # fmt: skip
def test_csv_columns_are_never_loaded_twice_or_leaked_into_features(
    tmp_path, text, params, fragment
):
    (tmp_path / "data.csv").write_text(text)
    message = refused({"name": "csv", "params": {"path": "data.csv", **params}}, tmp_path)
    assert "data.csv" in message and fragment in message


@pytest.mark.parametrize(
    ("code", "values", "fragment"),
    [
        (0x0D, [0.0, 1.0, 2.5], "class label 2.5 of sample 2 is not a whole number"),
        (0x0E, [0.0, float("nan"), 1.0], "class label nan of sample 1 is not a whole number"),
        (0x09, [0, -3, 1], "class label -3 of sample 1 is negative"),
        (0x0B, [0, 1, -1], "class label -1 of sample 2 is negative"),
    ],
)  # fmt: skip
def test_idx_labels_that_are_not_class_numbers_are_refused(tmp_path, code, values, fragment):
    dtype = {0x0D: ">f4", 0x0E: ">f8", 0x09: ">i1", 0x0B: ">i2"}[code]
    labels = np.array(values * 4, dtype=dtype)
    idx_folder(tmp_path, labels=idx_header(code, (12,)) + labels.tobytes())
    message = refused({"name": "idx", "params": {"path": "."}}, tmp_path)
    assert f"train-labels-idx1-ubyte: {fragment}" in message


def test_whole_float_idx_labels_are_classes_and_fashion_has_ten(tmp_path):
    labels = np.array([0.0, 1.0, 2.0] * 4, dtype=">f4")
    idx_folder(tmp_path, labels=idx_header(0x0D, (12,)) + labels.tobytes())
    data = load_dataset({"name": "idx", "params": {"path": ".", "validation_split": 0}}, tmp_path)
    assert data.num_classes == 3 and sorted(set(data.y_train.tolist())) == [0, 1, 2]
    idx_folder(tmp_path, labels=idx_bytes(np.array([0, 1, 10] * 4, np.uint8)))
    message = refused({"name": "idx", "params": {"path": ".", "labels": "fashion"}}, tmp_path)
    assert "class label 10 of sample 2 is too large: with 10 class names" in message


def test_npz_labels_must_be_class_numbers(tmp_path):
    x = npy_bytes((6, 2), body=bytes(48))
    cases = {
        "negative": (npy_bytes((6,), "<i8", np.array([0, 1, -2, 0, 1, 0]).tobytes()), {},
                     "class label -2 of sample 2 is negative"),
        "halves": (npy_bytes((6,), "<f4", np.array([0, 1, 0.5, 0, 1, 0], "<f4").tobytes()),
                   {"task": "classification"}, "class label 0.5 of sample 2 is not a whole"),
        "many": (npy_bytes((6, 2), "<i8", bytes(96)), {"task": "classification"},
                 "targets of shape (2,) per sample cannot be class labels"),
    }  # fmt: skip
    for name, (y, params, fragment) in cases.items():
        (tmp_path / f"{name}.npz").write_bytes(npz_bytes({"x": x, "y": y}))
        section = {"name": "npz", "params": {"path": f"{name}.npz", **params}}
        assert fragment in refused(section, tmp_path), name
    whole = npy_bytes((6,), "<f8", np.array([0, 1, 2, 0, 1, 2], "<f8").tobytes())
    (tmp_path / "whole.npz").write_bytes(npz_bytes({"x": x, "y": whole}))
    section = {
        "name": "npz",
        "params": {"path": "whole.npz", "task": "classification", "validation_split": 0},
    }
    assert load_dataset(section, tmp_path).num_classes == 3


def test_negative_token_ids_are_refused(tmp_path):
    tokens = np.array([[1, 2, 3], [4, -5, 6]] * 3, dtype="<i4")
    (tmp_path / "tokens.npz").write_bytes(
        npz_bytes({"x": npy_bytes((6, 3), "<i4", tokens.tobytes()),
                   "y": npy_bytes((6,), "<i8", bytes(48))})
    )  # fmt: skip
    message = refused({"name": "npz", "params": {"path": "tokens.npz"}}, tmp_path)
    assert "token ids, which cannot be negative (found -5)" in message


@pytest.mark.parametrize(
    "command", [["train", "--epochs", "1"], ["export", "-f", "python", "-o", "exported"]]
)
def test_the_command_line_on_a_project_whose_data_is_a_pipe_says_so_and_exits(tmp_path, command):
    project = json.loads((ROOT / "resources/examples/digits_mlp.dwire").read_text())
    project["dataset"] = {"name": "npz", "params": {"path": "data.npz"}}
    (tmp_path / "piped.dwire").write_text(json.dumps(project))
    os.mkfifo(tmp_path / "data.npz")
    done = subprocess.run(
        [sys.executable, "-m", "engine", command[0], "piped.dwire", *command[1:]],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=HANG_GUARD_S,
    )  # fmt: skip
    assert done.returncode != 0
    assert "data.npz: is a named pipe" in done.stderr and "Traceback" not in done.stderr


def test_labels_of_any_loader_are_checked_once_more_when_the_dataset_is_built():
    from engine.data.base import Raw
    from engine.data.registry import COMMON_PARAMS, build

    x = np.zeros((6, 2), np.float32)
    raw = Raw(x, np.array([0, 1, 0, 1, 0, 7]), "classification", "tabular", ["a", "b"])
    with pytest.raises(DataError, match="class label 7 of sample 5 is too large: with 2 class"):
        build("mine", raw, dict(COMMON_PARAMS))


def test_a_csv_too_large_to_parse_in_memory_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "memory_limit", lambda: 1 << 20)  # a 1 MB computer
    (tmp_path / "big.csv").write_text("a,label\n" + "1,0\n2,1\n" * 20_000)  # 160 KB
    message = refused({"name": "csv", "params": {"path": "big.csv"}}, tmp_path, BOMB)
    assert "big.csv: reading the file would take" in message
