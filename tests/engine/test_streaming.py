"""Data beyond memory: file datasets streamed from disk by data workers, the same split and
batches as in memory, the image cache, and what the command line says of it."""

import gzip
import json
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import cli, project
from engine import progress as data_progress
from engine.data import images as image_files
from engine.data import load_dataset, stream
from engine.data.lazy import LazySamples
from engine.errors import DataError
from engine.training import Trainer
from engine.training.core.batches import make_batches
from engine.training.core.distributed import DistributedContext
from engine.training.core.stream import Plan, StreamBatches
from tests.engine.builders import chain

CPU = torch.device("cpu")
AUGMENT = {"hflip": True, "vflip": False, "shift": 1, "noise": 0.05}


def image_folder(root, per_class=7, classes=3, size=(10, 12)):
    """``root/c0/0.png``...: RGB images whose colour tells the class."""
    rng = np.random.default_rng(0)
    for label in range(classes):
        (root / f"c{label}").mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 60, (*size, 3), dtype=np.uint8) + np.uint8(60 * label)
            Image.fromarray(pixels).save(root / f"c{label}" / f"{index}.png")
    return root


def images(path, streaming, **params):
    section = {"name": "images", "params": {"path": str(path), "size": [8, 8],
                                            "streaming": streaming, "workers": 0, **params}}  # fmt: skip
    return load_dataset(section, path.parent)


def first_batch(dataset, seed=3):
    source = make_batches(dataset, CPU, dataset.sample_shape, 4, 0, augment=AUGMENT)
    torch.manual_seed(seed)
    return next(iter(source.epoch(1)))


def test_a_streamed_folder_is_split_read_and_batched_exactly_as_in_memory(tmp_path):
    folder = image_folder(tmp_path / "pics")
    memory, streamed = images(folder, "off"), images(folder, "on")
    assert isinstance(memory.x_train, np.ndarray) and isinstance(streamed.x_train, LazySamples)
    assert np.array_equal(memory.train_index, streamed.train_index)
    assert np.array_equal(memory.val_index, streamed.val_index)
    assert np.array_equal(memory.x_train, np.asarray(streamed.x_train))  # normalised alike
    assert np.array_equal(memory.x_val[2:5], streamed.x_val[2:5])
    assert streamed.sample_shape == memory.sample_shape and streamed.summary() == memory.summary()
    (x_memory, y_memory), (x_streamed, y_streamed) = first_batch(memory), first_batch(streamed)
    assert torch.equal(x_memory, x_streamed) and torch.equal(y_memory, y_streamed)  # augmented
    plain = [make_batches(data, CPU, (192,), 4, 0) for data in (memory, streamed)]
    (x_memory, _), (x_streamed, _) = (next(iter(source.epoch(1))) for source in plain)
    assert x_streamed.shape == (4, 192) and torch.equal(x_memory, x_streamed)  # sent as bytes
    assert memory.loading == "in memory: 21 samples"
    assert streamed.loading.startswith("streaming 21 images from disk in this process")


def test_the_choice_follows_the_size_unless_the_setting_says(tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "pics")  # 21 images of 3x8x8 float32: 16,128 bytes
    monkeypatch.setattr(stream, "STREAM_LIMIT", 16_000)
    assert isinstance(images(folder, "auto").x_train, LazySamples)
    assert isinstance(images(folder, "off").x_train, np.ndarray)
    monkeypatch.setattr(stream, "STREAM_LIMIT", 17_000)
    assert isinstance(images(folder, "auto").x_train, np.ndarray)
    assert isinstance(images(folder, "on").x_train, LazySamples)
    digits = load_dataset({"name": "digits", "params": {}})
    assert digits.loading == "in memory: 1,797 samples"  # built in: always in memory


