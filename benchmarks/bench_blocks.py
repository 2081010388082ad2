"""Blocks cost nothing noticeable to check and compile (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_blocks.py

On the bundled ResNet-18 (eight BasicBlock / BasicBlockDown instances) against the
same network flattened (every block replaced by its inside, as before blocks), in the
same run, alternating:
- the analysis the editor runs after each edit: after an edit outside the blocks (the
  instances' insides come from the cache) and after an edit inside a block type (every
  instance of every type is analysed again);
- compiling to a torch module, and writing its Python code.
Each line prints the median time of both and their ratio. Goals: an edit outside the
blocks costs less than flat (the cache); an edit inside a block type stays under 2 x
flat and under 50 ms (the editor analyses after every edit); compile and code under 2 x.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import project as project_file
from engine.analysis import analyze
from engine.codegen import generate_code
from engine.compile import compile_network
from engine.edits.blocks import flattened
from engine.resources import resources_dir

REPEATS = 15


def median_ms(action, repeats: int = REPEATS) -> float:
    """The median wall time of ``action()`` in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def compare(label: str, blocks_action, flat_action, repeats: int = REPEATS) -> None:
    """Time both, interleaved in rounds so that machine load hits both alike."""
    blocks, flat = [], []
    for _ in range(3):
        blocks.append(median_ms(blocks_action, repeats))
        flat.append(median_ms(flat_action, repeats))
    b, f = statistics.median(blocks), statistics.median(flat)
    print(f"{label:<44} blocks {b:8.1f} ms   flat {f:8.1f} ms   ratio {b / f:5.2f}")


def main() -> None:
    project = project_file.load(resources_dir() / "examples" / "resnet18.dwire")
    network = project.network
    flat = flattened(network)
    print(f"ResNet-18: {len(network)} nodes with blocks, {len(flat)} flattened")
    inside = project.blocks.get("BasicBlock").network
    bn = next(n.id for n in inside.nodes if n.type == "BatchNorm2d")

    def edit_outside(net):
        def action():
            net.set_params("fc", {"out_features": 10 + action.flip})
            action.flip ^= 1
            analyze(net)

        action.flip = 1
        return action

    def edit_inside():
        inside.set_params(bn, {"eps": 1e-5 if edit_inside.flip else 2e-5})
        edit_inside.flip ^= 1
        analyze(network)

    edit_inside.flip = 0
    compare("analysis after an edit outside the blocks", edit_outside(network), edit_outside(flat))
    compare("analysis after an edit inside a block type", edit_inside, edit_outside(flat))
    compare("compile", lambda: compile_network(network), lambda: compile_network(flat), 5)
    compare("Python code", lambda: generate_code(network), lambda: generate_code(flat), 5)


if __name__ == "__main__":
    main()
