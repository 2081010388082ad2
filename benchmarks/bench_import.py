"""Importing a ResNet-50 written in PyTorch (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_import.py [--image 224]

The model is the flat ResNet-50 of ``benchmarks/networks.py`` written as PyTorch code
by ``deepwire code`` (torchvision's layers and shapes), imported with ``import_model``.
Prints the median import time (goal: under 3 s on 2 cores) and, as a reference measured
in the same run, the floor any import pays: constructing the model, tracing it with
torch.fx and running it once on the example batch. Their ratio shows what the import
adds on top.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from benchmarks.networks import flat_resnet50
from engine.codegen import generate_code
from engine.importer import import_model

ROUNDS = 3


def floor_seconds(model_class, image: int) -> float:
    """Construct, trace and run the model once: what any import must do."""
    start = time.perf_counter()
    model = model_class().eval()
    traced = torch.fx.symbolic_trace(model)
    with torch.no_grad():
        traced(torch.randn(2, 3, image, image))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=int, default=224, help="input size (default 224)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    source = generate_code(flat_resnet50(args.image), "ResNet50")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet50.py"
        path.write_text(source)
        namespace: dict = {}
        exec(compile(source, str(path), "exec"), namespace)
        imports, floors = [], []
        for _ in range(ROUNDS):
            floors.append(floor_seconds(namespace["ResNet50"], args.image))
            start = time.perf_counter()
            result = import_model(f"{path}:ResNet50", input_shapes=[(3, args.image, args.image)])
            imports.append(time.perf_counter() - start)
    nodes = len(result.network)
    took, floor = statistics.median(imports), statistics.median(floors)
    print(f"ResNet-50 at {args.image}x{args.image}: {nodes} nodes after import")
    print(f"import: median {took:.2f} s ({took / 3:.2f} x the 3 s goal)")
    print(
        f"floor (construct, trace, one forward): {floor:.2f} s; import / floor {took / floor:.1f}"
    )


if __name__ == "__main__":
    main()
