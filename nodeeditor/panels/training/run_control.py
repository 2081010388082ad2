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

from engine.errors import DeepwireError
from engine.training.core.adversarial import GENERATION
from nodeeditor.panels.training import outcome
from nodeeditor.panels.training.status_bar import paused_texts, running_texts
from nodeeditor.run_folder import new_run_folder, remove_if_empty

DOCTOR_EVERY = 2  # epochs between the doctor's looks while training
METRICS = {"classification": "accuracy", "regression": "r2"}


def training_project(project, shown, section: dict, training: dict):
    """A snapshot of what a run trains: both networks of a GAN, else the network shown.

    The snapshot is independent of the document, which stays editable in principle
    while the run reads its copy.
    """
    from engine.project import Project, adversarial_networks

    if adversarial_networks(training) is not None:
        networks = {name: network.copy() for name, network in project.networks.items()}
    else:
        networks = {shown.name: shown.copy()}
    return Project(networks, section, training)


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
        self.last_view = None
        self.started_at = time.perf_counter()
        self.plots.clear()
        self._show_plots_for_recipe()
        self.results.clear()
        self.mistakes.clear("Training…")
        self.error_label.hide()
        self.warning_label.hide()
        self.notes.setText("")
        self.progress.setValue(0)
        self.progress.set_status("loading the data and building the network…", "loading…")
        start, failure = self._start_state()
        if failure:
            self._show_failure(failure)
            return
        self.run_dir, warning = new_run_folder(self.document.path)
        trained = training_project(project, self.document.network, section, training)
        single = len(trained.networks) == 1
        self._run_signature = dict(self.document.analysis.params) if single else None
        run = TrainingRun(trained, self.base_dir(), self.run_dir, start, self)
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

    def _start_state(self) -> tuple[dict | None, str]:
        """(the weights to start from or None, "" or why they cannot be read)."""
        if self.kept is None or not self.start_from_kept.isChecked():
            return None, ""
        try:
            return self.kept.state, ""
        except DeepwireError as error:  # kept weights of an earlier run, damaged since
            return None, f"Cannot start from the kept weights: {error}"

    def _connections(self, worker) -> list:
        return [(worker.started, self._on_started), (worker.epoch_ended, self._on_epoch),
                (worker.paused, self._on_paused), (worker.warned, self._on_warning),
                (worker.data_progress, self._on_data_progress),
                (worker.data_loaded, self._on_data_loaded),
                (worker.viewed, self.show_view),
                (worker.finished, self._on_finished), (worker.failed, self._on_failed)]  # fmt: skip

    def set_kept(self, kept) -> None:
        """Make ``kept`` (``KeptWeights`` or None) the weights File > Export offers."""
        if kept is not None and kept.signature is None and self.document is not None:
            kept.signature = dict(self.document.analysis.params)
        self.kept = kept
        self.update_kept_label()
        self.kept_changed.emit(kept)
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
        now = time.perf_counter()
        if self.paused:
            self.paused_at = now
        else:  # the ETA counts training time only
            self.started_at += now - self.paused_at
        self.run.set_paused(self.paused)
        self.pause_button.setText("Resume" if self.paused else "Pause")
        self._show_status()

    def stop_training(self) -> None:
        """Ask the run to stop before its next batch (the best weights are kept)."""
        if self.run is not None:
            self.run.stop()
            self.progress.set_status("stopping…")

    def _on_data_progress(self, text: str) -> None:
        """Reading a large dataset: how far it is, until training starts."""
        self.progress.set_status(text)

    def _on_data_loaded(self, text: str) -> None:
        """How the run reads its data (``in memory: ...``, ``streaming ...``)."""
        self.progress.set_status(f"{text}; building the network…", text)

    def _on_started(self, event) -> None:
        self.task = event.task
        self.batches = event.batches_per_epoch
        self.epochs = event.epochs
        self.plots.clear(METRICS.get(event.task, ""), event.epochs)
        if event.task == GENERATION:  # from the first batch, not from the first epoch's end
            self.plots.show_adversarial()
        self.total_steps = event.epochs * event.batches_per_epoch
        self.progress.set_steps(0, self.total_steps)
        self.device_label.set_device(event.device)
        self.started_at = time.perf_counter()
        self.last_usage = self.started_at
        self.epoch_now, self.rate = 1, 0.0

    def _on_epoch(self, event) -> None:
        self.plots.add_epoch(event)
        self.history.append(event.row())
        self.epoch_ended.emit(event)
        if event.epoch % DOCTOR_EVERY == 0:
            from engine.training import diagnose

            self._show_notes(diagnose(self.history, self.task, final=False), final=False)

    def _on_warning(self, message: str) -> None:
        self.warning_label.setText(f"Warning: {message}")
        self.warning_label.setStyleSheet("color: #d68a00")
        self.warning_label.show()
        self._say(f"Warning: {message}")

    def _on_paused(self, paused: bool) -> None:
        if paused:
            self._show_status()

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
        self.progress.set_steps(done, self.total_steps)
        self.epoch_now, self.rate = event.epoch, event.samples_per_s
        self._show_status()

    def _show_status(self) -> None:
        """Where the run is: epoch, ETA and speed; no ETA while paused."""
        epoch = self.epoch_now
        if self.paused:
            self.progress.set_status(*paused_texts(epoch, self.epochs))
            return
        fraction = self.progress.value() / max(1, self.progress.maximum())
        elapsed = time.perf_counter() - self.started_at
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
        minutes, seconds = divmod(int(left), 60)
        eta = f"{minutes}:{seconds:02d}"
        self.progress.set_status(*running_texts(epoch, self.epochs, eta, self.rate))

    def _on_finished(self, end, results, kept) -> None:
        network = self._trained_network()  # the run lets go of its project when it ends
        run = self._end_run()
        if run is None:
            return
        before = self.kept
        self._keep(kept)
        self.results.show_results(end, results, self.last_view)
        state = kept.state if kept is not None else None
        self.mistakes.show_report(results.get("mistakes"), network, state)
        self.tabs.setCurrentWidget(self.results)
        self._show_notes(end.notes, final=True)
        self.progress.setValue(self.progress.maximum() if end.reason == "finished" else
                               self.progress.value())  # fmt: skip
        reason = end.reason.replace("_", " ")
        self.progress.set_status(f"{reason} after {end.epochs_done} epoch(s)", reason)
        summary = f"{self.results.summary.text().rstrip('.')}. {outcome.end_text(kept, before)}"
        self.results.summary.setText(summary)
        self._say(self.results.summary.text())
        self.training_ended.emit(end.reason)

    def _trained_network(self):
        """The network the run trains (its own copy), or None without a run."""
        from engine.training.recipes import main_network

        project = self.run.worker.project if self.run is not None else None
        return main_network(project.networks) if project is not None else None

    def _on_failed(self, message: str, kept) -> None:
        if self._end_run() is None:
            return
        text = outcome.failure_text(message, kept, self.kept)
        self._keep(kept)
        self._show_failure(text)
        self.training_ended.emit("failed")

    def _show_failure(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setStyleSheet("color: #e5484d")
        self.error_label.show()
        self.progress.set_status("failed")
        self.results.summary.setText(text)
        self.mistakes.clear()
        self._say(text)

    def _keep(self, kept) -> None:
        """Make the weights a run of this network kept the current ones (None: no change)."""
        if kept is not None:
            kept.signature = self._run_signature  # the network as it was trained
            self.set_kept(kept)

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
        before = self.kept
        run.shutdown()
        kept = run.worker.kept  # the stopped run's best weights, written to its folder
        self._end_run()
        self._keep(kept)
        self.progress.set_status("stopped")
        if self.built:
            self.results.summary.setText(f"Stopped. {outcome.end_text(kept, before)}")
            self.mistakes.clear()

    def confirm_close(self, doing: str = "close") -> bool:
        """Before the window closes (or opens another project): ask while training.

        Nothing is stopped here: the caller asks its other questions (unsaved changes)
        first and calls ``shutdown`` only once the close really happens, so a Cancel
        there leaves the run training.

        Returns:
            False when the user wants to keep training.
        """
        return self.run is None or ask_stop_training(self.window(), doing)
