"""Auto-layout speed and readability on big networks (run on demand, never in tests).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_layout.py

Prints:
- the median and worst time to lay out a 503-node residual network (goal < 200 ms);
- for a flat ResNet-50 (177 nodes) in both directions: the bounding box aspect
  (goal <= 4:1) and the number of overlapping node pairs (goal 0);
- the zoom Fit chooses for the laid-out ResNet-50 in a 1100 x 700 canvas (goal >= 0.4).
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.networks import flat_resnet50, residual_mlp
from engine.layout import NODE_HEIGHT, NODE_WIDTH, layered_positions

REPEATS = 20


def layout_time() -> None:
    """Time layered_positions on 503 nodes."""
    network = residual_mlp(100)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        layered_positions(network)
        times.append((time.perf_counter() - start) * 1000)
    median, worst = statistics.median(times), max(times)
    print(f"layout {len(network)} nodes: median {median:.1f} ms, worst {worst:.1f} ms"
          f" ({median / 200:.2f} x the 200 ms goal)")  # fmt: skip


def readability() -> None:
    """Aspect and overlaps of the flat ResNet-50 in both directions."""
    network = flat_resnet50()
    for direction in ("LR", "TB"):
        positions = layered_positions(network, direction=direction)
        xs = [x for x, _ in positions.values()]
        ys = [y for _, y in positions.values()]
        width, height = max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + NODE_HEIGHT
        overlaps = sum(
            abs(a[0] - b[0]) < NODE_WIDTH and abs(a[1] - b[1]) < NODE_HEIGHT
            for a, b in itertools.combinations(positions.values(), 2)
        )
        print(f"ResNet-50 ({len(network)} nodes) {direction}: {width:.0f} x {height:.0f} px,"
              f" aspect {max(width, height) / min(width, height):.2f}:1, {overlaps} overlaps")  # fmt: skip


def fit_zoom() -> None:
    """The zoom of Fit on the auto-laid-out ResNet-50."""
    from PySide6.QtWidgets import QApplication

    from engine.project import Project
    from nodeeditor.canvas.scene import NetworkScene
    from nodeeditor.canvas.view import NetworkView
    from nodeeditor.document import Document

    app = QApplication.instance() or QApplication([])
    document = Document(Project({"resnet50": flat_resnet50()}))
    scene = NetworkScene(document)
    view = NetworkView(scene)
    view.resize(1100, 700)
    view.show()
    app.processEvents()
    view.auto_layout()
    view.fit()
    print(f"Fit zoom on ResNet-50 in 1100 x 700: {view.zoom():.2f} (goal >= 0.4)")
    scene.detach()


if __name__ == "__main__":
    layout_time()
    readability()
    fit_zoom()
