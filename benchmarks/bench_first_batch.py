"""How long the first Train of a freshly started app takes to reach its first batch.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_first_batch [--runs N]``

Each run is a fresh interpreter that starts the real app (``run_app``) on a copy of the
digits MLP example, raises the Training tab, waits until the app is idle (the data
preview shown and, with the warm-up, torch and its compiler imported in the
background, then one more second), presses Train and times the press to the first
batch event of the training thread. ``cold`` runs switch the warm-up off
(``nodeeditor.warmup``), as the app was before it: the press then pays for importing
torch and ``torch._dynamo`` itself. Prints medians against the 2 s goal, how long the
warm-up took after the window was shown and how late a 10 ms timer of the window ran
meanwhile (the window's responsiveness during the warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "digits_mlp.dwire"
GOAL_S = 2.0
IDLE_S = 1.0

CHILD = r"""
import json, os, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from nodeeditor import training_thread, warmup
from nodeeditor.app import make_application, run_app

mode, idle_s = sys.argv[2], float(sys.argv[3])
if mode == "cold":
    warmup.start_soon = lambda *args, **kwargs: None
first, times = [], {}
on_batch_end = training_thread.BufferedEvents.on_batch_end
def first_batch(self, trainer, event):
    if not first:
        first.append(time.perf_counter())
    on_batch_end(self, trainer, event)
training_thread.BufferedEvents.on_batch_end = first_batch
app = make_application()

def window():
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "deepwire_main_window" and w.isVisible())

ticks = []
def wait_until_idle():
    ticks.append(time.perf_counter())  # the gaps say how well the window kept up
    panel = window().training_panel
    if panel is None or panel.dataset is None or (mode == "warm" and not warmup.done()):
        QTimer.singleShot(10, wait_until_idle)
        return
    times.setdefault("idle", time.perf_counter())
    QTimer.singleShot(int(idle_s * 1000), press_train)

def press_train():
    times["pressed"] = time.perf_counter()
    window().training_panel.train_button.click()
    wait_for_batch()

def wait_for_batch():
    if not first:
        QTimer.singleShot(5, wait_for_batch)
        return
    gaps = sorted(b - a - 0.010 for a, b in zip(ticks, ticks[1:]))
    print(json.dumps({"first_batch_s": first[0] - times["pressed"],
                      "shown_to_idle_s": times["idle"] - times["shown"],
                      "late_p99_ms": 1000 * gaps[int(0.99 * (len(gaps) - 1))],
                      "late_max_ms": 1000 * gaps[-1]}), flush=True)
    os._exit(0)  # the measurement is done; no need to stop the run politely

def start():
    times["shown"] = time.perf_counter()
    window().docks["training"].raise_()
    wait_until_idle()

QTimer.singleShot(0, start)
sys.exit(run_app([sys.argv[1]]))
"""


def one_run(mode: str) -> dict:
    """One fresh app, ``warm`` or ``cold``; returns the child's figures."""
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / EXAMPLE.name
        shutil.copy(EXAMPLE, project)
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            "DEEPWIRE_SETTINGS": f"{folder}/settings.ini",
            "DEEPWIRE_RECOVERY_DIR": f"{folder}/recovery",
            "DEEPWIRE_RUNS_DIR": f"{folder}/runs",
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(project), mode, str(IDLE_S)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"the app gave no figure: {done.stderr[-2000:]}")
    return json.loads(lines[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures = {mode: [one_run(mode) for _ in range(args.runs)] for mode in ("warm", "cold")}
    for mode, label in (("warm", "with the warm-up"), ("cold", "without it (cold)")):
        seconds = [run["first_batch_s"] for run in figures[mode]]
        median = statistics.median(seconds)
        verdict = "within" if median <= GOAL_S else "OVER"
        print(
            f"Train -> first batch {label}: median {median:.2f} s "
            f"({', '.join(f'{s:.2f}' for s in seconds)}); {median / GOAL_S:.2f}x the "
            f"{GOAL_S:g} s goal, {verdict}"
        )
    for mode, what in (("warm", "warm-up done"), ("cold", "without it, data shown")):
        runs = figures[mode]
        print(
            f"{what} {statistics.median(r['shown_to_idle_s'] for r in runs):.2f} s after the "
            "window was shown; meanwhile a 10 ms timer of the window ran late by "
            f"{statistics.median(r['late_p99_ms'] for r in runs):.0f} ms (p99), "
            f"{statistics.median(r['late_max_ms'] for r in runs):.0f} ms at most (medians)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
