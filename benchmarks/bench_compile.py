"""A training step of the compiled GraphModule against the same network written by hand.

Both run in this process, interleaved, on the same data (goal: ratio within 1.02).
Run: .venv/bin/python benchmarks/bench_compile.py
"""

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.compile import compile_network
from tests.engine.references import CASES, copy_weights


def step_time(model, x, optimizer, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        model(x).square().mean().backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def measure(name: str, rounds: int = 7, steps: int = 20) -> float:
    build, reference_class, make_input = CASES[name]
    torch.manual_seed(0)
    compiled = compile_network(build())
    reference = reference_class()
    copy_weights(compiled, reference)
    x = torch.cat([make_input() for _ in range(52)])  # batch of 260
    optimizers = [torch.optim.SGD(m.parameters(), lr=1e-3) for m in (compiled, reference)]
    for model, optimizer in zip((compiled, reference), optimizers):
        step_time(model, x, optimizer, 5)  # warm-up
    ratios = []
    for _ in range(rounds):
        ours = step_time(compiled, x, optimizers[0], steps)
        theirs = step_time(reference, x, optimizers[1], steps)
        ratios.append(ours / theirs)
    ratio = statistics.median(ratios)
    print(
        f"{name:12s} compiled/hand-written step time: {ratio:.3f} "
        f"(hand-written {theirs * 1000:.2f} ms/step)"
    )
    return ratio


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    ratios = [measure(name) for name in CASES]
    print(f"worst ratio {max(ratios):.3f} (goal: within 1.02)")


if __name__ == "__main__":
    main()
