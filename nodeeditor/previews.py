"""View > Show Previews: every node of the network shown draws its output for one sample.

``Previews`` decides when to compute and on which weights; the work runs off the main
thread (``nodeeditor.preview_jobs``), one job at a time, and the canvas shows the
result (``NetworkScene.set_previews``: a picture under each node, the statistics in
the wires' tooltips).

- While editing: ``DELAY_MS`` after the last change of the network (moves do not
  count), on the kept weights of the last run when the network still fits them, else
  on random weights from a fixed seed (so that an edit changes only what it changes).
- While training: the training thread hands over a CPU copy of the weights at most
  every ``SNAPSHOT_S`` seconds (``TrainingWorker.snapshot``), only while previews are
  shown, and less often when a preview takes long (a large network), so that previews
  take at most ``PREVIEW_SHARE`` of a core; each is previewed in turn, a newer one
  replacing any that waits. The preview thread runs at a lower priority besides.
- After a run: the weights it kept.

The sample is validation sample ``index`` of the project's data (View > Preview
Sample…), or a made-up one for a network without data. A job asked for while another
runs waits for it; a result asked for before the latest change is dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QInputDialog

from nodeeditor import background
from nodeeditor.preview_jobs import PreviewJob, PreviewMaker
from nodeeditor.training_thread import main_thread_gc

DELAY_MS = 150
SNAPSHOT_S = 1.0
PREVIEW_SHARE = 0.05  # while training, previews take at most this share of one core
PREVIEW_NICE = 10


def network_signature(network, blocks) -> str:
    """What the previews of ``network`` depend on: its nodes, settings and wires and
    the block types, not where the nodes stand."""
    data = network.to_dict()
    for entry in data["nodes"]:
        entry.pop("pos", None)
        entry.pop("expanded", None)
    data["blocks"] = {block.name: block.to_dict() for block in blocks}
    return json.dumps(data, sort_keys=True, default=str)


def snapshot_interval(preview_seconds: float) -> float:
    """Seconds between weight snapshots while training, when a preview takes
    ``preview_seconds``: at least ``SNAPSHOT_S``, longer for a slow preview."""
    return max(SNAPSHOT_S, preview_seconds / PREVIEW_SHARE)


def weights_of(state: dict, name: str) -> dict:
    """The weights of network ``name`` in a run's state (a GAN keys them by network)."""
    prefix = f"{name}."
    if any(key.startswith(prefix) for key in state):
        return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
    return state


