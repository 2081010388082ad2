"""Training off the main thread: a QThread runs the engine's ``TrainingSession``.

``TrainingRun`` owns one QThread and one ``TrainingWorker`` moved into it. The worker
builds the session (it loads the dataset, imports torch and compiles the networks, so
the window never waits for it) and calls ``fit``; the session is the same object
``deepwire train`` drives, and this module only turns its events into Qt signals. Per-batch events are many (hundreds
a second), so the worker's callback appends them to a thread-safe buffer that the
panel drains from a timer; the few per-epoch events travel as queued Qt signals to
methods of main-thread objects (a lambda would run in the worker thread). After fit
the worker computes the result pictures (``engine.training.evaluate``) in the thread.

While the canvas shows live previews, ``WeightSnapshots`` hands them a CPU copy of the
weights at most every ``snapshot_every`` seconds (none otherwise).

Stopping: ``stop()`` asks the trainer to stop before its next batch; ``shutdown()``
also quits and joins the thread (quit first, then wait: see shared/PITFALLS.md #3).

Whatever ends the run (its end, a stop, a failure, the window closing), the trainer
leaves its last good weights in the model; the worker copies them into a
``KeptWeights`` (CPU tensors) when at least one epoch completed, and writes them to
``weights.safetensors`` in the run folder when there is one.
"""

from __future__ import annotations

import collections
import gc
import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from engine.errors import DeepwireError
from engine.training import Callback
from engine.training.core.adversarial import is_gan_row
from engine.training.session import WEIGHTS_FILE
from nodeeditor import warmup


@dataclass
class KeptWeights:
    """The last good weights of a run: those of its best completed epoch.

    Attributes:
        state: the model's state_dict as CPU tensors (keyed like the compiled module).
        epoch: the epoch they come from.
        metrics: that epoch's metrics (``val_accuracy``, ``val_loss``...).
        path: the ``weights.safetensors`` they were written to (or loaded from), or
            None (memory only).
        source: how they came, when not from a run (``loaded from w.safetensors``).
        signature: the parameter count of each node of the network they were made for
            (``Analysis.params``), to tell when the network has changed since.
    """

    state: dict
    epoch: int
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    source: str = ""
    signature: dict | None = None

    def fits(self, analysis) -> bool:
        """Whether the network ``analysis`` describes has the same weighted layers."""
        if self.signature is None or analysis is None:
            return True
        return weighted(self.signature) == weighted(analysis.params)

    def describe(self) -> str:
        """``epoch 3 (val accuracy 97.2%)``, or where they were loaded from."""
        if self.source:
            return self.source
        accuracy = self.metrics.get("val_accuracy")
        if accuracy is not None:
            return f"epoch {self.epoch} (val accuracy {accuracy * 100:.1f}%)"
        loss = self.metrics.get("val_loss", self.metrics.get("train_loss"))
        return (
            f"epoch {self.epoch} (loss {loss:.4g})" if loss is not None else f"epoch {self.epoch}"
        )

    def latest(self) -> bool:
        """Whether these are a GAN run's weights: those of its last epoch, as no loss
        of two networks trained against each other says which epoch is best."""
        return is_gan_row(self.metrics)

    def where(self) -> str:
        """Where they are: the file, or "in memory only"."""
        return str(self.path) if self.path else "in memory only"


def weighted(params: dict) -> dict:
    """The nodes that have weights, with their parameter counts."""
    return {node: count for node, count in params.items() if count}


class MainThreadGC(QObject):
    """Garbage collection only in the main thread while Python runs in other threads.

    A collection may start in whichever thread allocates; when it frees Qt objects of
    the main thread (closed windows, old widgets) from a worker thread, Qt can hang or
    crash (seen: the training thread blocked for good mid-import). While ``hold`` is in
    force, automatic collection is off and a main-thread timer collects the
    generations whose thresholds were passed (pyqtgraph's GarbageCollector does the
    same).
    """

    release_requested = Signal()  # from any thread: one ``release`` in the main thread

    def __init__(self, parent=None, interval_ms: int = 100):
        super().__init__(parent)
        self.release_requested.connect(self.release, Qt.ConnectionType.QueuedConnection)
        self.holds = 0
        self.was_enabled = True
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect)

    def hold(self) -> None:
        """Collect now, then only from the main thread until ``release``."""
        if self.holds == 0:
            self.was_enabled = gc.isenabled()
            gc.collect()
            gc.disable()
            self.timer.start()
        self.holds += 1

    def release(self) -> None:
        """End one ``hold``; automatic collection returns after the last one."""
        if self.holds == 0:
            return
        self.holds -= 1
        if self.holds == 0:
            self.timer.stop()
            if self.was_enabled:
                gc.enable()

    def collect(self) -> None:
        """Collect the generations whose thresholds were passed (cheap when none)."""
        counts, limits = gc.get_count(), gc.get_threshold()
        generation = -1
        for index in range(3):
            if counts[index] > limits[index]:
                generation = index
        if generation >= 0:
            gc.collect(generation)


