"""Analysis of a 500-node network: it runs on every edit in the app (goal: well under 100 ms).

Run: .venv/bin/python benchmarks/bench_analysis.py
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.networks import residual_mlp
from engine.analysis import analyze
from engine.network import Network


def timed(function, repeats: int = 30) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    network = residual_mlp(100)
    analysis = analyze(network)
    assert analysis.ok, analysis.diagnostics[:3]
    times = timed(lambda: analyze(network))
    print(
        f"network: {len(network)} nodes, {len(network.wires)} wires, "
        f"{analysis.total_params:,} parameters"
    )
    print(
        f"analyze: median {statistics.median(times):.1f} ms, max {max(times):.1f} ms "
        f"(goal: well under 100 ms)"
    )
    billion = Network()
    billion.add_node("Input", {"shape": [4096]}, node_id="input")
    billion.add_node("Linear", {"out_features": 1_000_000_000}, node_id="huge")
    billion.add_node("Output", node_id="output")
    billion.connect("input", "out", "huge", "in")
    billion.connect("huge", "out", "output", "in")
    times = timed(lambda: analyze(billion))
    print(
        f"a Linear with 1e9 outputs: median {statistics.median(times):.3f} ms "
        f"({analyze(billion).total_params:,} parameters, nothing allocated)"
    )


if __name__ == "__main__":
    main()
