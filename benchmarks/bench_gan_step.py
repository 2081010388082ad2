"""An epoch of Deepwire's adversarial recipe against a hand-written PyTorch GAN loop.

Two GANs, drawn with ``engine.network.Network``: an MLP generator and discriminator on
``rings`` (2-D points), and a small DCGAN on the 8x8 ``digits``. For each, the
``Trainer`` (``engine.training.core.adversarial.Adversarial``) and the loop of the
PyTorch DCGAN tutorial (a discriminator step on real then fake, binary cross-entropy,
then the generator's non-saturating step on the same fakes; Adam with beta1 0.5) train
the same compiled networks on the same data, batch size and device, in the same
process; epochs alternate between the two so that machine load hits both alike. The
goal is a ratio within 1.10 for each network (PASS when the ratio of the median epochs and
that of the fastest both reach it). On CUDA, ``--precision bf16|fp16`` runs
both under autocast (fp16 with a GradScaler per network, as the recipe does).

    .venv/bin/python benchmarks/bench_gan_step.py [--device cpu|cuda] [--precision fp32]
        [--epochs 5] [--gan rings|digits|both] [--threads N]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.alternate import alternate, ratios
from engine.compile import compile_network
from engine.data import load_dataset
from engine.network import Network

NOISE = {"rings": 16, "digits": 32}
GOAL = 1.10


def chain(name: str, input_shape, layers) -> Network:
    """Input -> layers -> Output; ``layers`` are ``(type, params)`` pairs."""
    net = Network(name)
    net.add_node("Input", {"shape": list(input_shape)}, node_id="input")
    previous = "input"
    for i, (kind, params) in enumerate(layers):
        node = f"n{i}"
        net.add_node(kind, params, (200.0 * (i + 1), 0.0), node)
        net.connect(previous, "out", node, "in")
        previous = node
    net.add_node("Output", pos=(200.0 * (len(layers) + 1), 0.0), node_id="output")
    net.connect(previous, "out", "output", "in")
    return net


def mlp_gan(hidden: int = 128) -> dict[str, Network]:
    """Generator noise -> 2-D point, discriminator 2-D point -> logit (GAN Lab's sizes)."""
    leaky = ("LeakyReLU", {"negative_slope": 0.2})
    generator = chain("generator", [NOISE["rings"]], [
        ("Linear", {"out_features": hidden}), ("ReLU", {}),
        ("Linear", {"out_features": hidden}), ("ReLU", {}),
        ("Linear", {"out_features": 2})])  # fmt: skip
    discriminator = chain("discriminator", [2], [
        ("Linear", {"out_features": hidden}), leaky,
        ("Linear", {"out_features": hidden}), leaky,
        ("Linear", {"out_features": 1})])  # fmt: skip
    return {"generator": generator, "discriminator": discriminator}


def dcgan() -> dict[str, Network]:
    """A DCGAN for 8x8 images: 2x2 -> 4x4 -> 8x8 by transposed convolutions, and back."""
    leaky = ("LeakyReLU", {"negative_slope": 0.2})
    up = {"kernel_size": 4, "stride": 2, "padding": 1}
    generator = chain("generator", [NOISE["digits"]], [
        ("Linear", {"out_features": 128 * 2 * 2}), ("BatchNorm1d", {}), ("ReLU", {}),
        ("Reshape", {"shape": [128, 2, 2]}),
        ("ConvTranspose2d", {"out_channels": 64, **up}), ("BatchNorm2d", {}), ("ReLU", {}),
        ("ConvTranspose2d", {"out_channels": 1, **up})])  # fmt: skip
    discriminator = chain("discriminator", [1, 8, 8], [
        ("Conv2d", {"out_channels": 64, **up}), leaky,
        ("Conv2d", {"out_channels": 128, **up}), ("BatchNorm2d", {}), leaky,
        ("Flatten", {}), ("Linear", {"out_features": 1})])  # fmt: skip
    return {"generator": generator, "discriminator": discriminator}


def project(name: str, samples: int):
    """``(networks, dataset section)`` of the GAN called ``name``."""
    if name == "rings":
        params = {"n_samples": samples, "validation_split": 0.0}
        return mlp_gan(), {"name": "rings", "params": params}
    return dcgan(), {"name": "digits", "params": {"validation_split": 0.0}}


class HandGan:
    """The PyTorch DCGAN tutorial's training loop, on its own copy of the networks."""

    def __init__(self, networks, x, noise: int, device, precision: str):
        self.g = compile_network(networks["generator"]).to(device)
        self.d = compile_network(networks["discriminator"]).to(device)
        self.g_opt = torch.optim.Adam(self.g.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.d_opt = torch.optim.Adam(self.d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = torch.nn.BCEWithLogitsLoss()
        self.x, self.noise, self.device, self.precision = x, noise, device, precision
        fp16 = precision == "fp16"
        self.g_scaler = torch.amp.GradScaler(device.type) if fp16 else None
        self.d_scaler = torch.amp.GradScaler(device.type) if fp16 else None

    def autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def backward_step(self, loss, optimizer, scaler) -> None:
        if scaler is None:
            loss.backward()
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()

    def epoch(self, epoch: int, batch_size: int) -> float:
        """One pass over the data: per batch a D step (real, then fake), then a G step."""
        self.g.train()
        self.d.train()
        order = torch.randperm(len(self.x), generator=torch.Generator().manual_seed(epoch))
        order = order.to(self.device)
        total = 0.0
        for start in range(0, len(self.x), batch_size):
            real = self.x[order[start : start + batch_size]]
            n = len(real)
            self.d.zero_grad(set_to_none=True)
            with self.autocast():
                label = torch.ones(n, device=self.device)
                d_real = self.criterion(self.d(real).view(-1), label)
                fake = self.g(torch.randn(n, self.noise, device=self.device)).view(real.shape)
                d_fake = self.criterion(self.d(fake.detach()).view(-1), label * 0)
                d_loss = d_real + d_fake
            self.backward_step(d_loss, self.d_opt, self.d_scaler)
            self.g.zero_grad(set_to_none=True)
            with self.autocast():
                g_loss = self.criterion(self.d(fake).view(-1), label)  # non-saturating
            self.backward_step(g_loss, self.g_opt, self.g_scaler)
            total += d_loss.item() + g_loss.item()
        return total


def measure(name: str, args) -> tuple[float, float]:
    """Median and fastest-epoch ratios, Trainer over the hand loop, for GAN ``name``."""
    device = torch.device(args.device)
    networks, section = project(name, args.samples)
    data = load_dataset(section)
    adversarial = {"generator": "generator", "discriminator": "discriminator"}
    config = {"recipe": "adversarial", "epochs": args.epochs + 1, "batch_size": args.batch_size,
              "device": args.device, "precision": args.precision, "adversarial": adversarial}  # fmt: skip
    x = torch.from_numpy(data.x_train).to(device)
    hand = HandGan(networks, x, NOISE[name], device, args.precision)
    trainer_times, hand_times = alternate(
        networks, data, config, lambda epoch: hand.epoch(epoch, args.batch_size), device
    )
    t, h, _, fastest = ratios(trainer_times, hand_times)
    batches = -(-len(x) // args.batch_size)
    print(f"{name}: {len(x)} samples of {tuple(x.shape[1:])}, batch {args.batch_size}, "
          f"{batches} batches/epoch")  # fmt: skip
    print(f"  trainer epoch (median of {len(trainer_times)}): {t * 1000:.1f} ms")
    print(f"  hand loop epoch (median of {len(hand_times)}): {h * 1000:.1f} ms")
    verdict = {2: "PASS", 0: "MISS"}.get(
        (t / h <= GOAL) + (fastest <= GOAL), "UNCLEAR: the two disagree, rerun on a quieter machine"
    )
    print(f"  ratio trainer / hand loop, medians: {t / h:.3f}; fastest epochs: {fastest:.3f}"
          f"  (goal <= {GOAL}: {verdict})")  # fmt: skip
    return t / h, fastest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16"),
                        help="bf16 and fp16 need CUDA")  # fmt: skip
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--samples", type=int, default=20000, help="rings points (default 20000)")
    parser.add_argument("--gan", default="both", choices=("rings", "digits", "both"))
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.precision != "fp32" and not args.device.startswith("cuda"):
        parser.error("--precision bf16 and fp16 need --device cuda")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device {args.device}, precision {args.precision}, torch threads "
          f"{torch.get_num_threads()}")  # fmt: skip
    for name in ("rings", "digits") if args.gan == "both" else (args.gan,):
        measure(name, args)


if __name__ == "__main__":
    main()
