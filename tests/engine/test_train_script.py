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
from engine.cli import main
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
    """Parse train.py's command line in this process, with the folder's own training_core."""
    import inspect
    import runpy

    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(folder)
    try:
        constants = runpy.run_path(str(folder / "train.py"), run_name="imported")
        script = sys.modules["training_core.script"]
        assert Path(script.__file__).parent == folder / "training_core"
        kept = inspect.signature(constants["main"]).parameters["kept"].default
        return script.parse_args(constants["TRAINING"], constants["HERE"], kept, list(argv))
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] in ("model", "training_core")]:
            del sys.modules[name]


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


# ---------------------------------------------- what the folder trains with and from
def _gan_project(tmp_path) -> Path:
    from tests.engine.test_export_equivalence import adversarial

    path = tmp_path / "gan.dwire"
    project.save(project.Project(*adversarial()), path)
    return path


def _start_of_deepwire_train(path: Path) -> dict:
    """The weights ``deepwire train`` starts from (its trainer's model before fitting)."""
    from engine.data import load_dataset
    from engine.training import Trainer

    proj = project.load(path)
    trainer = Trainer(proj.networks, load_dataset(proj.dataset, path.parent), proj.training)
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


def test_the_folder_trains_with_the_engines_own_code_from_deepwires_start(tmp_path):
    import ast

    from engine.data import load_dataset
    from engine.training import core

    network = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    proj = project.Project({"model": network}, {"name": "moons", "params": {"n_samples": 80}},
                           {"seed": 7, "epochs": 2})  # fmt: skip
    path = tmp_path / "moons.dwire"
    project.save(proj, path)
    export(network, "python", tmp_path / "out", project=proj, base_dir=tmp_path)
    folder = tmp_path / "out"
    engine_core = {p.name: p.read_bytes() for p in Path(core.__file__).parent.glob("*.py")}
    copied = {p.name: p.read_bytes() for p in (folder / "training_core").iterdir()}
    assert copied == engine_core
    start = load_file(folder / "initial.safetensors")
    expected = _start_of_deepwire_train(path)
    assert start.keys() == expected.keys()
    assert all(torch.equal(start[k], expected[k]) for k in start)
    dataset = load_dataset(proj.dataset, tmp_path)
    with np.load(folder / "data.npz") as data:
        for key in ("x_train", "y_train", "x_val", "y_val"):
            assert (
                np.array_equal(data[key], getattr(dataset, key))
                and data[key].dtype == getattr(dataset, key).dtype
            )
    tree = ast.parse((folder / "train.py").read_text())
    constants = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and node.targets[0].id in ("SPEC", "TRAINING", "META")}  # fmt: skip
    assert constants["SPEC"]["recipe"] == "supervised" and constants["TRAINING"]["seed"] == 7
    assert constants["META"] == {"task": "classification", "num_classes": 2,
                                 "target_std": 1.0, "augment": {}}  # fmt: skip


def test_a_gan_folder_trains_both_networks_and_loads_the_generator_alone(tmp_path, capsys):
    path = _gan_project(tmp_path)
    start = _start_of_deepwire_train(path)
    run = {k: v + 1.0 for k, v in start.items()}  # stands in for a trained GAN's weights
    save_weights(run, tmp_path / "run.safetensors")
    folder = tmp_path / "out"
    assert main(["export", str(path), "-f", "python", "--weights",
                 str(tmp_path / "run.safetensors"), "-o", str(folder)]) == 0  # fmt: skip
    capsys.readouterr()
    assert {"model.py", "generator.py", "discriminator.py", "train.py", "initial.safetensors",
            "data.npz"} <= {p.name for p in folder.iterdir()}  # fmt: skip
    generator = _load_model(folder)  # model.py: the generator, the default network
    generator.load_state_dict(load_file(folder / "model.safetensors"), strict=True)
    for key, value in generator.state_dict().items():
        assert torch.equal(value, run[f"generator.{key}"]), key
    initial = load_file(folder / "initial.safetensors")
    assert initial.keys() == run.keys() and all(torch.equal(initial[k], run[k]) for k in run)
    readme = (folder / "README.md").read_text()
    assert "generator.py" in readme and "discriminator.py" in readme and "prefix" in readme
    # the README's snippet takes one network's part of the weights
    snippet = readme.split("```python")[-1].split("```")[0].replace("trained", "initial")
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    try:
        exec(snippet, namespace)  # the README's own example
    finally:
        os.chdir(cwd)
        sys.path.remove(str(folder))
        sys.modules.pop("generator", None)
    for key, value in namespace["generator"].state_dict().items():
        assert torch.equal(value, run[f"generator.{key}"]), key


