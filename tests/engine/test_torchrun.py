"""``torchrun --nproc_per_node=2 -m engine train``: DDP with gloo on the CPU."""

import csv
import os
import subprocess
import sys

from safetensors.torch import load_file

from engine import project
from tests.engine.builders import chain


def test_two_processes_train_and_only_rank_0_writes(tmp_path):
    network = chain(("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 2}),
                    input_shape=(2,))  # fmt: skip
    training = {"epochs": 2, "batch_size": 32, "optimizer": {"type": "Adam", "lr": 0.02}}
    proj = project.Project(
        {"model": network}, {"name": "moons", "params": {"n_samples": 300}}, training
    )
    path = tmp_path / "moons.dwire"
    project.save(proj, path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.getcwd()}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "engine", "train", str(path), "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("epoch 1/2") == 1 and done.stdout.count("epoch 2/2") == 1
    assert "terminate called" not in done.stderr
    with open(tmp_path / "run/metrics.csv") as stream:
        assert [row["epoch"] for row in csv.DictReader(stream)] == ["1", "2"]
    assert set(load_file(tmp_path / "run/weights.safetensors")) == {
        "linear1.weight", "linear1.bias", "linear3.weight", "linear3.bias"}  # fmt: skip
