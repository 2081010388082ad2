"""Event-loop latency of the main window while the Training panel trains the digits MLP.

A 5 ms QTimer records the time between its ticks: idle first (the baseline), then
while ``resources/examples/digits_mlp.dwire`` trains in the panel with live curves.
A tick that comes late means the window would feel late. Goal: p99 below 16 ms (one
frame at 60 Hz). Also prints the training throughput seen in the panel.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui_latency.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK_MS = 5


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(app, seconds: float, keep_going=lambda: True) -> list[float]:
    """Milliseconds between the ticks of a 5 ms timer for ``seconds``."""
    from PySide6.QtCore import QTimer

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and keep_going():
        app.processEvents()
        time.sleep(0.0005)
    timer.stop()
    return gaps


def report(name: str, gaps: list[float]) -> tuple[float, float]:
    p50, p99 = percentile(gaps, 0.5), percentile(gaps, 0.99)
    print(
        f"{name:>9}: {len(gaps)} ticks, p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(gaps):.1f} ms"
    )
    return p50, p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["DEEPWIRE_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "settings.ini")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from nodeeditor.document import Document
    from nodeeditor.settings import Settings
    from nodeeditor.window import MainWindow

    # train a copy: the run folder goes beside the project, never into resources/examples
    project = Path(tempfile.mkdtemp()) / "digits_mlp.dwire"
    shutil.copy(ROOT / "resources/examples/digits_mlp.dwire", project)
    window = MainWindow(Document.open(project), Settings())
    window.resize(1400, 900)
    window.show()
    window.docks["training"].raise_()
    window.resizeDocks([window.docks["training"]], [450], Qt.Orientation.Vertical)
    panel = window.training_panel
    measure(app, 1.0)  # let the preview load
    idle = measure(app, 2.0)
    panel.training_form.epochs.setValue(100_000)
    panel.train_button.click()
    # torch import and network build happen in the worker; measure from the first batch
    measure(app, 60.0, lambda: panel.is_training() and not panel.plots.point_count("batch_loss"))
    began = time.perf_counter()
    training = measure(app, args.seconds, panel.is_training)
    elapsed = time.perf_counter() - began
    points = panel.plots.point_count("batch_loss")
    text = panel.progress.format()
    panel.stop_training()
    while panel.is_training():
        app.processEvents()
        time.sleep(0.005)
    print(f"device: {panel.device_label.text()}")
    report("idle", idle)
    _, p99 = report("training", training)
    slow = sorted(range(len(training)), key=training.__getitem__)[-5:]
    print("slowest ticks (index: ms):", ", ".join(f"{i}: {training[i]:.0f}" for i in sorted(slow)))
    print(f"batches drawn: {points} ({points / elapsed:.0f} per second); progress: {text}")
    print(f"p99 while training / goal 16 ms: {p99 / 16:.2f} ({'ok' if p99 < 16 else 'over'})")
    window.document.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