def test_export_takes_any_network_of_a_gan_and_its_part_of_the_weights(tmp_path, capsys):
    path = _gan_project(tmp_path)
    start = _start_of_deepwire_train(path)
    save_weights(start, tmp_path / "run.safetensors")
    target = tmp_path / "d.safetensors"
    assert main(["export", str(path), "-f", "safetensors", "--network", "discriminator",
                 "--weights", str(tmp_path / "run.safetensors"), "-o", str(target)]) == 0  # fmt: skip
    written = load_file(target)
    assert written.keys() == {k.split(".", 1)[1] for k in start if k.startswith("discriminator.")}
    assert all(torch.equal(v, start[f"discriminator.{k}"]) for k, v in written.items())
    # the generator's weights alone (no prefixes) still fit the generator
    alone = {k.split(".", 1)[1]: v * 2 for k, v in start.items() if k.startswith("generator.")}
    save_weights(alone, tmp_path / "g.safetensors")
    folder = tmp_path / "out"
    assert main(["export", str(path), "-f", "python", "--weights",
                 str(tmp_path / "g.safetensors"), "-o", str(folder)]) == 0  # fmt: skip
    initial = load_file(folder / "initial.safetensors")
    for key, value in start.items():
        name, param = key.split(".", 1)
        expected = alone[param] if name == "generator" else value  # D: the seeded start
        assert torch.equal(initial[key], expected), key
    capsys.readouterr()
    # the generator's weights do not fit the discriminator: one sentence, exit 2
    code = main(["export", str(path), "-f", "onnx", "--network", "discriminator",
                 "--weights", str(tmp_path / "g.safetensors"), "-o", str(tmp_path / "d.onnx")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("deepwire: g.safetensors do not fit this network")
    assert err.count("\n") == 1 and not (tmp_path / "d.onnx").exists()


def test_a_network_the_training_does_not_train_gets_no_train_py(tmp_path):
    model = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    other = chain(("Linear", {"out_features": 3}), input_shape=(2,), name="other")
    proj = project.Project({"model": model, "other": other},
                           {"name": "moons", "params": {"n_samples": 40}})  # fmt: skip
    result = export(other, "python", tmp_path / "out", project=proj)
    assert "train.py" not in {p.name for p in result.files}
    assert "does not train this network" in (tmp_path / "out/README.md").read_text()
    assert "'model'" in (tmp_path / "out/README.md").read_text()


def test_train_py_says_in_one_sentence_when_its_start_does_not_fit(frozen_folder, tmp_path,
                                                                   monkeypatch, capsys):  # fmt: skip
    import runpy

    _, folder, _ = frozen_folder
    save_weights({"other.weight": torch.zeros(2, 2)}, tmp_path / "wrong.safetensors")
    monkeypatch.setattr(sys, "path", list(sys.path))
    try:
        script = runpy.run_path(str(folder / "train.py"), run_name="imported")
        classes = {script["SPEC"]["networks"][0]: script["Model"]}
        argv = ["--init-weights", str(tmp_path / "wrong.safetensors"), "--out",
                str(tmp_path / "new" / "t.safetensors")]  # fmt: skip
        code = script["main"](script["SPEC"], script["TRAINING"], script["META"], classes,
                              script["HERE"], argv=argv)  # fmt: skip
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] in ("model", "training_core")]:
            del sys.modules[name]
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("train.py: ") and err.count("\n") == 1, err
    assert "wrong.safetensors: cannot start from these weights" in err
    assert not (tmp_path / "new" / "t.safetensors").exists()
