"""Running training from the Training panel: start, pause, stop, follow, end.

``RunControl`` is mixed into ``TrainingPanel``: it owns the run (a ``TrainingRun`` in
its QThread), drains the batches on the panel's timer, and turns the run's end into
what the user sees: the results, the doctor's notes, and which weights are kept
(``outcome``). Each run writes into its own folder (``nodeeditor.run_folder``); the
weights of its best epoch become ``self.kept``, which File > Export offers. A run that
fails, is stopped or is closed keeps its last good weights.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from nodeeditor.panels.training import outcome
from nodeeditor.run_folder import new_run_folder, remove_if_empty

DOCTOR_EVERY = 2  # epochs between the doctor's looks while training
METRICS = {"classification": "accuracy", "regression": "r2"}


def ask_stop_training(parent, doing: str = "close") -> bool:
    """Ask whether to stop training and ``doing``; True for yes (tests patch this)."""
    answer = QMessageBox.question(
        parent,
        "Training is running",
        f"The network is still training. Stop training and {doing}?\n\nThe weights of "
        "the best epoch so far are kept in the run's folder.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class RunControl:
    """The training run of a ``TrainingPanel`` (expects its widgets, ``document``,
    ``window_``, ``timer``, ``gc``, ``plots``, ``results``, ``_say`` and the rest)."""

    def is_training(self) -> bool:
        """Whether a run is in progress."""
        return self.run is not None

    def start_training(self) -> None:
        """Start a run with the document's dataset and training sections."""
        from nodeeditor.training_thread import TrainingRun

        if self.run is not None or self.document is None:
            return
        self.ensure_built()
        project = self.document.project
        section = self.dataset_form.section()
        training = dict(project.training or {})
        self.history, self.task, self.paused = [], "", False
        self.started_at = time.perf_counter()
        self.plots.clear()
        self.results.clear()
        self.error_label.hide()
        self.warning_label.hide()
        self.notes.setText("")
        self.progress.setValue(0)
        self.progress.setFormat("loading the data and building the network…")
        self.run_dir, warning = new_run_folder(self.document.path)
        start = self.kept.state if self.kept and self.start_from_kept.isChecked() else None
        self._run_signature = dict(self.document.analysis.params)
        run = TrainingRun(self.document.network.copy(), section, training, self.base_dir(),
                          self.run_dir, start, self)  # fmt: skip
        worker = run.worker
        for signal, slot in self._connections(worker):
            signal.connect(slot)
        self.run = run
        self.gc.hold()  # released in _end_run
        self.window_.set_editing_locked(True)
        self._set_buttons(running=True)
        self.timer.start()
        run.start()
        self.training_started.emit()
        if warning:
            self._on_warning(warning)

    def _connections(self, worker) -> list:
        return [(worker.started, self._on_started), (worker.epoch_ended, self._on_epoch),
                (worker.paused, self._on_paused), (worker.warned, self._on_warning),
                (worker.finished, self._on_finished), (worker.failed, self._on_failed)]  # fmt: skip

    def set_kept(self, kept) -> None:
        """Make ``kept`` (``KeptWeights`` or None) the weights File > Export offers."""
        if kept is not None and kept.signature is None and self.document is not None:
            kept.signature = dict(self.document.analysis.params)
        self.kept = kept
        self.update_kept_label()
        if kept is None:
            self.start_from_kept.setChecked(False)
        self.start_from_kept.setEnabled(kept is not None and self.run is None)

    def update_kept_label(self, *_) -> None:
        """Say which weights are kept, and whether the network still fits them."""
        analysis = self.document.analysis if self.document is not None else None
        fits = self.kept is None or self.kept.fits(analysis)
        self.kept_label.setText(outcome.kept_text(self.kept, fits))
        self.show_files_button.setEnabled(self.kept is not None and self.kept.path is not None)

    def show_kept_files(self) -> None:
        """Open the folder of the kept weights in the desktop's file manager."""
        if self.kept is None or self.kept.path is None:
            return
        url = QUrl.fromLocalFile(str(self.kept.path.parent))
        if not QDesktopServices.openUrl(url):
            self._say(f"The kept weights are in {self.kept.path.parent}")

    def toggle_pause(self) -> None:
        """Pause, or resume a paused run."""
        if self.run is None:
            return
        self.paused = not self.paused
        self.run.set_paused(self.paused)
        self.pause_button.setText("Resume" if self.paused else "Pause")

    def stop_training(self) -> None:
        """Ask the run to stop before its next batch (the best weights are kept)."""
        if self.run is not None:
            self.run.stop()
            self.progress.setFormat("stopping…")

    def _on_started(self, event) -> None:
        self.task = event.task
        self.batches = event.batches_per_epoch
        self.epochs = event.epochs
        self.plots.clear(METRICS.get(event.task, ""), event.epochs)
        self.progress.setRange(0, max(1, event.epochs * event.batches_per_epoch))
        self.device_label.set_device(event.device)
        self.started_at = time.perf_counter()
        self.last_usage = self.started_at

    def _on_epoch(self, event) -> None:
        self.plots.add_epoch(event)
        self.history.append(event.row())
        if event.epoch % DOCTOR_EVERY == 0:
            from engine.training import diagnose

            self._show_notes(diagnose(self.history, self.task), final=False)

    def _on_warning(self, message: str) -> None:
        self.warning_label.setText(f"Warning: {message}")
        self.warning_label.setStyleSheet("color: #d68a00")
        self.warning_label.show()
        self._say(f"Warning: {message}")

    def _on_paused(self, paused: bool) -> None:
        if paused:
            self.progress.setFormat("paused — " + self.progress.format())

    def _tick(self) -> None:
        """Drain buffered batches, move the progress bar, redraw the curves."""
        if self.run is None:
            return
        events = self._drain()
        if events:
            self.plots.add_batches(events)
            self._show_progress(events[-1])
        self.plots.refresh()
        now = time.perf_counter()
        if now - self.last_usage > 1.0:
            self.last_usage = now
            self.device_label.update_usage()

    def _drain(self) -> list:
        buffer = self.run.worker.batches
        events = []
        while buffer:
            events.append(buffer.popleft())
        return events

    def _show_progress(self, event) -> None:
        done = (event.epoch - 1) * event.batches + event.batch
        self.progress.setValue(done)
        fraction = done / max(1, self.progress.maximum())
        elapsed = time.perf_counter() - self.started_at
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
        minutes, seconds = divmod(int(left), 60)
        state = "paused — " if self.paused else ""
        self.progress.setFormat(
            f"{state}epoch {event.epoch}/{self.epochs} · ETA {minutes}:{seconds:02d} · "
            f"{event.samples_per_s:,.0f} samples/s"
        )

    def _on_finished(self, end, results, kept) -> None:
        run = self._end_run()
        if run is None:
            return
        before = self.kept
        if kept is not None:
            kept.signature = self._run_signature  # the network as it was trained
            self.set_kept(kept)
        self.results.show_results(end, results)
        self.tabs.setCurrentWidget(self.results)
        self._show_notes(end.notes, final=True)
        self.progress.setValue(self.progress.maximum() if end.reason == "finished" else
                               self.progress.value())  # fmt: skip
        self.progress.setFormat(f"{end.reason.replace('_', ' ')} after {end.epochs_done} epoch(s)")
        summary = f"{self.results.summary.text().rstrip('.')}. {outcome.end_text(kept, before)}"
        self.results.summary.setText(summary)
        self._say(self.results.summary.text())
        self.training_ended.emit(end.reason)

    def _on_failed(self, message: str, kept) -> None:
        if self._end_run() is None:
            return
        text = outcome.failure_text(message, kept, self.kept)
        if kept is not None:
            kept.signature = self._run_signature  # the network as it was trained
            self.set_kept(kept)
        self.error_label.setText(text)
        self.error_label.setStyleSheet("color: #e5484d")
        self.error_label.show()
        self.progress.setFormat("failed")
        self.results.summary.setText(text)
        self._say(text)
        self.training_ended.emit("failed")

    def _end_run(self):
        run = self.run
        if run is None:
            return None
        if self.built:
            events = self._drain()
            self.plots.add_batches(events)
            self.plots.refresh_all()
        self.timer.stop()
        run.join()
        run.release()
        self.gc.release()
        self.run = None
        remove_if_empty(self.run_dir)
        self.paused = False
        self.device_label.clear_device()
        self.window_.set_editing_locked(False)
        self._set_buttons(running=False)
        return run

    def shutdown(self) -> None:
        """Stop a run and join its thread without waiting for result pictures."""
        run = self.run
        if run is None:
            return
        for signal, slot in self._connections(run.worker):
            signal.disconnect(slot)
        run.shutdown()
        self._end_run()
        self.progress.setFormat("stopped")

    def confirm_close(self, doing: str = "close") -> bool:
        """Before the window closes (or opens another project): ask while training, then
        stop cleanly; the run's best weights are written to its folder.

        Returns:
            False when the user wants to keep training.
        """
        if self.run is not None:
            if not ask_stop_training(self.window(), doing):
                return False
            self.shutdown()
        return True