@pytest.mark.parametrize("params, fragment", [
    ({"streaming": "yes"}, '"streaming" must be one of auto, on, off'),
    ({"workers": -1}, '"workers" must be null (auto) or a whole number 0-64'),
    ({"workers": True}, '"workers" must be null'),
    ({"cache": 1}, '"cache" must be one of auto, on, off'),
])  # fmt: skip
def test_bad_streaming_settings_are_named(tmp_path, params, fragment):
    with pytest.raises(DataError, match=re.escape(fragment)):
        images(image_folder(tmp_path / "pics"), **{"streaming": "auto", **params})


def test_npz_samples_are_memory_mapped_and_compressed_ones_are_read_into_memory(tmp_path):
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 6)).astype(np.float32), rng.integers(0, 2, 40)
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    np.savez_compressed(tmp_path / "packed.npz", x=x, y=y)
    section = {"name": "npz", "params": {"path": str(tmp_path / "plain.npz"), "workers": 0}}
    memory = load_dataset({**section, "params": {**section["params"], "streaming": "off"}})
    streamed = load_dataset({**section, "params": {**section["params"], "streaming": "on"}})
    assert np.array_equal(memory.x_train, np.asarray(streamed.x_train))
    assert isinstance(streamed.x_train.reader._map, np.memmap)
    assert np.array_equal(memory.y_val, streamed.y_val)
    packed = load_dataset({"name": "npz", "params": {"path": str(tmp_path / "packed.npz"),
                                                     "streaming": "on"}})  # fmt: skip
    assert isinstance(packed.x_train, np.ndarray)
    assert packed.loading == (
        "in memory: 40 samples (array 'x' of packed.npz is compressed (np.savez_compressed), "
        "which cannot be read in place; save it with np.savez to stream it)"
    )


def test_a_streamed_npz_refuses_nan_in_the_batch_that_holds_it(tmp_path):
    x = np.ones((3000, 2), np.float32)
    x[2999, 1] = np.nan  # outside the 1,000 samples the statistics are read from
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(3000) % 2)
    data = load_dataset({"name": "npz", "params": {"path": str(tmp_path / "nan.npz"),
                                                   "streaming": "on", "validation_split": 0}})  # fmt: skip
    with pytest.raises(DataError, match="the inputs of sample 2999 hold NaN"):
        np.asarray(data.x_train)


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(">u1").tobytes()


def test_idx_images_are_memory_mapped_and_gzipped_ones_read_into_memory(tmp_path):
    rng = np.random.default_rng(1)
    pictures, labels = rng.integers(0, 256, (30, 6, 5), dtype=np.uint8), np.arange(30) % 3
    for folder, opener in ((tmp_path / "plain", open), (tmp_path / "gz", gzip.open)):
        folder.mkdir()
        for name, array in (("train-images-idx3-ubyte", pictures),
                            ("train-labels-idx1-ubyte", labels)):  # fmt: skip
            suffix = ".gz" if opener is gzip.open else ""
            with opener(folder / (name + suffix), "wb") as stream:
                stream.write(idx_bytes(array))

    def load(folder, streaming):
        return load_dataset({"name": "idx", "params": {"path": str(folder), "workers": 0,
                                                       "streaming": streaming}})  # fmt: skip

    memory, streamed = load(tmp_path / "plain", "off"), load(tmp_path / "plain", "on")
    assert np.array_equal(memory.x_train, np.asarray(streamed.x_train))
    assert isinstance(streamed.x_train.reader._map, np.memmap)
    assert streamed.loading == "streaming 30 images from disk in this process"
    packed = load(tmp_path / "gz", "on")
    assert isinstance(packed.x_train, np.ndarray)
    assert "train-images-idx3-ubyte.gz is gzipped, which cannot be read in place" in packed.loading


CSV = "\n".join(
    ["age;colour;height;label"]
    + [f"{20 + i};{['red', 'green', 'blue'][i % 3]};{1.5 + i / 100};{['yes', 'no'][i % 2]}"
       for i in range(40)]
    + [""]  # an empty row is skipped by both
)  # fmt: skip


