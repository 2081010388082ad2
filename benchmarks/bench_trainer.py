"""An epoch of Deepwire's Trainer against a minimal hand-written PyTorch loop.

Same network (compiled from the same drawing), same in-memory data, same batch size,
optimizer and device, in the same process; epochs alternate between the two so that
machine load hits both alike. The goal is a ratio within 1.05. When PyTorch Lightning
is importable (it is not a dependency: ``pip install pytorch-lightning`` in any
environment with torch), its Trainer runs the same model and data the way its
documentation shows (a LightningModule and a DataLoader), and the ratio against it is
printed too (goal: faster).

    .venv/bin/python benchmarks/bench_trainer.py [--device cpu|cuda] [--epochs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks.alternate import alternate, ratios, sync
from engine.compile import compile_network
from engine.data.base import Raw
from engine.data.registry import COMMON_PARAMS, build
from engine.network import Network


def network(features: int, hidden: int, classes: int) -> Network:
    net = Network("bench")
    net.add_node("Input", {"shape": [features]}, node_id="input")
    previous = "input"
    for i, (kind, params) in enumerate([("Linear", {"out_features": hidden}), ("ReLU", {}),
                                        ("Linear", {"out_features": hidden}), ("ReLU", {}),
                                        ("Linear", {"out_features": classes})]):  # fmt: skip
        node = f"n{i}"
        net.add_node(kind, params, node_id=node)
        net.connect(previous, "out", node, "in")
        previous = node
    net.add_node("Output", node_id="output")
    net.connect(previous, "out", "output", "in")
    return net


def dataset(samples: int, features: int, classes: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(samples, features)).astype(np.float32)
    y = (x[:, :classes].argmax(axis=1)).astype(np.int64)
    raw = Raw(x, y, "classification", "tabular", [str(c) for c in range(classes)])
    return build("bench", raw, {**COMMON_PARAMS, "validation_split": 0.0})


def hand_epoch(model, x, y, batch_size, optimizer, loss_fn, epoch, device):
    """What a user would write: shuffle an index, slice, forward, backward, step."""
    model.train()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch)).to(device)
    total = 0.0
    for start in range(0, len(x), batch_size):
        idx = order[start : start + batch_size]
        xb, yb = x[idx], y[idx]
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    features, classes = 64, 10
    data = dataset(args.samples, features, classes)
    net = network(features, args.hidden, classes)
    config = {"epochs": 1, "batch_size": args.batch_size, "device": args.device,
              "loss": "CrossEntropyLoss", "optimizer": {"type": "Adam", "lr": 1e-3}}  # fmt: skip

    hand_model = compile_network(net).to(device)
    hand_opt = torch.optim.Adam(hand_model.parameters(), lr=1e-3)
    x = torch.from_numpy(data.x_train).to(device)
    y = torch.from_numpy(data.y_train).to(device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def hand(epoch):
        hand_epoch(hand_model, x, y, args.batch_size, hand_opt, loss_fn, epoch, device)

    config["epochs"] = args.epochs + 1
    trainer_times, hand_times = alternate(net, data, config, hand, device)
    t, h, _, _ = ratios(trainer_times, hand_times)
    best_t, best_h = min(trainer_times), min(hand_times)
    batches = -(-len(x) // args.batch_size)
    print(f"device {device}, {len(x)} samples, batch {args.batch_size}, {batches} batches/epoch")
    print(f"trainer epoch (median of {args.epochs}): {t * 1000:.1f} ms")
    print(f"hand loop epoch (median of {args.epochs}): {h * 1000:.1f} ms")
    print(
        f"ratio trainer / hand loop, medians: {t / h:.3f}; fastest epochs: {best_t / best_h:.3f}"
        "  (goal <= 1.05; on a busy machine trust the fastest)"
    )

    lightning = lightning_epoch_times(net, x, y, args, device)
    if lightning:
        lt = statistics.median(lightning)
        print(f"lightning epoch (median of {len(lightning)}): {lt * 1000:.1f} ms")
        print(f"ratio trainer / lightning, medians: {t / lt:.3f}  (goal < 1: faster)")
    else:
        print("pytorch_lightning is not installed: no comparison with Lightning")


def lightning_epoch_times(net, x, y, args, device) -> list[float]:
    """Epoch times of PyTorch Lightning's Trainer on the same network and data."""
    try:
        import pytorch_lightning as pl
    except ImportError:
        return []
    import logging

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = compile_network(net)
            self.loss = torch.nn.CrossEntropyLoss()

        def training_step(self, batch, _):
            xb, yb = batch
            return self.loss(self.model(xb), yb)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    times: list[float] = []

    class Timer(pl.Callback):
        def on_train_epoch_start(self, trainer, module):
            sync(device)
            self.start = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            sync(device)
            times.append(time.perf_counter() - self.start)

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x.cpu(), y.cpu()), batch_size=args.batch_size,
        shuffle=True,
    )  # fmt: skip
    trainer = pl.Trainer(
        max_epochs=args.epochs + 1, accelerator="gpu" if device.type == "cuda" else "cpu",
        devices=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=[Timer()],
    )  # fmt: skip
    trainer.fit(Module(), loader)
    return times[1:]


if __name__ == "__main__":
    main()
