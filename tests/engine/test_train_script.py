"""The python export's ``train.py``: runs without Deepwire, alone and under torchrun."""

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from engine import project
from engine.export import export
from engine.export.prepare import ExportError
from engine.weights import save_weights
from tests.engine.builders import chain

EXAMPLES = Path(__file__).parents[2] / "resources" / "examples"
FROZEN = ("conv1", "bn1", "conv2")

# Runs a script with Deepwire hidden (the venv installs it in editable mode), as on a
# user's machine: ``python guard.py train.py ARGS``.
_GUARD = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("engine", "nodeeditor"):
                raise ImportError(name + " is hidden")

    sys.meta_path.insert(0, Refuse())
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    loaded = [m for m in sys.modules if m.split(".")[0] in ("engine", "nodeeditor")]
    assert not loaded, loaded
    """
)


def _load_model(folder: Path):
    spec = importlib.util.spec_from_file_location(f"model_{folder.name}", folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Model()


@pytest.fixture(scope="module")
def frozen_folder(tmp_path_factory):
    """The transfer example exported with weights: its convolutions are frozen."""
    root = tmp_path_factory.mktemp("train_script")
    proj = project.load(EXAMPLES / "transfer_digits_target.dwire")
    start = root / "start.safetensors"
    from engine.export.prepare import prepare

    save_weights(prepare(proj.network, seed=3).module, start)
    folder = root / "export"
    result = export(proj.network, "python", folder, start, project=proj, base_dir=EXAMPLES)
    names = {p.name for p in result.files}
    assert {"train.py", "model.py", "initial.safetensors", "README.md"} <= names
    (root / "guard.py").write_text(_GUARD)
    return root, folder, load_file(start)


def _run(root: Path, command: list[str]):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)


def test_train_py_trains_in_a_fresh_interpreter_and_keeps_frozen_layers(frozen_folder):
    root, folder, start = frozen_folder
    exported = {name: (folder / name).read_bytes() for name in ("model.safetensors",
                                                                 "initial.safetensors")}  # fmt: skip
    out = folder / "trained.safetensors"  # by default, beside the exported weights
    done = _run(root, [sys.executable, "-I", "guard.py", str(folder / "train.py"),
                       "--epochs", "2"])  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert {name: (folder / name).read_bytes() for name in exported} == exported
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    assert "val_accuracy" in lines[-1]
    trained = load_file(out)
    model = _load_model(folder)
    model.load_state_dict(trained, strict=True)
    for key, value in trained.items():
        node = key.split(".")[0]
        if node in FROZEN and not key.endswith(("running_mean", "running_var", "tracked")):
            assert torch.equal(value, start[key]), key
    assert not torch.equal(trained["new_fc1.weight"], start["new_fc1.weight"])


def test_train_py_under_torchrun_writes_once(frozen_folder):
    root, folder, start = frozen_folder
    out = root / "ddp.safetensors"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", "guard.py", str(folder / "train.py"), "--epochs", "1",
               "--out", str(out)]  # fmt: skip
    done = _run(root, command)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("epoch 1/1") == 1
    assert done.stdout.count("wrote ") == 1
    assert "terminate called" not in done.stderr
    trained = load_file(out)
    assert torch.equal(trained["conv1.weight"], start["conv1.weight"])
    _load_model(folder).load_state_dict(trained, strict=True)


def test_file_dataset_is_saved_beside_the_script(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "points.npz", x=rng.normal(size=(40, 3)).astype(np.float32),
             y=(np.arange(40) % 2).astype(np.int64))  # fmt: skip
    network = chain(("Linear", {"out_features": 2}), input_shape=(3,))
    proj = project.Project({"model": network}, {"name": "npz", "params": {"path": "points.npz"}})
    result = export(network, "python", tmp_path / "out", project=proj, base_dir=tmp_path)
    assert {"train.py", "data.npz"} <= {p.name for p in result.files}
    with np.load(tmp_path / "out/data.npz") as data:
        assert len(data["x_train"]) + len(data["x_val"]) == 40
    assert "data.npz" in (tmp_path / "out/README.md").read_text()


def test_no_dataset_no_train_py_and_the_readme_says_why(tmp_path):
    network = chain(("Linear", {"out_features": 2}), input_shape=(3,))
    proj = project.Project({"model": network})
    result = export(network, "python", tmp_path / "out", project=proj)
    assert "train.py" not in {p.name for p in result.files}
    assert "no dataset" in (tmp_path / "out/README.md").read_text()


def test_a_dataset_that_does_not_fit_is_an_export_error(tmp_path):
    network = chain(("Linear", {"out_features": 2}), input_shape=(3,))
    proj = project.Project({"model": network}, {"name": "digits", "params": {}})
    with pytest.raises(ExportError, match=r"cannot write train\.py: the Input"):
        export(network, "python", tmp_path / "out", project=proj)
    assert not (tmp_path / "out").exists()


def _parse_args(folder: Path, monkeypatch, *argv: str):
    """Run train.py's argument parsing in this process (its imports are torch and model.py)."""
    import runpy

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    monkeypatch.chdir(folder)
    try:
        return runpy.run_path(str(folder / "train.py"), run_name="imported")["parse_args"]()
    finally:
        sys.modules.pop("model", None)


def test_train_py_refuses_to_write_over_the_exported_weights(frozen_folder, monkeypatch, capsys):
    root, folder, _ = frozen_folder
    link = root / "innocent.safetensors"
    link.symlink_to(folder / "model.safetensors")
    hard = root / "hard.safetensors"
    os.link(folder / "initial.safetensors", hard)
    for target in ("model.safetensors", "./initial.safetensors", str(link), str(hard)):
        with pytest.raises(SystemExit) as done:
            _parse_args(folder, monkeypatch, "--out", target)
        assert done.value.code == 2
        assert "where the export keeps its weights" in capsys.readouterr().err
    assert _parse_args(folder, monkeypatch).out == str(folder / "trained.safetensors")
    readme = (folder / "README.md").read_text()
    assert "`trained.safetensors`" in readme and "never writes over `model.safetensors`" in readme
