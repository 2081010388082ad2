"""What recording per-layer statistics costs a training run (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_layer_stats.py [--epochs 8]

One Trainer run of the MLP of ``bench_trainer.py``, whose epochs alternate between
recording the per-layer weight and gradient statistics (``layers.csv``) and not
recording them, so that the load of a shared machine hits both alike. Prints the ratio
of their median epoch times (goal: under 1.03, that is under 3 % of training time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.bench_trainer import dataset, network
from engine.training import Callback, Trainer


class Toggle(Callback):
    """Records on odd epochs, not on even ones; times each epoch."""

    def __init__(self):
        self.times = {True: [], False: []}
        self.kept = None

    def on_epoch_start(self, trainer, epoch):
        recipe = trainer.recipe
        if self.kept is None:
            self.kept = recipe.layer_stats
        self.recording = epoch % 2 == 1
        recipe.layer_stats = self.kept if self.recording else None
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer, event):
        if event.epoch > 2:  # the first pair warms up
            self.times[self.recording].append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each kind")
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = dataset(args.samples, 64, 10)
    config = {"epochs": 2 * args.epochs + 2, "batch_size": args.batch_size, "device": "cpu",
              "loss": "CrossEntropyLoss", "optimizer": {"type": "Adam", "lr": 1e-3}}  # fmt: skip
    toggle = Toggle()
    Trainer(network(64, args.hidden, 10), data, config, [toggle]).fit()
    on, off = (statistics.median(toggle.times[k]) for k in (True, False))
    print(f"epoch with layer statistics (median of {len(toggle.times[True])}): {on * 1000:.1f} ms")
    print(f"epoch without (median of {len(toggle.times[False])}): {off * 1000:.1f} ms")
    print(f"ratio with / without: {on / off:.3f}  (goal < 1.03)")


if __name__ == "__main__":
    main()
