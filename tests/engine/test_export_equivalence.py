"""``deepwire train`` and the exported ``train.py`` train alike, for every recipe.

Each project trains twice from its file, same seed, on the CPU: with ``deepwire train
FILE --out A`` (in this process), and with the python export's ``train.py`` copied out
of the repository and run in a fresh interpreter where Deepwire cannot be imported. The
venv installs Deepwire in editable mode (a ``.pth`` finder that ``python -I`` still
runs), so the script runs under ``python -I -S`` with only the venv's site-packages
folder on ``sys.path`` (torch, numpy, safetensors; no ``.pth`` file is read), and the
runner first asserts that ``import engine`` fails there.

Both runs execute the same code (``training_core/`` is ``engine/training/core``
copied) on the same arrays (``data.npz``) from the same weights
(``initial.safetensors``): measured, the trained weights are bitwise equal and the
metrics agree to every digit ``metrics.csv`` holds. The test allows 1e-6 relative on
the weights and, on the metrics, 1e-5 relative: ``deepwire train``'s ``metrics.csv``
rounds to 6 significant digits.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine import project
from engine.cli import main
from tests.engine.builders import chain

WEIGHTS_RTOL, METRICS_RTOL = 1e-6, 1e-5

# Runs each exported folder's train.py as a user without Deepwire would, one after the
# other in one interpreter (torch is imported once): python -I -S runner.py SITE FOLDER...
RUNNER = textwrap.dedent(
    """
    import importlib.util, os, runpy, sys
    sys.path.append(sys.argv[1])
    for name in ("engine", "nodeeditor"):
        assert importlib.util.find_spec(name) is None, name + " is importable"
    for folder in sys.argv[2:]:
        for name in [m for m in sys.modules if m.split(".")[0] in
                     ("model", "generator", "discriminator", "training_core")]:
            del sys.modules[name]  # each folder's own modules
        out = os.path.join(folder, "run", "trained.safetensors")
        sys.argv = ["train.py", "--device", "cpu", "--out", out]
        try:
            runpy.run_path(os.path.join(folder, "train.py"), run_name="__main__")
        except SystemExit as end:
            assert not end.code, (folder, end.code)
    """
)


def classification():
    network = chain(("Linear", {"out_features": 16}), "ReLU", ("Dropout", {"p": 0.2}),
                    ("Linear", {"out_features": 2}), input_shape=(2,))  # fmt: skip
    dataset = {"name": "moons", "params": {"n_samples": 160}}
    training = {"epochs": 3, "batch_size": 32, "seed": 4,
                "optimizer": {"type": "SGD", "lr": 0.05, "momentum": 0.9}}  # fmt: skip
    return {"model": network}, dataset, training


def regression():
    network = chain(("Linear", {"out_features": 8}), "Tanh", ("Linear", {"out_features": 1}),
                    input_shape=(10,))  # fmt: skip
    dataset = {"name": "diabetes", "params": {"limit": 120}}
    training = {"epochs": 3, "batch_size": 16, "seed": 2, "l1": 0.0001, "grad_clip": 1.0,
                "scheduler": {"type": "StepLR", "step_size": 1, "gamma": 0.5},
                "early_stopping": {"monitor": "val_mae", "patience": 5}}  # fmt: skip
    return {"model": network}, dataset, training


def reconstruction():
    network = chain(("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 64}),
                    input_shape=(64,))  # fmt: skip
    params = {"task": "reconstruction", "limit": 150, "augment": {"noise": 0.05}}
    training = {"epochs": 2, "batch_size": 32, "seed": 1, "loss": "MSELoss"}
    return {"model": network}, {"name": "digits", "params": params}, training


def adversarial():
    generator = chain(("Linear", {"out_features": 16}), "ReLU", ("Linear", {"out_features": 2}),
                      input_shape=(4,), name="generator")  # fmt: skip
    discriminator = chain(("Linear", {"out_features": 16}), "LeakyReLU",
                          ("Linear", {"out_features": 1}), input_shape=(2,),
                          name="discriminator")  # fmt: skip
    networks = {"generator": generator, "discriminator": discriminator}
    dataset = {"name": "rings", "params": {"n_samples": 160}}
    training = {"epochs": 3, "batch_size": 32, "seed": 5, "recipe": "adversarial",
                "adversarial": {"generator": "generator", "discriminator": "discriminator",
                                "noise": "uniform", "d_steps": 2, "label_smoothing": 0.1}}  # fmt: skip
    return networks, dataset, training


# each recipe with the metric columns its metrics.csv must hold
CASES = {
    "classification": (classification, ("train_loss", "val_loss", "val_accuracy")),
    "regression": (regression, ("train_loss", "val_loss", "val_mae", "val_r2")),
    "reconstruction": (reconstruction, ("train_loss", "val_loss")),
    "adversarial": (adversarial, ("train_d_loss", "train_g_loss", "train_d_real")),
}


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def run_exported(folders: list[Path]) -> subprocess.CompletedProcess:
    """Run every ``folder/train.py --device cpu --out folder/run/...`` without Deepwire."""
    runner = folders[0].parent / "runner.py"
    runner.write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    site = sysconfig.get_paths()["purelib"]
    command = [sys.executable, "-I", "-S", str(runner), site, *map(str, folders)]
    return subprocess.run(command, cwd=folders[0].parent, capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    """Each case trained by ``deepwire train`` (``<recipe>/A``) and by its exported
    ``train.py`` copied out of the repository (``elsewhere/<recipe>/run``)."""
    root = tmp_path_factory.mktemp("equivalence")  # outside the repository
    assert not root.resolve().is_relative_to(Path(__file__).resolve().parents[2])
    folders = []
    for recipe, (make, _) in CASES.items():
        networks, dataset, training = make()
        path = root / recipe / f"{recipe}.dwire"
        path.parent.mkdir()
        project.save(project.Project(networks, dataset, {**training, "device": "cpu"}), path)
        assert main(["train", str(path), "--out", str(path.parent / "A"), "--no-progress"]) == 0
        assert main(["export", str(path), "-f", "python", "-o", str(path.parent / "B")]) == 0
        folders.append(root / "elsewhere" / recipe)
        shutil.copytree(path.parent / "B", folders[-1])
    done = run_exported(folders)
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.mark.parametrize("recipe", list(CASES))
def test_exported_train_py_trains_as_deepwire_train_does(recipe, runs):
    make, columns = CASES[recipe]
    epochs = make()[2]["epochs"]
    trained = load_file(runs / recipe / "A" / "weights.safetensors")
    exported = load_file(runs / "elsewhere" / recipe / "run" / "trained.safetensors")
    assert sorted(trained) == sorted(exported)
    for key, value in trained.items():
        assert torch.allclose(exported[key], value, rtol=WEIGHTS_RTOL, atol=1e-8), key

    ours = read_rows(runs / recipe / "A" / "metrics.csv")
    theirs = read_rows(runs / "elsewhere" / recipe / "run" / "metrics.csv")
    assert [row["epoch"] for row in ours] == [row["epoch"] for row in theirs]
    assert len(ours) == epochs
    shared = [c for c in ours[0] if c in theirs[0] and c != "epoch"]
    assert set(columns) <= set(shared), (sorted(ours[0]), sorted(theirs[0]))
    for mine, other in zip(ours, theirs, strict=True):
        for column in shared:
            assert float(other[column]) == pytest.approx(
                float(mine[column]), rel=METRICS_RTOL, abs=1e-9
            ), (recipe, mine["epoch"], column)
