"""The user's own data: CSV, NPZ/NPY, image folders and IDX files, good and broken."""

import gzip
import struct

import numpy as np
import pytest

from engine.data import load_dataset
from engine.data.idx import read_idx
from engine.errors import DataError


def csv_section(path, **params):
    return {"name": "csv", "params": {"path": str(path), "validation_split": 0.25, **params}}


def write(path, text):
    path.write_text(text)
    return path


GOOD_CSV = "\n".join(
    ["age,colour,height,label"]
    + [f"{20 + i},{['red', 'green', 'blue'][i % 3]},{1.5 + i / 100},{['yes', 'no'][i % 2]}"
       for i in range(40)]
)  # fmt: skip


def test_csv_with_numeric_and_categorical_columns(tmp_path):
    path = write(tmp_path / "people.csv", GOOD_CSV)
    data = load_dataset(csv_section(path, target="label", normalize=False))
    assert data.task == "classification" and data.num_classes == 2
    assert data.class_names == ["no", "yes"]
    assert data.sample_shape == (5,)  # age, 3 one-hot colours, height
    onehot = np.concatenate([data.x_train, data.x_val])[:, 1:4]
    assert set(np.unique(onehot)) == {0.0, 1.0} and np.all(onehot.sum(axis=1) == 1)


def test_csv_numeric_target_is_regression_and_relative_paths_use_the_project_folder(tmp_path):
    write(tmp_path / "house.csv", "rooms,area,price\n" + "\n".join(
        f"{i % 5 + 1},{50 + i * 3.5},{100000 + i * 1234.5}" for i in range(30)))  # fmt: skip
    data = load_dataset({"name": "csv", "params": {"path": "house.csv"}}, base_dir=tmp_path)
    assert data.task == "regression" and data.target_shape == (1,)
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)  # standardised


@pytest.mark.parametrize(
    ("text", "params", "fragment"),
    [
        ("a,b,label\n1,2,x\n3,4\n", {}, "line 3 has 2 values but the header has 3 columns"),
        ("a,b,label\n1,,x\n3,4,y\n", {}, "line 2, column 'b' is empty"),
        ("a,label\n" + "".join(f"{i},x\n" for i in range(20)) + "oops,y\n", {},
         "line 22, column 'a': 'oops' is not a number"),
        ("a,b\n1,2\n3,4\n", {"target": "label"}, "there is no column 'label' (columns: a, b)"),
        ("", {}, "the file is empty"),
        ("a,b,label\n", {}, "no data rows"),
    ],
)  # fmt: skip
def test_broken_csv_names_the_file_line_and_column(tmp_path, text, params, fragment):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DataError) as error:
        load_dataset(csv_section(path, **params))
    assert "bad.csv" in str(error.value) and fragment in str(error.value)


def test_missing_csv_is_named(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_dataset(csv_section(tmp_path / "nope.csv"))


def test_npz_images_and_npy_pairs(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 12, 12), dtype=np.uint8)
    labels = np.arange(40) % 4
    np.savez(tmp_path / "pics.npz", images=images, labels=labels)
    data = load_dataset(
        {"name": "npz", "params": {"path": str(tmp_path / "pics.npz"), "normalize": False}}
    )
    assert data.sample_shape == (1, 12, 12) and data.num_classes == 4 and data.kind == "image"
    assert data.x_train.min() >= 0.0 and data.x_train.max() <= 1.0
    back = np.sort(data.denormalize(np.concatenate([data.x_train, data.x_val])).ravel())
    assert np.allclose(back, np.sort(images.ravel().astype(np.float32)), atol=1e-3)  # 0-255 again

    np.save(tmp_path / "x.npy", rng.normal(size=(30, 3)).astype(np.float32))
    np.save(tmp_path / "y.npy", rng.normal(size=30))
    params = {"path": str(tmp_path / "x.npy"), "targets": str(tmp_path / "y.npy")}
    data = load_dataset({"name": "npz", "params": params})
    assert data.task == "regression" and data.sample_shape == (3,)


def test_broken_npz_is_explained(tmp_path):
    np.savez(tmp_path / "odd.npz", a=np.zeros((5, 2)), b=np.zeros(5))
    with pytest.raises(DataError, match="which array holds the samples"):
        load_dataset({"name": "npz", "params": {"path": str(tmp_path / "odd.npz")}})
    np.savez(tmp_path / "short.npz", x=np.zeros((5, 2)), y=np.zeros(4, dtype=np.int64))
    with pytest.raises(DataError, match="5 samples but 4 targets"):
        load_dataset({"name": "npz", "params": {"path": str(tmp_path / "short.npz")}})
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        load_dataset({"name": "npz", "params": {"path": str(tmp_path / "objects.npy")}})
    (tmp_path / "text.npz").write_text("not numpy")
    with pytest.raises(DataError, match=r"text\.npz"):
        load_dataset({"name": "npz", "params": {"path": str(tmp_path / "text.npz")}})