def yield_to_training() -> None:
    """Lower this thread's priority (Linux: each thread has its own nice value), so that
    on a busy machine a training run keeps its cores and the previews wait."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PREVIEW_NICE)


class Previews(QObject):
    """The previews of a MainWindow (see the module docstring).

    Signals:
        made(PreviewResult): from the worker thread; shown in the main thread.
        shown(): a result was put on the canvas (tests wait for it).
    """

    made = Signal(object)
    shown = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.enabled = False
        self.index = 0  # the validation sample shown
        self.maker = PreviewMaker()
        self.generation = 0
        self.busy = False
        self.pending = False
        self.asked: tuple | None = None  # what the last job was for (nothing new: no job)
        self.snapshot: tuple[int, dict] | None = None  # (count, state) while training
        self.training = False
        self.snapshot_every = SNAPSHOT_S
        self.note = ""
        self.gc = main_thread_gc()
        self._scene = None  # the canvas the previews are on
        self._document = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self.request)
        self.made.connect(self._on_made, Qt.ConnectionType.QueuedConnection)
        panel = window.training_panel
        panel.training_started.connect(self._on_training_started)
        panel.training_ended.connect(self._on_training_ended)
        panel.kept_changed.connect(self.schedule)
        window.document_changed.connect(self._on_document)

    # ----------------------------------------------------------------- user choices
    def set_enabled(self, enabled: bool) -> None:
        """Show previews (computed now) or take them away."""
        self.enabled = enabled
        self._set_snapshots()
        if enabled:
            self.request()
        else:
            self.timer.stop()
            self.generation += 1  # a job under way is dropped
            self.asked = None
            self._show(None)

    def set_sample(self, index: int) -> None:
        """Preview validation sample ``index``."""
        self.index = max(0, int(index))
        self.schedule()

    def ask_sample(self) -> None:
        """Ask which validation sample to preview (View > Preview Sample…)."""
        panel = self.window_.training_panel
        count = len(panel.dataset.x_val) if panel.dataset is not None else 0
        text = f"Validation sample (0 to {count - 1}):" if count else "Validation sample:"
        index, ok = QInputDialog.getInt(
            self.window_, "Preview Sample", text, self.index, 0, max(count - 1, 0) or 10**6
        )
        if ok:
            self.set_sample(index)
            if not self.enabled:
                self.window_.actions_by_name["show_previews"].setChecked(True)

    # ----------------------------------------------------------------- when to compute
    def schedule(self, *_) -> None:
        """Compute again ``DELAY_MS`` after the last of a burst of changes."""
        if self.enabled:
            self.timer.start()

    def request(self) -> None:
        """Start a job for the network shown now (or after the one under way)."""
        self.timer.stop()
        if not self.enabled or self.window_.document is None:
            return
        if self.busy:
            self.pending = True
            return
        job, asked = self._job()
        if asked == self.asked:
            return  # nothing the previews depend on changed (a node moved)
        self.asked = asked
        self.generation += 1
        job.generation = self.generation
        self.busy = True
        self.gc.hold()  # released when the job's thread ends
        background.start(self._work, job, name="previews")

    def _job(self) -> tuple[PreviewJob, tuple]:
        document = self.window_.document
        page = document.current
        network = page.network
        signature = network_signature(network, document.project.blocks)
        weights, weights_id = self._weights(page)
        section = document.project.dataset
        panel = self.window_.training_panel
        key = json.dumps(section, sort_keys=True, default=str)
        asked = (page.name, signature, weights_id, key, self.index)
        job = PreviewJob(
            0, network.copy(), hash(signature), weights, weights_id,
            section, document.base_dir, panel.dataset if section else None, self.index,
        )  # fmt: skip
        return job, asked

    def _weights(self, page) -> tuple:
        """(a function giving the weights to preview, their identity), or (None, None)."""
        if self.snapshot is not None:
            count, state = self.snapshot
            return (lambda: weights_of(state, page.name)), ("snapshot", count)
        kept = self.window_.training_panel.kept
        if self.training or kept is None or not kept.fits(page.analysis):
            return None, None
        return (lambda: weights_of(kept.state, page.name)), ("kept", id(kept))

    # ----------------------------------------------------------------- the worker
    def _work(self, job: PreviewJob) -> None:
        from nodeeditor import warmup

        try:
            yield_to_training()
            warmup.wait()  # torch must not be imported from two threads at once
            result = self.maker.make(job)
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # the window is gone
                    self.made.emit(result)
        finally:
            if not background.exiting():
                with contextlib.suppress(RuntimeError):
                    self.gc.release_requested.emit()

    def _on_made(self, result) -> None:
        self.busy = False
        if self.training:  # a slow preview (a large network) asks for fewer snapshots
            self.snapshot_every = snapshot_interval(result.seconds)
            self._set_snapshots()
        if result.generation == self.generation and self.enabled:
            self._show(result)
            if result.note != self.note and result.note:
                self.window_.show_message(result.note)
            self.note = result.note
        if self.pending:
            self.pending = False
            self.request()

    def _show(self, result) -> None:
        """Put ``result`` on the canvas of the network shown (None: clear it)."""
        scene = self._top_scene() if self.window_.document is not None else None
        if self._scene is not None and self._scene is not scene:
            with contextlib.suppress(RuntimeError):  # a canvas closed meanwhile
                self._scene.set_previews(None)
        self._scene = scene
        if scene is not None:
            scene.set_previews(*((result.nodes, result.ports) if result else (None, None)))
            if result is not None:
                self.shown.emit()

    def _top_scene(self):
        """The canvas of the current network itself (not of a block entered in it)."""
        view = self.window_.network_tabs.view_of(self.window_.document.current)
        if view is None:
            return None
        navigator = getattr(view, "navigator", None)
        return navigator.levels[0].scene if navigator is not None else view.scene()

    # ----------------------------------------------------------------- followed events
    def _on_document(self, document) -> None:
        if self._document is not None:
            for signal in (self._document.changed, self._document.current_changed):
                with contextlib.suppress(RuntimeError, TypeError):
                    signal.disconnect(self.schedule)
        self._document = document
        self._scene, self.asked, self.snapshot = None, None, None
        document.changed.connect(self.schedule)
        document.current_changed.connect(self.schedule)
        if self.enabled:
            self.request()

    def _on_training_started(self) -> None:
        self.training, self.snapshot, self.snapshot_every = True, None, SNAPSHOT_S
        worker = self.window_.training_panel.run.worker
        worker.snapshot.connect(self._on_snapshot, Qt.ConnectionType.QueuedConnection)
        self._set_snapshots()

    def _on_training_ended(self, *_) -> None:
        self.training, self.snapshot = False, None
        self.schedule()

    def _on_snapshot(self, state: dict) -> None:
        if self.training and self.enabled:
            count = self.snapshot[0] + 1 if self.snapshot else 1
            self.snapshot = (count, state)
            self.request()

    def _set_snapshots(self) -> None:
        """Ask the running training for weight snapshots only while previews are on."""
        run = self.window_.training_panel.run
        if run is not None:
            run.worker.snapshot_every = self.snapshot_every if self.enabled else None