_COLLECTOR: list[MainThreadGC] = []


def main_thread_gc() -> MainThreadGC:
    """The process's one ``MainThreadGC`` (create it from the main thread)."""
    if not _COLLECTOR:
        _COLLECTOR.append(MainThreadGC())
    return _COLLECTOR[0]


class BufferedEvents(Callback):
    """A training listener that hands events to the worker's signals and buffer."""

    def __init__(self, worker: TrainingWorker):
        self.worker = worker

    def on_train_start(self, trainer, event) -> None:
        self.worker.started.emit(event)

    def on_batch_end(self, trainer, event) -> None:
        self.worker.batches.append(event)  # deque.append is atomic

    def on_epoch_end(self, trainer, event) -> None:
        self.worker.epoch_ended.emit(event)

    def on_pause(self, trainer, paused: bool) -> None:
        self.worker.paused.emit(paused)

    def on_warning(self, trainer, message: str) -> None:
        self.worker.warned.emit(message)

    def on_view(self, trainer, view) -> None:
        self.worker.viewed.emit(view)

    def on_data_progress(self, session, event) -> None:
        self.worker.data_progress.emit(event.text())

    def on_data_loaded(self, session, text: str) -> None:
        self.worker.data_loaded.emit(text)


class WeightSnapshots(Callback):
    """Hands a CPU copy of the model's weights to the worker's ``snapshot`` signal after
    a batch, at most every ``worker.snapshot_every`` seconds (None: never), for the
    canvas's live previews; a large model's copies come further apart, so that copying
    takes at most ``COPY_SHARE`` of the training time."""

    COPY_SHARE = 0.02

    def __init__(self, worker: TrainingWorker):
        self.worker = worker
        self.last = 0.0
        self.cost = 0.0  # seconds the last copy took

    def on_batch_end(self, trainer, event) -> None:
        every = self.worker.snapshot_every
        if every is None:
            return
        now = time.monotonic()
        if now - self.last >= max(every, self.cost / self.COPY_SHARE):
            self.last = now
            state = trainer.recipe.weights()
            self.cost = time.monotonic() - now
            self.worker.snapshot.emit(state)


