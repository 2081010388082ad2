"""Where the time of importing and exporting a big model goes, stage by stage.

    .venv/bin/python benchmarks/bench_stages.py [--model FILE.py:CLASS --input-shape 3,224,224]

Imports the model with ``import_to_files`` (the child process that ``deepwire import``
and File > Import Model… use) and exports the result to ONNX with ``export``, timing
each ``engine.progress`` stage they report: the stages the command line and the app
show while a big model is imported or exported. Without ``--model`` it imports the
torchvision-style ResNet-50 of ``bench_import.py`` (its ``Bottleneck`` modules become
blocks). A model of another library (torchvision's ``densenet121``) needs an
environment that has it, such as the side environment of ``bench_import_models.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_import import TORCHVISION_STYLE
from engine import project
from engine.cli import build_parser
from engine.commands.importing import import_to_files
from engine.export import export


class StageClock:
    """A progress function that adds up the seconds of each stage (counted steps of
    one stage are one stage)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.current, self.since = None, time.perf_counter()

    def __call__(self, event) -> None:
        if event.stage != self.current:
            self.stop()
            self.current = event.stage

    def stop(self) -> None:
        """End the stage running now."""
        now = time.perf_counter()
        if self.current is not None:
            self.seconds[self.current] = self.seconds.get(self.current, 0.0) + now - self.since
        self.current, self.since = None, now


def timed(work) -> tuple[dict[str, float], float]:
    """Run ``work(progress)``; the seconds of each stage, and of all of it."""
    clock, started = StageClock(), time.perf_counter()
    work(clock)
    clock.stop()
    return clock.seconds, time.perf_counter() - started


def show(title: str, seconds: dict[str, float], total: float) -> None:
    """Print one table: each stage's seconds and share of the total."""
    print(f"{title}: {total:.1f} s")
    for stage, spent in seconds.items():
        print(f"  {stage:<52} {spent:6.1f} s  {spent / total:4.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="FILE.py:CLASS or model.onnx (default: a ResNet-50)")
    parser.add_argument("--input-shape", default="3,224,224")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deepwire-stages-") as folder:
        model = args.model
        if model is None:
            source = Path(folder) / "resnet.py"
            source.write_text(TORCHVISION_STYLE, encoding="utf-8")
            model = f"{source}:ResNet50"
        out, weights = Path(folder) / "model.dwire", Path(folder) / "model.safetensors"
        request = build_parser().parse_args(
            ["import", model, "--input-shape", args.input_shape, "-o", str(out),
             "--weights-out", str(weights)]
        )  # fmt: skip
        seconds, total = timed(lambda progress: import_to_files(request, progress))
        show(f"import {model}", seconds, total)
        network = project.load(out).network
        target = Path(folder) / "m.onnx"
        seconds, total = timed(lambda progress: export(network, "onnx", target, weights,
                                                        progress=progress))  # fmt: skip
        show("export to ONNX", seconds, total)


if __name__ == "__main__":
    main()
