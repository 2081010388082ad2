"""What live previews cost a training run (run on demand, never in tests).

    .venv/bin/python benchmarks/bench_preview_training.py [--blocks 4] [--block 8] [--threads 2]

One run of the digits CNN example on its data whose epochs alternate, in blocks of
``--block`` epochs (a few seconds, so that previews come at their real rate rather than
at the start of every short epoch), between the app's preview path switched on and
off, so that the load of a shared machine hits both alike. On: the training thread's
``WeightSnapshots`` listener copies the weights to the CPU at most once a second (less
often when previews are slow), and a second thread, at a lower priority, previews each
copy as the app's controller does (``PreviewMaker``: every node's output for validation
sample 0, its statistics and its picture; one job at a time, the newest copy waiting).
Prints the mean epoch times, their ratio (goal: under 1.05, that is under 5 % of
training time) and the median time of one preview.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch
from PySide6.QtGui import QGuiApplication

from engine import project as project_file
from engine.training import Callback, TrainingSession
from nodeeditor.preview_jobs import PreviewJob, PreviewMaker
from nodeeditor.previews import SNAPSHOT_S, snapshot_interval, weights_of, yield_to_training
from nodeeditor.training_thread import WeightSnapshots

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "digits_cnn.dwire"
GOAL = 1.05


class Previewer:
    """Stands in for the app's worker signal and controller: previews the newest copy."""

    def __init__(self, project):
        self.project = project
        self.snapshot_every = None
        self.every = SNAPSHOT_S
        self.snapshot = self  # WeightSnapshots calls ``worker.snapshot.emit(state)``
        self.maker = PreviewMaker()
        self.waiting = None
        self.ready = threading.Condition()
        self.times: list[float] = []
        self.done = False
        threading.Thread(target=self._loop, daemon=True).start()

    def emit(self, state: dict) -> None:
        with self.ready:
            self.waiting = state
            self.ready.notify()

    def _loop(self) -> None:
        yield_to_training()  # as the app's preview thread does
        network = self.project.network
        while True:
            with self.ready:
                while self.waiting is None and not self.done:
                    self.ready.wait()
                if self.done:
                    return
                state, self.waiting = self.waiting, None
            job = PreviewJob(len(self.times), network.copy(), 1,
                             lambda state=state: weights_of(state, network.name), len(self.times),
                             self.project.dataset, None, None, 0)  # fmt: skip
            result = self.maker.make(job)
            self.times.append(result.seconds)
            self.every = snapshot_interval(result.seconds)  # as the app's controller does
            assert result.nodes, result.note


class Toggle(Callback):
    """Previews on in odd blocks of ``block`` epochs, off in even ones; times each epoch."""

    def __init__(self, previewer: Previewer, block: int):
        self.previewer, self.block = previewer, block
        self.times = {True: [], False: []}

    def on_epoch_start(self, trainer, epoch):
        block = (epoch - 1) // self.block
        self.on, self.warm = block % 2 == 0, block < 2  # the first pair warms up
        self.previewer.snapshot_every = self.previewer.every if self.on else None
        self.start = time.perf_counter()

    def on_epoch_end(self, trainer, event):
        if not self.warm:
            self.times[self.on].append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=4, help="blocks of each kind")
    parser.add_argument("--block", type=int, default=8, help="epochs per block")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _app = QGuiApplication([])  # the previews' QImages
    project = project_file.load(EXAMPLE)
    epochs = 2 * (args.blocks + 1) * args.block
    project.training = {**project.training, "epochs": epochs, "early_stopping": None}
    previewer = Previewer(project)
    toggle = Toggle(previewer, args.block)
    callbacks = [toggle, WeightSnapshots(previewer)]
    TrainingSession(project, EXAMPLE.parent, callbacks=callbacks).fit()
    previewer.done = True
    on, off = (statistics.mean(toggle.times[k]) for k in (True, False))
    print(f"epoch with previews (mean of {len(toggle.times[True])}): {on * 1000:.0f} ms")
    print(f"epoch without (mean of {len(toggle.times[False])}): {off * 1000:.0f} ms")
    print(f"ratio with / without: {on / off:.3f}  (goal < {GOAL})")
    if previewer.times:
        preview = statistics.median(previewer.times) * 1000
        print(f"one preview (median of {len(previewer.times)}): {preview:.0f} ms")


if __name__ == "__main__":
    main()
