"""What a preview of every node's output for one sample costs (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_previews.py [--repeats 30] [--threads 2]

For a 100-node CNN (33 x Conv2d, BatchNorm2d, ReLU on 16 x 28 x 28 maps), a 103-node
residual MLP and ResNet-50 drawn flat (177 nodes, 32 x 32 images), times
``Probe.run`` on one sample (every node's output and its statistics), the pictures of
all those outputs (``render.picture``), and a plain forward of the same compiled model
on the same sample; probe and forward alternate so that the load of a shared machine
hits both alike. Prints medians in ms against the 50 ms goal and the probe / forward
ratio, and the CPU time of each (with ``--threads 1`` on a shared machine, what the
wall time would be on an idle core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.networks import flat_resnet50, residual_mlp
from engine.compile import compile_network
from engine.insight.probe import Probe
from engine.insight.render import picture
from engine.insight.samples import example_sample
from engine.network import Network

GOAL_MS = 50.0


def conv_stack(layers: int = 33, channels: int = 16, side: int = 28) -> Network:
    """Input -> ``layers`` x (Conv2d, BatchNorm2d, ReLU) -> pool -> Flatten -> Linear -> Output."""
    network = Network("cnn")
    network.add_node("Input", {"shape": [1, side, side]}, node_id="input")
    previous = "input"
    for index in range(layers):
        for kind, params in [
            ("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1}),
            ("BatchNorm2d", {}),
            ("ReLU", {}),
        ]:
            node_id = f"{kind.lower()}{index}"
            network.add_node(kind, params, node_id=node_id)
            network.connect(previous, "out", node_id, "in")
            previous = node_id
    tail = [("AdaptiveAvgPool2d", {"output_size": 1}), ("Flatten", {}),
            ("Linear", {"out_features": 10}), ("Output", {})]  # fmt: skip
    for kind, params in tail:
        node_id = kind.lower()
        network.add_node(kind, params, node_id=node_id)
        network.connect(previous, "out", node_id, "in")
        previous = node_id
    return network


def timed(call) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of ``call()`` (on one thread, the CPU time is
    what the wall time would be on an idle core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def measure(network: Network, repeats: int) -> dict:
    """Median ms of probe, pictures and plain forward on one made-up sample."""
    probe = Probe(network)
    sample = example_sample(network)
    model = compile_network(network).eval()
    arguments = [sample[node_id][None] for node_id in probe.inputs if node_id in sample]
    times = {"probe": [], "pictures": [], "forward": []}
    with torch.no_grad():
        for _ in range(3):  # warm up
            outputs = probe.run(sample)
            model(*arguments)
        for _ in range(repeats):
            times["probe"].append(timed(lambda: probe.run(sample)))
            times["forward"].append(timed(lambda: model(*arguments)))
            times["pictures"].append(
                timed(lambda: [picture(o.tensor, kind=o.kind) for o in outputs.values()])
            )
    medians = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {f"{k} cpu": statistics.median(t[1] for t in v) for k, v in times.items()}
    return {"nodes": len(network), **medians, **cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="samples timed per network")
    parser.add_argument("--threads", type=int, default=2, help="torch's intra-op threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch threads: {torch.get_num_threads()}; medians of {args.repeats} samples; "
          f"{os.cpu_count()} cores, load average {load:.1f}")  # fmt: skip
    networks = {"CNN": conv_stack(), "residual MLP": residual_mlp(20), "ResNet-50": flat_resnet50()}
    for name, network in networks.items():
        m = measure(network, args.repeats)
        verdict = "meets" if m["probe"] < GOAL_MS else "MISSES"
        print(
            f"{name} ({m['nodes']} nodes): probe {m['probe']:.1f} ms ({verdict} the "
            f"{GOAL_MS:.0f} ms goal), forward {m['forward']:.1f} ms, ratio "
            f"{m['probe'] / m['forward']:.2f}; pictures of every node {m['pictures']:.1f} ms\n"
            f"    CPU time: probe {m['probe cpu']:.1f} ms, forward {m['forward cpu']:.1f} ms, "
            f"pictures {m['pictures cpu']:.1f} ms"
        )


if __name__ == "__main__":
    main()
