"""ResNet-18 on 64x64 images on a GPU: Deepwire's Trainer against a hand-written AMP loop.

The network is the bundled ``resnet18.dwire`` (11.2 M weights, 3x64x64 input, 10
classes), the data random images held on the GPU, as both loops take them. The hand
loop is what the PyTorch AMP recipe shows: the same compiled module, channels-last,
``torch.autocast`` in bf16 (fp16 with a GradScaler where bf16 is missing), SGD with
momentum, the same batch size. Epochs alternate between the two in one process so that
the load hits both alike. Prints images/s of each, the ratio (goal >= 0.9) and the peak
GPU memory of each.

    .venv/bin/python benchmarks/bench_gpu.py [--samples 20000] [--batch-size 256] [--epochs 4]

Without a CUDA GPU it says so and exits 0, so ``make bench`` still runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks.alternate import alternate, ratios
from engine import project as project_file
from engine.compile import compile_network
from engine.data.base import Raw
from engine.data.registry import COMMON_PARAMS, build

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "resnet18.dwire"


def images(samples: int, classes: int = 10):
    """Random 3x64x64 images with labels, as a Deepwire dataset (no validation part)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, 3, 64, 64)).astype(np.float32)
    y = rng.integers(0, classes, size=samples).astype(np.int64)
    raw = Raw(x, y, "classification", "image", [str(c) for c in range(classes)])
    return build("bench", raw, {**COMMON_PARAMS, "validation_split": 0.0, "normalize": False})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA GPU here: the GPU benchmark needs one (nothing measured)")
        return
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    network = project_file.load(EXAMPLE).network
    data = images(args.samples)

    hand_model = compile_network(network).to(device).to(memory_format=torch.channels_last)
    hand_opt = torch.optim.SGD(hand_model.parameters(), lr=0.1, momentum=0.9)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    x = torch.from_numpy(data.x_train).to(device)
    y = torch.from_numpy(data.y_train).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()
    peaks = {"hand": 0}

    def hand(epoch):
        torch.cuda.reset_peak_memory_stats()
        hand_model.train()
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), args.batch_size):
            idx = order[start : start + args.batch_size]
            xb = x[idx].contiguous(memory_format=torch.channels_last)
            with torch.autocast("cuda", dtype=dtype):
                loss = loss_fn(hand_model(xb), y[idx])
            hand_opt.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                hand_opt.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(hand_opt)
                scaler.update()
        peaks["hand"] = max(peaks["hand"], torch.cuda.max_memory_allocated())
        torch.cuda.reset_peak_memory_stats()

    config = {"epochs": args.epochs + 1, "batch_size": args.batch_size, "device": "cuda",
              "precision": precision, "loss": "CrossEntropyLoss",
              "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9}}  # fmt: skip
    torch.cuda.reset_peak_memory_stats()
    trainer_times, hand_times = alternate(network, data, config, hand, device)
    trainer_peak = torch.cuda.max_memory_allocated()
    t, h, median_ratio, fastest_ratio = ratios(trainer_times, hand_times)
    print(f"{torch.cuda.get_device_name()}, {precision}, channels-last, batch {args.batch_size}, "
          f"{len(x)} images of 3x64x64 held on the GPU")  # fmt: skip
    print(f"deepwire: {len(x) / t:,.0f} images/s (median of {args.epochs} epochs)")
    print(f"hand AMP loop: {len(x) / h:,.0f} images/s")
    print(f"ratio deepwire / hand, images/s: {1 / median_ratio:.3f} (medians), "
          f"{1 / fastest_ratio:.3f} (fastest epochs)  (goal >= 0.9)")  # fmt: skip
    print(f"peak GPU memory: deepwire {trainer_peak / 2**30:.2f} GiB (data included), "
          f"hand loop {peaks['hand'] / 2**30:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
