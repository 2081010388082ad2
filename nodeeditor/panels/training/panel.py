"""The Training panel: choose the data, set up training, train, watch, read the result.

Left: the dataset (name, params, a one-line summary, the suggestion with "Apply to
network") and the training settings, both editing the project (undoable). Centre:
Train / Pause / Stop, a progress bar with epoch, ETA and samples per second, the device,
a memory warning, live curves (for a GAN, its live view: ``gan_view.py``) and the
training doctor's notes. Right: a preview of the data and, after a run, the results.

Training runs in a QThread (``nodeeditor.training_thread``), driven by ``RunControl``
(``run_control.py``); the network is locked for editing meanwhile. Batches are drained and the curves redrawn by one timer at about
15 Hz, however fast batches arrive. pyqtgraph is imported when the panel is first
shown, so the window opens without it.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.data_fit import gan_suggestion
from engine.errors import DeepwireError
from nodeeditor import background, commands
from nodeeditor.panels.training import outcome
from nodeeditor.panels.training.device_label import DeviceLabel
from nodeeditor.panels.training.past_runs import latest_kept
from nodeeditor.panels.training.run_control import RunControl
from nodeeditor.panels.training.settings_form import DatasetForm, TrainingForm, is_pushing
from nodeeditor.panels.training.status_bar import StatusProgress
from nodeeditor.training_thread import main_thread_gc

PREVIEW_DELAY_MS = 250
REDRAW_MS = 50  # 20 Hz; each tick redraws one plot (see TrainingPlots.refresh)


def _read_dataset(section: dict, base_dir, progress=None):
    """(dataset, "") or (None, the sentence why it cannot be loaded)."""
    from engine.data import load_dataset
    from engine.data_fit import remember

    try:
        dataset = load_dataset(section, base_dir, progress)
        remember(section, base_dir, dataset)  # the network is checked against it from now
        return dataset, ""
    except DeepwireError as failure:
        return None, str(failure)
    except Exception as failure:  # a broken file must not end the app
        return None, f"the data cannot be read: {failure}"


def _value(value) -> str:
    """A param value as users read it: ``[1, 8, 8]`` -> ``(1, 8, 8)``."""
    return str(tuple(value)) if isinstance(value, list) else str(value)


def _label(text: str = "", name: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class TrainingPanel(RunControl, QWidget):
    """The Training dock's content for one window (follows ``document_changed``).

    Signals:
        training_started(), training_ended(str): the reason, or ``failed``.
        epoch_ended(EpochEnd): an epoch of the run ended (its per-layer rows too).
        kept_changed(KeptWeights | None): other weights are kept (a run, a project).
    """

    training_started = Signal()
    training_ended = Signal(str)
    epoch_ended = Signal(object)
    kept_changed = Signal(object)
    loaded = Signal(int, object, str)  # from the preview's loading thread
    loading = Signal(int, str)  # how far the preview's loading thread is

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.setObjectName("training_panel")
        self.window_ = window
        self.document = None
        self.run = None
        self.kept = None  # KeptWeights of the last run that completed an epoch
        self._run_signature = None  # Analysis.params of the network the run trains
        self.run_dir = None  # the folder of the current or last run
        self.dataset = None
        self.preview_stale = True
        self.history: list[dict] = []
        self.last_view = None  # a GAN run's latest GanView, for the results
        self.task = ""
        self.paused = False
        self.batches = self.epochs = 0
        self.started_at = self.last_usage = self.paused_at = 0.0
        self.epoch_now, self.rate = 1, 0.0  # the last batch's epoch and samples/s
        self.total_steps = 1  # batches in the whole run
        self.built = False
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self._tick)
        self.preview_timer = QTimer(self)  # one reload after a burst of param edits
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.load_preview)
        self._generation = 0
        self.gc = main_thread_gc()  # outlives the panel: every hold gets its release
        self.loaded.connect(self._on_loaded, Qt.ConnectionType.QueuedConnection)
        self.loading.connect(self._on_loading, Qt.ConnectionType.QueuedConnection)
        self._build_left()
        window.document_changed.connect(self.set_document)
        app = QApplication.instance()
        if app is not None:  # never leave a training thread running at exit
            app.aboutToQuit.connect(self.shutdown)

    # ------------------------------------------------------------------ layout
    def _build_left(self) -> None:
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.splitter)
        column = QWidget()
        box = QVBoxLayout(column)
        data_group = QGroupBox("Data")
        data_layout = QVBoxLayout(data_group)
        self.dataset_form = DatasetForm()
        self.dataset_form.changed.connect(self._on_dataset_changed)
        self.summary = _label("", "dataset_summary")
        self.suggestion = _label("", "dataset_suggestion")
        self.apply_button = QPushButton("Apply to network")
        self.apply_button.setObjectName("apply_suggestion")
        self.apply_button.setToolTip(
            "Set the Input's shape and dtype and the last layer's size to fit the data"
        )
        self.apply_button.clicked.connect(self.apply_suggestion)
        for widget in (self.dataset_form, self.summary, self.suggestion, self.apply_button):
            data_layout.addWidget(widget)
        settings_group = QGroupBox("Training")
        settings_layout = QVBoxLayout(settings_group)
        self.training_form = TrainingForm()
        self.training_form.changed.connect(self._update_memory_warning)
        settings_layout.addWidget(self.training_form)
        box.addWidget(data_group)
        box.addWidget(settings_group)
        box.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        scroll.setMinimumWidth(280)
        self.splitter.addWidget(scroll)
        self.centre = QWidget()
        centre = QVBoxLayout(self.centre)
        centre.setContentsMargins(0, 0, 0, 0)
        centre.addLayout(self._build_controls())
        self.device_label = DeviceLabel()
        self.memory_label = _label("", "memory_warning")
        self.error_label = _label("", "training_error")
        self.warning_label = _label("", "training_warning")
        self.kept_label = _label(outcome.kept_text(None), "kept_weights")
        self.kept_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_files_button = QPushButton("Show files")
        self.show_files_button.setObjectName("show_run_files")
        self.show_files_button.setToolTip("Open the folder of the kept weights")
        self.show_files_button.clicked.connect(self.show_kept_files)
        kept_row = QHBoxLayout()
        kept_row.addWidget(self.kept_label, 1)
        kept_row.addWidget(self.show_files_button)
        self.notes = _label("", "doctor_notes")
        for widget in (self.device_label, self.memory_label, self.error_label,
                       self.warning_label):  # fmt: skip
            centre.addWidget(widget)
        centre.addLayout(kept_row)
        centre.addWidget(self.notes)
        self.memory_label.hide()
        self.error_label.hide()
        self.warning_label.hide()
        self.splitter.addWidget(self.centre)
        self.tabs = QTabWidget()
        self.splitter.addWidget(self.tabs)
        self.splitter.setSizes([320, 700, 380])

    def _build_controls(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("train_button")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pause_button")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop_button")
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.progress = StatusProgress()
        self.progress.setObjectName("training_progress")
        self.progress.setValue(0)
        self.start_from_kept = QCheckBox("Start from kept weights")
        self.start_from_kept.setObjectName("start_from_kept")
        self.start_from_kept.setToolTip(
            "Train on from the kept weights (the last run's best, or File > Load Weights) "
            "instead of fresh ones"
        )
        for widget in (self.train_button, self.pause_button, self.stop_button):
            row.addWidget(widget)
        row.addWidget(self.progress, 1)
        row.addWidget(self.start_from_kept)
        self._set_buttons(running=False)
        return row

    def ensure_built(self) -> None:
        """Build the plots, the preview and the results (imports pyqtgraph) once."""
        if self.built:
            return
        from nodeeditor.panels.training.dataset_view import DatasetView
        from nodeeditor.panels.training.plots import TrainingPlots
        from nodeeditor.panels.training.results import ResultsView

        self.built = True
        layout = self.centre.layout()
        self.plots = TrainingPlots()
        layout.insertWidget(layout.indexOf(self.notes), self.plots, 1)
        self.preview = DatasetView()
        self.results = ResultsView()
        self.tabs.addTab(self.preview, "Data")
        self.tabs.addTab(self.results, "Results")
        from nodeeditor.panels.training.layers_view import LayersView

        self.layers_view = LayersView()
        self.layers_view.follow(self)
        self.tabs.addTab(self.layers_view, "Layers")
        from nodeeditor.panels.training.filters_view import FiltersView

        self.filters_view = FiltersView()
        self.filters_view.follow(self)
        self.tabs.addTab(self.filters_view, "Filters")
        from nodeeditor.panels.training.runs_view import RunsView

        self.runs_view = RunsView(self)
        self.tabs.addTab(self.runs_view, "Runs")
        from nodeeditor.panels.training.mistakes_view import MistakesView

        self.mistakes = MistakesView()
        self.tabs.addTab(self.mistakes, "Mistakes")
        self._show_plots_for_recipe()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.seen():
            self.on_raised()

    def seen(self) -> bool:
        """Whether the panel is on screen: Qt keeps a dock that is behind another dock's
        tab "visible", off screen, and the plots and data wait until it is raised."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def on_raised(self) -> None:
        """The panel came into view (shown, or its tab raised): build it, load the data."""
        self.ensure_built()
        if self.preview_stale:
            QTimer.singleShot(0, self.load_preview)

    def is_gan(self) -> bool:
        """Whether the document's training trains a GAN (two networks)."""
        from engine.project import adversarial_networks

        return self.document is not None and adversarial_networks(
            self.document.project.training) is not None  # fmt: skip

    def _show_plots_for_recipe(self) -> None:
        """A GAN project shows its (empty) live view before any run, not loss and
        accuracy curves it will never draw."""
        if self.built and self.is_gan():
            self.plots.show_adversarial()

    def show_view(self, view) -> None:
        """Show a GAN's live view (a ``GanView`` event from the run) in place of the
        curves; drawn by the panel's timer like them."""
        self.ensure_built()
        self.last_view = view
        self.plots.show_view(view)

    # ------------------------------------------------------------------ document
    def set_document(self, document) -> None:
        """Follow the window's document (New, Open); stops a run of the old one."""
        if self.run is not None:
            self.shutdown()
        if self.document is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.document.analysis_changed.disconnect(self._update_memory_warning)
                self.document.analysis_changed.disconnect(self.update_kept_label)
        self.document = document
        self._forget_runs()
        self._show_plots_for_recipe()
        self.set_kept(latest_kept(document.path))  # this project's, not the last one's
        self.dataset_form.set_document(document)
        self.training_form.set_document(document)
        document.analysis_changed.connect(self._update_memory_warning)
        document.analysis_changed.connect(self.update_kept_label)
        document.changed.connect(self._on_undo_index)  # an edit or undo in any network
        self.preview_stale = True
        self.dataset = None
        if self.seen():
            self.load_preview()

    def _forget_runs(self) -> None:
        """Clear what the runs of the previous document left: curves, results, status."""
        self.history, self.task, self.paused = [], "", False
        self.last_view = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.set_status("ready")
        for label in (self.error_label, self.warning_label):
            label.hide()
        self.notes.setText("")
        self.device_label.clear_device()
        self.start_from_kept.setChecked(False)  # a choice made for the other project
        if self.built:
            self.plots.clear()
            self.results.reset()
            self.mistakes.clear()
            self.tabs.setCurrentWidget(self.preview)

    def _on_undo_index(self, *_) -> None:
        # undo/redo of a dataset or training edit: show the restored values
        if self.run is not None or is_pushing():
            return
        if self.dataset_form.section() != self.dataset_form.shown:
            self.dataset_form.refresh()
            self._on_dataset_changed()
        self.training_form.refresh()
        if self.dataset is not None:
            self.apply_button.setEnabled(not self.network_fits())

    def base_dir(self):
        """The folder relative data paths start from (the project file's)."""
        path = self.document.path if self.document else None
        return path.parent if path else None

    # ------------------------------------------------------------------ data
    def _on_dataset_changed(self) -> None:
        self.preview_stale = True
        self.dataset = None
        self.apply_button.setEnabled(False)
        if self.seen():
            self.preview_timer.start()

    def load_preview(self, wait: bool = False) -> None:
        """Load the dataset in a background thread, then show its summary, suggestion
        and first samples (``wait``: load here and now)."""
        if self.document is None:
            return
        self.ensure_built()
        self.preview_stale = False
        self.preview_timer.stop()
        self._generation += 1
        job = (self._generation, self.dataset_form.section(), self.base_dir())
        if wait:
            self._on_loaded(job[0], *_read_dataset(*job[1:]))
            return
        self.summary.setText("Loading the data…")
        self.preview.show_message("Loading the data…")
        self.gc.hold()  # released when the loading thread ends
        # a daemon (a read that never ends must not keep the app from exiting), given a
        # moment at exit so that its last emit never meets a half torn-down Qt
        background.start(self._load, *job, name="dataset-preview")

    def _load(self, generation: int, section: dict, base_dir) -> None:
        def progress(event) -> None:
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # the panel is gone
                    self.loading.emit(generation, event.text())

        try:
            dataset, error = _read_dataset(section, base_dir, progress)
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # the panel is gone
                    self.loaded.emit(generation, dataset, error)
        finally:
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # Qt objects are gone
                    self.gc.release_requested.emit()

    def _on_loading(self, generation: int, text: str) -> None:
        if generation == self._generation and self.dataset is None:
            self.summary.setText(f"Loading the data… {text}")
            self.preview.show_message(f"Loading the data… {text}")

    def _on_loaded(self, generation: int, dataset, error: str) -> None:
        if generation != self._generation:
            return  # an older request; a newer one is on its way
        self.dataset = dataset
        if dataset is None:
            self.summary.setText(error)
            self.suggestion.setText("")
            self.apply_button.setEnabled(False)
            self.preview.show_message(error)
            return
        loading = dataset.loading[:1].upper() + dataset.loading[1:]
        self.summary.setText(f"{dataset.summary()}\n{loading}")
        gan = self.is_gan()
        suggestion = gan_suggestion(dataset.info()) if gan else dataset.suggest().text
        self.suggestion.setText("Suggestion: " + suggestion)
        self.apply_button.setVisible(not gan)  # it fits one classifier or regressor
        self.apply_button.setEnabled(self.run is None and not self.network_fits())
        self.document.request_analysis()  # a file dataset is described now
        self.preview.show_dataset(dataset)
        self._update_memory_warning()

    def fit_edits(self) -> dict:
        """What "Apply to network" would change (``engine.data_fit.fit_edits``)."""
        from engine.data_fit import fit_edits, loss_name

        if self.dataset is None or self.is_gan():  # the Problems panel checks a GAN
            return {}
        loss = loss_name(self.document.project.training)
        return fit_edits(self.document.network, self.dataset.info(), loss)

    def network_fits(self) -> bool:
        """Whether nothing that "Apply to network" sets needs to change."""
        return self.dataset is not None and not self.fit_edits()

    def apply_suggestion(self) -> bool:
        """Set the Input's shape and dtype and the last weighted layer's size to fit
        the dataset (one undo step).

        Returns:
            True when the network was changed.
        """
        if self.dataset is None:
            self.load_preview(wait=True)
        if self.dataset is None or self.run is not None:
            return False
        inputs = [n for n in self.document.network.nodes if n.type == "Input"]
        if len(inputs) != 1:
            self._say(f"The network has {len(inputs)} Inputs; training needs exactly one.")
            return False
        edits = self.fit_edits()
        if not edits:
            self._say(f"The network already fits {self.dataset.name}.")
            return False
        try:
            commands.set_params_of(self.document, edits, f"Fit the network to {self.dataset.name}")
        except DeepwireError as error:
            self._say(str(error))
            return False
        changed = "; ".join(
            f"{node_id}: " + ", ".join(f"{k} {_value(v)}" for k, v in params.items())
            for node_id, params in edits.items()
        )
        self._say(f"Fitted to {self.dataset.name}: {changed}.")
        self.apply_button.setEnabled(False)
        return True

    def _update_memory_warning(self, *_) -> None:
        if self.document is None or not self.built:
            return
        from nodeeditor.panels.training.device_label import memory_warning

        config = self.training_form.config()
        text = memory_warning(self.document.analysis, config.batch_size,
                              config.optimizer["type"], config.device)  # fmt: skip
        self.memory_label.setText(text)
        self.memory_label.setVisible(bool(text))

    # ------------------------------------------------------------------ helpers
    def _set_buttons(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Pause")
        self.stop_button.setEnabled(running)
        self.dataset_form.setEnabled(not running)
        self.training_form.setEnabled(not running)
        self.start_from_kept.setEnabled(not running and self.kept is not None)
        self.apply_button.setEnabled(
            not running and self.dataset is not None and not self.network_fits()
        )

    def _show_notes(self, notes, final: bool) -> None:
        if notes:
            self.notes.setText("Doctor: " + " ".join(str(n) for n in notes))
        else:
            nothing = "no problems seen" if final else "nothing to report so far"
            self.notes.setText(f"Doctor: {nothing}.")

    def _say(self, text: str) -> None:
        self.window_.show_message(text)
