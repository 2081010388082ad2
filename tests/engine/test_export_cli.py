"""``deepwire export`` and ``deepwire import``: exit codes and the sentences users read."""

import pickle

import pytest
import torch

from engine import project
from engine.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main
from engine.weights import read_weights
from tests.engine.builders import chain
from tests.engine.test_export_networks import NETWORKS


def _save(tmp_path, network, name="net.dwire"):
    path = tmp_path / name
    project.save(project.Project(networks={"model": network}), path)
    return path


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "fmt, target", [("safetensors", "w.safetensors"), ("pt", "w.pt"), ("python", "folder")]
)
def test_export_writes_and_says_the_weights_are_fresh(tmp_path, capsys, fmt, target):
    path = _save(tmp_path, NETWORKS["mlp"]())
    code, out, err = _run(capsys, "export", path, "--format", fmt, "-o", tmp_path / target)
    assert code == EXIT_OK
    assert f"wrote {tmp_path / target}" in out
    assert "fresh initial weights (seed 0)" in err
    assert (tmp_path / target).exists()


def test_export_with_weights_carries_them_and_says_nothing_about_fresh(tmp_path, capsys):
    path = _save(tmp_path, NETWORKS["mlp"]())
    _run(
        capsys, "export", path, "-f", "safetensors", "--seed", "3", "-o", tmp_path / "a.safetensors"
    )
    code, _out, err = _run(
        capsys,
        "export",
        path,
        "-f",
        "pt",
        "--weights",
        tmp_path / "a.safetensors",
        "-o",
        tmp_path / "b.pt",
    )
    a, b = read_weights(tmp_path / "a.safetensors"), read_weights(tmp_path / "b.pt")
    assert code == EXIT_OK and err == ""
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_export_default_path_sits_beside_the_project(tmp_path, capsys):
    path = _save(tmp_path, NETWORKS["mlp"]())
    code, _out, _ = _run(capsys, "export", path, "-f", "safetensors")
    assert code == EXIT_OK and (tmp_path / "net.safetensors").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["-f", "torchscript"], "use --format program"),
        (["-f", "keras"], "unknown export format 'keras'"),
        (["-f", "onnx", "--weights", "{tmp}/missing.safetensors"], "no such weights file"),
        (["-f", "onnx", "--weights", "{tmp}/wrong.safetensors"], "linear1: weight has shape"),
        (["-f", "onnx", "--weights", "{tmp}/evil.pt"], "never runs code"),
        (["-f", "onnx", "--network", "gan"], "there is no network 'gan'"),
    ],
)
def test_export_refuses_bad_input_with_exit_2(tmp_path, capsys, argv, message):
    path = _save(tmp_path, NETWORKS["mlp"]())
    other = chain(("Linear", {"out_features": 3}), input_shape=(5,))
    _run(
        capsys,
        "export",
        _save(tmp_path, other, "other.dwire"),
        "-f",
        "safetensors",
        "-o",
        tmp_path / "wrong.safetensors",
    )
    with open(tmp_path / "evil.pt", "wb") as stream:
        pickle.dump({"x": _Evil()}, stream)
    argv = [a.format(tmp=tmp_path) for a in argv]
    code, out, err = _run(capsys, "export", path, *argv, "-o", tmp_path / "m.onnx")
    assert code == EXIT_BAD_INPUT
    assert err.startswith("deepwire: ") and message in err
    assert "ran" not in out  # the pickle's payload never ran
    assert "Traceback" not in err and not (tmp_path / "m.onnx").exists()


class _Evil:
    def __reduce__(self):
        return (print, ("ran",))


def test_export_of_a_missing_project_is_bad_input(tmp_path, capsys):
    code, _, err = _run(capsys, "export", tmp_path / "nope.dwire", "-f", "onnx")
    assert code == EXIT_BAD_INPUT and "no such file" in err


def test_export_of_a_broken_network_fails_with_exit_1(tmp_path, capsys):
    path = _save(tmp_path, chain(("Linear", {"out_features": 4}), input_shape=(1, 8, 8)))
    code, _, err = _run(
        capsys, "export", path, "-f", "safetensors", "-o", tmp_path / "w.safetensors"
    )
    assert code == EXIT_FAILED and "add a Flatten" in err
    assert not (tmp_path / "w.safetensors").exists()


def test_code_then_import_gives_the_project_back(tmp_path, capsys):
    network = NETWORKS["cnn"]()
    path = _save(tmp_path, network)
    assert _run(capsys, "code", path, "-o", tmp_path / "model.py")[0] == EXIT_OK
    code, out, err = _run(
        capsys,
        "import",
        f"{tmp_path / 'model.py'}:Model",
        "--input-shape",
        "image=1,8,8",
        "--name",
        "cnn",
        "--weights-out",
        tmp_path / "imported.safetensors",
        "-o",
        tmp_path / "imported.dwire",
    )
    assert code == EXIT_OK, err
    assert "imported Model: 8 nodes" in out
    imported = project.load(tmp_path / "imported.dwire").networks["cnn"]
    strip = lambda d: [{k: v for k, v in n.items() if k != "pos"} for n in d["nodes"]]  # noqa: E731
    assert strip(imported.to_dict()) == strip(network.to_dict())
    assert imported.to_dict()["edges"] == network.to_dict()["edges"]
    code, _, err = _run(
        capsys,
        "export",
        tmp_path / "imported.dwire",
        "--network",
        "cnn",
        "-f",
        "safetensors",
        "--weights",
        tmp_path / "imported.safetensors",
        "-o",
        tmp_path / "again.safetensors",
    )
    assert code == EXIT_OK and err == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "give the shape of one sample of each input (x)"),
        (["--input-shape", "a,b"], "give positive sizes"),
        (["--input-shape", "x=4", "--input-shape", "4"], "name every input"),
        (["--input-shape", "y=4"], "no shape given for input 'x'"),
    ],
)
def test_import_refuses_bad_input_with_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "m.py").write_text(
        "import torch\n"
        "class M(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(4, 2)\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
    )
    code, _, err = _run(
        capsys, "import", f"{tmp_path / 'm.py'}:M", *argv, "-o", tmp_path / "p.dwire"
    )
    assert code == EXIT_BAD_INPUT
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "p.dwire").exists()


def test_import_of_an_unknown_class_names_the_ones_there(tmp_path, capsys):
    (tmp_path / "m.py").write_text("import torch\nclass Net(torch.nn.Module):\n    pass\n")
    code, _, err = _run(capsys, "import", f"{tmp_path / 'm.py'}:Nett", "-o", tmp_path / "p.dwire")
    assert code == EXIT_BAD_INPUT and "has no class or function Nett (it defines: Net)" in err