def test_a_streamed_csv_gives_the_rows_and_targets_of_the_in_memory_one(tmp_path):
    (tmp_path / "people.csv").write_text("\ufeff" + CSV + "\n")
    params = {"path": str(tmp_path / "people.csv"), "workers": 0, "validation_split": 0.25}
    memory = load_dataset({"name": "csv", "params": {**params, "streaming": "off"}})
    streamed = load_dataset({"name": "csv", "params": {**params, "streaming": "on"}})
    assert np.array_equal(memory.x_train, np.asarray(streamed.x_train))
    assert np.array_equal(memory.x_val, np.asarray(streamed.x_val))
    assert np.array_equal(memory.y_train, streamed.y_train)
    assert streamed.class_names == memory.class_names == ["no", "yes"]
    assert streamed.loading == "streaming 40 rows from disk in this process"


def test_a_streamed_csv_names_a_broken_line_as_the_in_memory_reader_does(tmp_path):
    path = tmp_path / "broken.csv"
    path.write_text(CSV.replace("25;blue", "25;blue;7", 1))
    for streaming in ("off", "on"):
        with pytest.raises(DataError, match=r"broken\.csv: line 7 has 5 values but the header"):
            load_dataset({"name": "csv", "params": {"path": str(path), "streaming": streaming}})


def test_the_cache_is_filled_by_the_first_pass_then_reused_without_decoding(tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "pics")
    first = images(folder, "on")
    cache = tmp_path / "pics_cache"
    assert first.loading.endswith(f"the first epoch caches the decoded images in {cache}")
    source = make_batches(first, CPU, first.sample_shape, 4, 0)
    batches = list(source.epoch(1)) + list(source.validation(256))
    assert sum(len(x) for x, _ in batches) == 21
    files = sorted(path.name for path in (tmp_path / "pics_cache").iterdir())
    assert [name.rsplit(".", 1)[1] for name in files] == ["json", "u8"]
    monkeypatch.setattr(image_files, "pixels", decoding_is_not_needed)
    monkeypatch.chdir(tmp_path)  # the folder reached by another path: the same cache
    again = images(folder.relative_to(tmp_path), "on")
    assert again.loading.endswith(f"the decoded images come from the cache in {cache}")
    assert np.array_equal(np.asarray(again.x_train), np.asarray(first.x_train))


def decoding_is_not_needed(*args):
    raise AssertionError("an image was decoded although the cache holds it")


@pytest.mark.parametrize("damage", ["cut short", "bad json", "other key", "no json"])
def test_a_damaged_cache_is_ignored_and_rebuilt(tmp_path, damage):
    folder = image_folder(tmp_path / "pics")
    expected = np.asarray(fill_cache(images(folder, "on")).x_train)
    cache = tmp_path / "pics_cache"
    data, meta = sorted(cache.glob("*.u8"))[0], sorted(cache.glob("*.json"))[0]
    if damage == "cut short":
        data.write_bytes(data.read_bytes()[:-1])
    elif damage == "bad json":
        meta.write_text("{not json")
    elif damage == "other key":
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "key": "0" * 16}))
    else:
        meta.unlink()
    rebuilt = images(folder, "on")
    assert "the first epoch caches the decoded images" in rebuilt.loading
    assert np.array_equal(np.asarray(fill_cache(rebuilt).x_train), expected)
    assert "come from the cache" in images(folder, "on").loading


def fill_cache(dataset):
    source = make_batches(dataset, CPU, dataset.sample_shape, 8, 0)
    list(source.epoch(1)), list(source.validation(256))
    return dataset


def test_a_half_written_cache_of_an_ended_run_is_never_used(tmp_path):
    folder = image_folder(tmp_path / "pics")
    dataset = images(folder, "on")  # the statistics' sample went into this process's part
    cache = dataset.x_train.reader.cache
    dead = 2**22 + 12345  # above the default pid_max: no process has it
    for path in (cache.part, cache.flags_path):
        path.rename(str(path).replace(f".{os.getpid()}.", f".{dead}."))
    garbage = tmp_path / "pics_cache" / cache.part.name.replace(f".{os.getpid()}.", f".{dead}.")
    garbage.write_bytes(b"\xff" * garbage.stat().st_size)  # what it holds is never read
    again = images(folder, "on")
    assert not any(f".{dead}." in path.name for path in (tmp_path / "pics_cache").iterdir())
    assert np.array_equal(np.asarray(again.x_train), np.asarray(images(folder, "off").x_train))


