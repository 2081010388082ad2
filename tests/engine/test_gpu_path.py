"""The GPU path: channels-last convolutions, mixed precision, torch.compile, pinned
copies and DDP. The layout logic runs on the CPU too; the tests marked ``cuda`` run
only where a CUDA GPU is present (``conftest.py`` skips them with the reason)."""

import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from engine import project
from engine.data import load_dataset
from engine.training import Callback, Trainer, checkpoint
from engine.training.core import device as device_module
from engine.training.core.data import to_device
from engine.training.core.device import prefers_channels_last
from tests.engine.builders import chain


def digits_cnn():
    return chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}), "ReLU",
                 "Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))  # fmt: skip


@pytest.fixture(scope="module")
def digits():
    return load_dataset({"name": "digits", "params": {}})


class Layout(Callback):
    """The memory format of the first convolution's weight, seen while training."""

    def on_batch_end(self, trainer, event):
        weight = trainer.model.conv2d1.weight
        self.channels_last = weight.is_contiguous(memory_format=torch.channels_last)


def test_channels_last_is_chosen_for_convolutions_on_cuda_only():
    cnn, mlp = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)), torch.nn.Linear(2, 2)
    assert prefers_channels_last(cnn, torch.device("cuda"))
    assert not prefers_channels_last(mlp, torch.device("cuda"))
    assert not prefers_channels_last(cnn, torch.device("cpu"))


def test_a_channels_last_run_learns_as_the_standard_one_and_keeps_standard_weights(
    digits, tmp_path, monkeypatch
):
    config = {"epochs": 2, "batch_size": 64, "seed": 3, "optimizer": {"type": "Adam", "lr": 0.01}}
    plain = Trainer(digits_cnn(), digits, config).fit()
    monkeypatch.setattr(device_module, "prefers_channels_last", lambda module, device: True)
    layout = Layout()
    trainer = Trainer(digits_cnn(), digits, config, [layout])
    nhwc = trainer.fit()
    assert layout.channels_last
    assert nhwc.best["val_loss"] == pytest.approx(plain.best["val_loss"], rel=1e-3)
    kept = trainer.recipe.weights()
    assert all(tensor.is_contiguous() for tensor in kept.values())
    checkpoint.save_weights(trainer.model, tmp_path / "weights.safetensors")
    written = load_file(tmp_path / "weights.safetensors")
    assert torch.equal(written["conv2d1.weight"], trainer.model.conv2d1.weight.detach())


@pytest.mark.cuda
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_a_cnn_on_the_gpu_channels_last(digits, precision):
    layout = Layout()
    config = {"epochs": 3, "batch_size": 64, "device": "cuda", "precision": precision,
              "optimizer": {"type": "Adam", "lr": 0.01}}  # fmt: skip
    end = Trainer(digits_cnn(), digits, config, [layout]).fit()
    assert layout.channels_last
    assert end.best["val_accuracy"] > 0.8


@pytest.mark.cuda
def test_torch_compile_trains_on_the_gpu(digits):
    config = {"epochs": 2, "batch_size": 64, "device": "cuda", "precision": "auto",
              "compile": True, "optimizer": {"type": "Adam", "lr": 0.01}}  # fmt: skip
    end = Trainer(digits_cnn(), digits, config).fit()
    assert end.best["val_accuracy"] > 0.7


@pytest.mark.cuda
def test_data_reaches_the_gpu_through_pinned_non_blocking_copies():
    import numpy as np

    tensor = to_device(np.ones((4, 3), np.float32), torch.device("cuda"), (3,))
    torch.cuda.synchronize()
    assert tensor.is_cuda and float(tensor.sum()) == 12.0


@pytest.mark.cuda
def test_ddp_under_torchrun_trains_on_the_gpu(tmp_path):
    proj = project.Project({"model": digits_cnn()}, {"name": "digits", "params": {}},
                           {"epochs": 2, "batch_size": 64, "device": "cuda"})  # fmt: skip
    path = tmp_path / "digits.dwire"
    project.save(proj, path)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    processes = min(2, torch.cuda.device_count())
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={processes}", "-m", "engine", "train", str(path),
               "--out", str(tmp_path / "run"), "--no-progress"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("epoch 2/2") == 1
    assert "conv2d1.weight" in load_file(tmp_path / "run/weights.safetensors")