class TrainingWorker(QObject):
    """Loads, builds and trains in the thread it was moved to.

    Signals:
        started(TrainStart), epoch_ended(EpochEnd), paused(bool): from the trainer.
        viewed(GanView): what a GAN makes, after each epoch.
        warned(str): a problem that does not end training (checkpoints not written).
        finished(TrainEnd, dict, KeptWeights | None): training ended; the dict holds
            the result pictures; the kept weights are None when no epoch completed.
        failed(str, KeptWeights | None): one sentence (DataError, CompileError,
            TrainingError...) and the weights kept from before the failure.
        snapshot(dict): the weights so far as CPU tensors (``WeightSnapshots``).
    """

    started = Signal(object)
    epoch_ended = Signal(object)
    paused = Signal(bool)
    data_progress = Signal(str)  # how far reading the data is (a large folder)
    data_loaded = Signal(str)  # how the data is read: in memory, or streamed
    viewed = Signal(object)
    warned = Signal(str)
    finished = Signal(object, object, object)
    failed = Signal(str, object)
    snapshot = Signal(object)

    def __init__(self, project, base_dir=None, out_dir: Path | None = None,
                 init_state: dict | None = None):  # fmt: skip
        super().__init__()
        self.project = project
        self.base_dir = base_dir
        self.out_dir = out_dir
        self.init_state = init_state
        self.kept: KeptWeights | None = None  # set once training has ended
        self.batches: collections.deque = collections.deque()
        self.session = None
        self._stop = False
        self._pause = False
        self.closing = False
        self.snapshot_every: float | None = None  # seconds between weight snapshots

    @property
    def trainer(self):
        """The session's Trainer once built (its ``model`` holds the weights so far)."""
        return self.session.trainer if self.session is not None else None

    @Slot()
    def run(self) -> None:
        """Build the session, fit and evaluate; ends with ``finished`` or ``failed``."""
        warmup.wait()  # torch must not be imported from two threads at once
        from engine.training import TrainingSession
        from engine.training.evaluate import evaluate  # none for a GAN: its live view shows it

        try:
            session = TrainingSession(self.project, self.base_dir, self.out_dir,
                                      callbacks=[BufferedEvents(self), WeightSnapshots(self)],
                                      views=True)  # fmt: skip
            if self.init_state is not None:
                self._start_from(session, self.init_state)
            self.session = session
            if self._stop:
                session.stop()
            elif self._pause:
                session.pause()
            end = session.fit()
            kept = self.keep_weights()
            results = {} if self.closing else evaluate(session.trainer)
        except DeepwireError as error:
            self.failed.emit(str(error), self.keep_weights())
            return
        except Exception as error:  # the app must stay usable whatever torch raises
            first = str(error).strip().splitlines()[0] if str(error).strip() else ""
            message = f"training failed: {type(error).__name__} {first}".strip()
            self.failed.emit(message, self.keep_weights())
            return
        self.finished.emit(end, results, kept)

    def _start_from(self, session, state: dict) -> None:
        """Load the kept weights into the fresh model (the nodes that still fit)."""
        from engine.weights import load_matching_weights

        report = load_matching_weights(session.trainer.model, state)
        if report.skipped:
            fresh = ", ".join(report.skipped)
            self.warned.emit(
                f"started from the kept weights for {len(report.loaded)} node(s); these "
                f"changed since and start fresh: {fresh}"
            )

    def keep_weights(self) -> KeptWeights | None:
        """The session's last good weights (after ``fit``), written to the run folder."""
        session = self.session
        state = session.kept_state() if session is not None else None
        if state is None:
            return None
        trainer = session.trainer
        kept = KeptWeights(state, trainer.best_epoch, dict(trainer.best_row))
        if self.out_dir is not None:
            try:
                kept.path = session.write_weights()
            except OSError as error:
                path = self.out_dir / WEIGHTS_FILE
                self.warned.emit(
                    f"cannot write {path} ({error.strerror or error}); the weights are kept "
                    "in memory: export them with File > Export"
                )
        self.kept = kept
        return kept

    # from the main thread -----------------------------------------------------------
    def stop(self) -> None:
        """Stop before the next batch (or before starting)."""
        self._stop = True
        if self.session is not None:
            self.session.stop()

    def set_paused(self, paused: bool) -> None:
        """Pause or go on."""
        self._pause = paused
        if self.session is not None:
            (self.session.pause if paused else self.session.resume)()


class TrainingRun(QObject):
    """One training run in its own QThread; connect to ``worker``'s signals, then ``start``."""

    def __init__(self, project, base_dir=None, out_dir: Path | None = None,
                 init_state: dict | None = None, parent=None):  # fmt: skip
        super().__init__(parent)
        self.thread = QThread()
        self.thread.setObjectName("deepwire-training")
        self.worker = TrainingWorker(project, base_dir, out_dir, init_state)
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)

    def start(self) -> None:
        """Start the thread; the worker's ``run`` follows in it."""
        self.thread.start()

    @property
    def trainer(self):
        """The Trainer once built (its ``model`` keeps the weights so far), else None."""
        return self.worker.trainer

    def is_running(self) -> bool:
        """Whether the thread still runs."""
        return self.thread.isRunning()

    def stop(self) -> None:
        """Ask training to stop before its next batch."""
        self.worker.stop()

    def set_paused(self, paused: bool) -> None:
        """Pause (True) or resume (False)."""
        self.worker.set_paused(paused)

    def join(self, timeout_ms: int = 30_000) -> bool:
        """Quit the thread's event loop and wait for it; True when it has ended."""
        self.thread.quit()
        return self.thread.wait(timeout_ms)

    def release(self) -> None:
        """After ``join``: let go of the trainer, its model and data, and of the panel.

        Without this every finished run stayed alive as the panel's child, holding its
        model (on the GPU, too) and a copy of its dataset.
        """
        worker = self.worker
        worker.session = worker.project = worker.init_state = worker.kept = None
        worker.batches.clear()
        self.setParent(None)

    def shutdown(self) -> bool:
        """Stop training, skip the result pictures and join the thread."""
        self.worker.closing = True
        self.stop()
        return self.join()