def make_image_folder(root, mode="RGB"):
    from PIL import Image

    for name, value in (("cats", 40), ("dogs", 200)):
        (root / name).mkdir(parents=True)
        for i in range(6):
            colour = (value, i * 10, 0) if mode == "RGB" else value + i
            Image.new(mode, (20 + i, 16), colour).save(root / name / f"{i}.png")


def test_image_folder_is_read_resized_and_labelled_by_subfolder(tmp_path):
    make_image_folder(tmp_path / "pets")
    params = {"path": str(tmp_path / "pets"), "size": [8, 10], "normalize": False,
              "validation_split": 0.5}  # fmt: skip
    data = load_dataset({"name": "images", "params": params})
    assert data.sample_shape == (3, 8, 10) and data.class_names == ["cats", "dogs"]
    red = np.concatenate([data.x_train, data.x_val])[:, 0].mean(axis=(1, 2))
    labels = np.concatenate([data.y_train, data.y_val])
    assert np.all(red[labels == 1] > red[labels == 0])

    make_image_folder(tmp_path / "grey", mode="L")
    grey = load_dataset(
        {"name": "images", "params": {"path": str(tmp_path / "grey"), "size": [4, 4]}}
    )
    assert grey.sample_shape == (1, 4, 4)


def test_broken_image_folder_names_the_file(tmp_path):
    make_image_folder(tmp_path / "pets")
    (tmp_path / "pets" / "dogs" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"dogs/broken\.png: not a readable image"):
        load_dataset({"name": "images", "params": {"path": str(tmp_path / "pets"), "color": "rgb"}})
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="one subfolder per class"):
        load_dataset({"name": "images", "params": {"path": str(tmp_path / "flat")}})


def idx_bytes(array: np.ndarray, code=0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1").tobytes()


@pytest.mark.parametrize("gzipped", [False, True])
def test_idx_files_plain_and_gzipped(tmp_path, gzipped):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (30, 6, 5), dtype=np.uint8)
    labels = (np.arange(30) % 10).astype(np.uint8)
    for name, array in (("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)):
        raw = idx_bytes(array)
        if gzipped:
            (tmp_path / f"{name}.gz").write_bytes(gzip.compress(raw))
        else:
            (tmp_path / name).write_bytes(raw)
    data = load_dataset({"name": "idx", "params": {"path": str(tmp_path), "normalize": False,
                                                   "validation_split": 0}})  # fmt: skip
    assert data.sample_shape == (1, 6, 5) and data.num_classes == 10
    assert np.array_equal(np.sort(data.y_train), np.sort(labels))
    assert np.allclose(np.sort(data.x_train.reshape(30, -1).sum(1)),
                       np.sort(images.reshape(30, -1).sum(1) / 255.0), atol=1e-3)  # fmt: skip
    # generated images go back to the file's 0-255 pixels (deepwire generate)
    assert np.allclose(np.sort(data.denormalize(data.x_train).reshape(30, -1).sum(1)),
                       np.sort(images.reshape(30, -1).sum(1).astype(np.float32)), rtol=1e-5)  # fmt: skip


def test_broken_idx_headers_are_named(tmp_path):
    good = idx_bytes(np.zeros((4, 3, 3), dtype=np.uint8))
    cases = {
        "bad_magic": (b"\x01\x02" + good[2:], "bad magic number"),
        "bad_type": (good[:2] + b"\x07" + good[3:], "unknown value type 0x07"),
        "cut_header": (good[:6], "header is cut short"),
        "truncated": (good[:-5], "header promises 4x3x3 values"),
    }
    for name, (raw, fragment) in cases.items():
        path = tmp_path / name
        path.write_bytes(raw)
        with pytest.raises(DataError, match=fragment) as error:
            read_idx(path)
        assert name in str(error.value)


def test_idx_labels_must_match_images(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 3, 3), np.uint8)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(3, np.uint8)))
    with pytest.raises(DataError, match="3 labels for 4 images"):
        load_dataset({"name": "idx", "params": {"path": str(tmp_path)}})
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_dataset({"name": "idx", "params": {"path": str(tmp_path), "subset": "t10k"}})
