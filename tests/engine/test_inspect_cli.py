"""``deepwire inspect``: a picture and a row of statistics per node for one sample."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from engine import project as project_file
from engine.analysis import analyze
from engine.cli import EXIT_BAD_INPUT, EXIT_OK, main
from engine.compile import compile_network
from engine.data import load_dataset
from engine.edits.blocks import plan_group
from engine.project import Project
from engine.weights import save_weights
from tests.engine.builders import chain
from tests.engine.test_blocks import residual_project

DEEPWIRE = Path(sys.executable).with_name("deepwire")
XOR = {"name": "xor", "params": {"n_samples": 50, "validation_split": 0.2}}


def xor_project(tmp_path):
    """A project on the XOR points and trained-looking weights for it."""
    network = chain(("Linear", {"out_features": 4}), "ReLU", ("Linear", {"out_features": 2}),
                    input_shape=(2,))  # fmt: skip
    path = tmp_path / "xor.dwire"
    project_file.save(Project({"model": network}, dataset=XOR), path)
    torch.manual_seed(7)
    module = compile_network(network)
    save_weights(module, tmp_path / "w.safetensors")
    return path, module.eval()


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def read_rows(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_each_node_gets_a_picture_and_a_row_of_its_output_for_the_sample(tmp_path, capsys):
    path, module = xor_project(tmp_path)
    out = tmp_path / "pictures"
    code, said, err = run(capsys, "inspect", path, "--weights", tmp_path / "w.safetensors",
                          "--sample", 4, "-o", out)  # fmt: skip
    assert code == EXIT_OK, err
    assert err == "sample 4 of the validation part of xor\n"
    assert said.splitlines()[0] == f"wrote 5 pictures and nodes.csv to {out}"
    names = ["input", "linear1", "relu2", "linear3", "output"]
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.png" for n in names] + ["nodes.csv", "mistakes.csv", "per_class.csv"]
    )  # a classifier with weights: its validation mistakes too (test_mistakes.py)
    rows = read_rows(out / "nodes.csv")
    assert [r["node"] for r in rows] == names
    assert list(rows[0]) == ["node", "port", "shape", "mean", "std", "min", "max", "zero_fraction"]
    x = torch.as_tensor(load_dataset(XOR).x_val[4])
    hidden = torch.relu(module.linear1(x))
    relu = rows[2]
    assert relu["shape"] == "(4,)" and relu["port"] == "out"
    assert float(relu["zero_fraction"]) == (hidden == 0).float().mean().item()
    assert float(relu["max"]) == pytest.approx(hidden.max().item(), rel=1e-5)
    assert float(rows[4]["mean"]) == pytest.approx(module(x[None]).mean().item(), abs=1e-5)
    strip = np.asarray(Image.open(out / "relu2.png"))
    assert strip.shape[1] == 4 * strip.shape[0]  # four cells, enlarged


def test_the_train_part_and_fresh_weights_said_in_one_line(tmp_path, capsys):
    path, _ = xor_project(tmp_path)
    code, _, err = run(
        capsys, "inspect", path, "--part", "train", "--sample", 39, "-o", tmp_path / "o"
    )
    assert code == EXIT_OK
    assert err.splitlines() == [
        "note: no --weights given, so the pictures show fresh random weights (seed 0)",
        "sample 39 of the train part of xor",
    ]


def test_an_image_network_without_data_gets_a_made_up_sample_and_image_pictures(tmp_path, capsys):
    network = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                    input_shape=(1, 8, 8))  # fmt: skip
    path = tmp_path / "cnn.dwire"
    project_file.save(Project({"model": network}), path)
    code, _, err = run(capsys, "inspect", path, "--sample", 2, "-o", tmp_path / "o")
    assert code == EXIT_OK
    assert "'model' gets a made-up sample (seed 2): the project has no data" in err
    image = np.asarray(Image.open(tmp_path / "o" / "input.png"))
    assert image.shape == (256, 256, 3) and (image[..., 0] == image[..., 2]).all()  # grey
    maps = np.asarray(Image.open(tmp_path / "o" / "conv2d1.png"))
    assert maps.shape == (17 * 16, 17 * 16, 3)  # 2 x 2 maps of 8 x 8, enlarged 16 times


def test_a_block_with_two_outputs_gets_a_picture_per_port(tmp_path, capsys):
    project = residual_project()
    network = project.network
    network.add_node("Output", node_id="side")
    network.connect("relu1", "out", "side", "in")
    plan_group(network, ["conv1", "relu1", "conv2"], "Two", analyze(network)).apply(network)
    path = tmp_path / "two.dwire"
    project_file.save(project, path)
    code, _, _ = run(capsys, "inspect", path, "-o", tmp_path / "o")
    assert code == EXIT_OK
    assert (tmp_path / "o" / "two.out1.png").is_file() and (
        tmp_path / "o" / "two.out2.png"
    ).is_file()
    assert not (tmp_path / "o" / "conv1.png").exists()
    ports = [(r["node"], r["port"]) for r in read_rows(tmp_path / "o" / "nodes.csv")]
    assert ("two", "out1") in ports and ("side", "in") in ports


def bad_weights(tmp_path):
    save_weights({"linear1.weight": torch.zeros(3, 2)}, tmp_path / "bad.safetensors")
    return tmp_path / "bad.safetensors"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--sample", 10], r"there is no sample 10 in the validation part: it has 10 samples \(0 to 9\)"),
        (["--weights", "{tmp}/none.safetensors"], "none.safetensors: no such weights file"),
        (["--weights", "{bad}"], r"bad.safetensors do not fit this network \(4 problem\(s\)\): "
                                 r"linear1: weight has shape \(3, 2\) in the file but \(4, 2\)"),
        (["--network", "gan"], r"there is no network 'gan' \(it has: model\)"),
        (["-o", "{tmp}/xor.dwire/o"], "cannot write the pictures to .*xor.dwire/o"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence_and_nothing_is_written(tmp_path, capsys, argv, said):
    path, _ = xor_project(tmp_path)
    bad = bad_weights(tmp_path)
    argv = [str(a).format(tmp=tmp_path, bad=bad) for a in argv]
    if "-o" not in argv:
        argv += ["-o", str(tmp_path / "o")]
    code, out, err = run(capsys, "inspect", path, *argv)
    assert code == EXIT_BAD_INPUT and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("deepwire: ")
    assert re.search(said, err), err
    assert not (tmp_path / "o").exists()


def test_a_read_only_picture_is_kept_and_no_half_written_file_is_left(tmp_path, capsys):
    path, _ = xor_project(tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    (out / "relu2.png").write_bytes(b"mine")
    (out / "relu2.png").chmod(0o444)
    code, _, err = run(capsys, "inspect", path, "-o", out)
    assert code == EXIT_BAD_INPUT and "relu2.png is read-only" in err
    assert (out / "relu2.png").read_bytes() == b"mine"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]


def test_the_real_command_never_prints_a_traceback(tmp_path):
    path, _ = xor_project(tmp_path)
    ran = subprocess.run([str(DEEPWIRE), "inspect", str(path), "--sample", "99", "-o",
                          str(tmp_path / "o")], capture_output=True, text=True)  # fmt: skip
    assert ran.returncode == EXIT_BAD_INPUT
    assert "Traceback" not in ran.stderr and ran.stderr.startswith(
        "deepwire: there is no sample 99"
    )
    assert not (tmp_path / "o").exists()