def test_no_cache_when_it_does_not_fit_the_disk_or_is_switched_off(tmp_path, monkeypatch):
    folder = image_folder(tmp_path / "pics")
    assert images(folder, "on", cache="off").x_train.reader.cache is None
    from engine.data import image_cache

    monkeypatch.setattr(image_cache, "_free_space", lambda folder: 200 << 20)
    full = images(folder, "on")
    assert full.x_train.reader.cache is None
    assert full.loading.endswith(
        "the decoded images are not cached: the cache would take 4.0 KB but the disk has "
        "209.7 MB free"
    )


def test_a_streamed_autoencoder_and_classifier_learn_exactly_as_in_memory(tmp_path):
    folder = image_folder(tmp_path / "pics")
    cnn = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                ("Dropout", {"p": 0.2}), "Flatten", ("Linear", {"out_features": 3}),
                input_shape=(3, 8, 8))  # fmt: skip
    config = {"epochs": 2, "batch_size": 4, "seed": 1}
    runs = [Trainer(cnn, images(folder, mode, augment=AUGMENT), config) for mode in ("off", "on")]
    assert runs[0].fit() == runs[1].fit()
    assert runs[0].history == runs[1].history
    coder = chain(("Flatten", {}), ("Linear", {"out_features": 192}), input_shape=(3, 8, 8))
    config = {**config, "recipe": "reconstruction", "loss": "MSELoss"}
    runs = [Trainer(coder, images(folder, mode), config) for mode in ("off", "on")]
    assert runs[0].fit().best == runs[1].fit().best


def test_each_rank_streams_its_shard_of_the_same_order():
    counts, orders = [], []
    for rank in range(2):
        plan = Plan(10, 0, 3, seed=4, dist=DistributedContext(rank, 2, rank, "gloo"))
        plan.read_epoch(2)
        batches = [positions for _, positions in plan]
        counts.append(len(batches) == len(plan))
        orders.append(np.concatenate(batches))
    from engine.training.core.data import epoch_order

    whole = epoch_order(10, 4, 2, CPU).numpy()
    assert all(counts) and [list(o) for o in orders] == [list(whole[0:10:2]), list(whole[1:10:2])]


def test_a_picture_that_breaks_after_loading_is_named_when_its_batch_is_read(tmp_path):
    folder = image_folder(tmp_path / "pics")
    dataset = images(folder, "on", cache="off")
    broken = Path(dataset.x_val.reader.files[int(dataset.val_index[0])])
    with open(broken, "r+b") as stream:
        stream.truncate(60)  # a header without its pixels
    source = StreamBatches(dataset, CPU, (3, 8, 8), 4, 0, None, "data", {})
    with pytest.raises(DataError, match=f"{broken.parent.name}/{broken.name}: not a readable"):
        list(source.validation(256))


def write_project(tmp_path, workers=0, epochs=1):
    image_folder(tmp_path / "pics", per_class=10)
    network = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                    "Flatten", ("Linear", {"out_features": 3}), input_shape=(3, 8, 8))  # fmt: skip
    dataset = {"name": "images", "params": {"path": "pics", "size": [8, 8], "workers": workers}}
    path = tmp_path / "pics.dwire"
    project.save(project.Project({"model": network}, dataset, {"epochs": epochs,
                                                               "batch_size": 8}), path)  # fmt: skip
    return path


def test_deepwire_train_says_which_path_the_data_takes(tmp_path, capsys):
    path = write_project(tmp_path)
    assert cli.main(["train", str(path), "--streaming", "off", "--no-progress"]) == 0
    assert "data: in memory: 30 samples\n" in capsys.readouterr().out
    assert cli.main(["train", str(path), "--streaming", "on", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "data: streaming 30 images from disk in this process; the first epoch" in out
    digits = tmp_path / "digits.dwire"
    project.save(project.Project({"model": chain(input_shape=(64,))},
                                 {"name": "digits", "params": {}}, {}), digits)  # fmt: skip
    assert cli.main(["train", str(digits), "--streaming", "on"]) == cli.EXIT_BAD_INPUT
    assert "--streaming on: digits is built in and read into memory" in capsys.readouterr().err


def test_deepwire_train_on_a_streamed_folder_with_two_workers(tmp_path, capsys):
    path = write_project(tmp_path, workers=2, epochs=2)
    out = tmp_path / "run"
    args = ["train", str(path), "--streaming", "on", "--out", str(out), "--no-progress"]
    assert cli.main(args) == 0
    text = capsys.readouterr().out
    assert "data: streaming 30 images from disk with 2 workers" in text
    assert "epoch 2/2" in text and (out / "weights.safetensors").exists()
    assert sorted(p.suffix for p in (tmp_path / "pics_cache").iterdir()) == [".json", ".u8"]


def test_slow_data_work_shows_its_progress(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(data_progress, "AFTER_S", 0.0)
    monkeypatch.setattr(data_progress, "EVERY_S", 0.0)
    path = write_project(tmp_path)
    assert cli.main(["train", str(path), "--streaming", "on", "--no-progress"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "checking image colours 30/30" in err  # the first picture is in colour: done
    assert "reading a sample for the normalisation 24/24" in err
    assert cli.main(["train", str(path), "--streaming", "off", "--no-progress"]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "reading images" in line]
    assert err == [f"reading images {n}/30" for n in (0, 8, 15, 23, 30)]  # start, quarters, end


def lying_npz(path):
    """An .npz whose ``x`` entry (stored, uncompressed) says, in both zip headers and its
    own, that it holds 1,000 rows, where the file holds 10: what a crafted file does."""
    import io
    import zipfile

    buffer = io.BytesIO()
    np.save(buffer, np.zeros((1000, 4), np.float32))
    whole = buffer.getvalue()
    short = whole[: len(whole) - 990 * 16]
    labels = io.BytesIO()
    np.save(labels, np.zeros(1000, np.int64))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("x.npy", short)
        archive.writestr("y.npy", labels.getvalue())
    data = bytearray(path.read_bytes())
    told = struct.pack("<I", len(short))
    for at in [i for i in range(len(data) - 4) if data[i : i + 4] == told]:
        data[at : at + 4] = struct.pack("<I", len(whole))  # every size field of x.npy
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("streaming", ["on", "off"])
def test_an_npz_entry_that_claims_more_than_the_file_holds_is_one_sentence(tmp_path, streaming):
    path = lying_npz(tmp_path / "crafted.npz")
    with pytest.raises(DataError, match=r"^crafted\.npz"):
        load_dataset({"name": "npz", "params": {"path": str(path), "streaming": streaming}})


@pytest.mark.cuda
def test_streamed_batches_reach_the_gpu_from_pinned_memory_and_train_as_in_memory(tmp_path):
    folder = image_folder(tmp_path / "pics")
    cnn = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                "Flatten", ("Linear", {"out_features": 3}), input_shape=(3, 8, 8))  # fmt: skip
    streamed = images(folder, "on", workers=1)
    source = make_batches(streamed, torch.device("cuda"), (3, 8, 8), 4, 0)
    x, y = next(iter(source.epoch(1)))
    assert x.is_cuda and y.is_cuda and source.loader.pin_memory
    source.close()
    config = {"epochs": 2, "batch_size": 4, "seed": 1, "device": "cuda"}
    memory = Trainer(cnn, images(folder, "off"), config).fit()
    assert Trainer(cnn, streamed, config).fit().best == pytest.approx(memory.best, rel=1e-3)
