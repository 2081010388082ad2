"""Long work (an export, a model import) in a background thread behind a progress dialog.

``run_with_progress(parent, title, work)`` runs ``work(progress, cancel)`` in a
background thread (``nodeeditor.background``) and returns its result, or raises what
it raised, once it has ended. Meanwhile the window keeps repainting and a modal
``ProgressDialog`` shows the engine's ``Progress`` events: the stage's text, a bar (busy
for a stage of unknown length, filling for a counted one), the seconds elapsed and
Cancel. Work that ends within ``SHOW_AFTER_MS`` never shows the dialog (the user's
clicks wait until then), so a quick export does not flash one.

Cancel sets ``cancel`` (a ``threading.Event``): ``progress`` then raises
``engine.progress.Cancelled`` at the work's next stage, and work that can stop sooner
(the import kills its child process) watches the event itself. The dialog stays until
the work has really ended, so nothing runs on behind the user's back.
"""

from __future__ import annotations

import contextlib
import threading
import time

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from engine.progress import Cancelled, Progress
from nodeeditor import background

SHOW_AFTER_MS = 400
CANCELLING = "Cancelling after the current step…"


class ProgressDialog(QDialog):
    """The stage, a bar, the time elapsed and Cancel, for one piece of work."""

    def __init__(self, parent: QWidget | None, title: str, cancelling: str = CANCELLING):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(420)
        self.cancel = threading.Event()
        self._cancelling = cancelling
        self._started = time.monotonic()
        self.stage_label = QLabel("starting")
        self.stage_label.setObjectName("progress_stage")
        self.stage_label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until a counted stage says how far
        self.elapsed_label = QLabel()
        self.elapsed_label.setObjectName("progress_elapsed")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.clicked.connect(self.request_cancel)
        layout = QVBoxLayout(self)
        for widget in (self.stage_label, self.bar, self.elapsed_label, buttons):
            layout.addWidget(widget)
        self._timer = QTimer(self, interval=500, timeout=self._show_elapsed)
        self._timer.start()
        self._show_elapsed()

    def show_progress(self, event: Progress) -> None:
        """Show ``event``: its text, and a filling bar when its steps are counted."""
        if self.cancel.is_set():
            return  # keep saying that it is cancelling
        self.stage_label.setText(stage_sentence(event))
        if event.counted:
            self.bar.setRange(0, event.total)
            self.bar.setValue(min(event.done, event.total))
        else:
            self.bar.setRange(0, 0)

    def request_cancel(self) -> None:
        """Ask the work to stop; the dialog says so and stays until it has."""
        self.cancel.set()
        self.cancel_button.setEnabled(False)
        self.stage_label.setText(self._cancelling)
        self.bar.setRange(0, 0)

    def reject(self) -> None:
        # Escape or the title bar's close button: cancel, and close only once ended
        self.request_cancel()

    def finish(self) -> None:
        """The work has ended: close."""
        self._timer.stop()
        self.done(QDialog.DialogCode.Accepted)

    def _show_elapsed(self) -> None:
        self.elapsed_label.setText(elapsed_text(time.monotonic() - self._started))


class _Relay(QObject):
    """Carries the worker thread's events to the dialog in the main thread (queued)."""

    progressed = Signal(object)
    ended = Signal()


class _Outcome:
    """What the work returned or raised, and whether it has ended."""

    def __init__(self):
        self.result = None
        self.error: BaseException | None = None
        self.ended = threading.Event()


def run_with_progress(parent: QWidget | None, title: str, work, cancelling: str = CANCELLING):
    """Run ``work(progress, cancel)`` in a background thread behind a ``ProgressDialog``.

    Args:
        parent: the window the dialog is modal over.
        title: the dialog's title (``Exporting model.onnx``).
        work: called in the background thread with ``progress`` (a function taking a
            ``Progress``; it raises ``Cancelled`` once Cancel was pressed) and
            ``cancel`` (the ``threading.Event`` that Cancel sets).
        cancelling: what the dialog says once Cancel was pressed.
    Returns:
        What ``work`` returned.
    Raises:
        What ``work`` raised (``Cancelled`` when the user cancelled); ``Cancelled`` too
        when the application quits while the work runs (it is told to stop).
    """
    dialog = ProgressDialog(parent, title, cancelling)
    relay = _Relay(dialog)
    relay.progressed.connect(dialog.show_progress)
    relay.ended.connect(dialog.finish)
    outcome = _Outcome()

    def progress(event: Progress) -> None:
        if dialog.cancel.is_set():
            raise Cancelled("cancelled: nothing was written")
        relay.progressed.emit(event)

    def run() -> None:
        try:
            outcome.result = work(progress, dialog.cancel)
        except BaseException as error:  # handed to the main thread, raised there
            outcome.error = error
        finally:
            outcome.ended.set()  # before the signal: the main thread may already be done
            if not background.exiting():
                with contextlib.suppress(RuntimeError):  # the dialog was already deleted
                    relay.ended.emit()

    background.start(run, name="deepwire-progress")
    try:
        if not _ended_before_shown(relay, outcome):
            dialog.exec()
    finally:
        dialog.deleteLater()
    if not outcome.ended.is_set():  # the app quits (its event loops end): stop the work
        dialog.cancel.set()
        raise Cancelled("the application is quitting")
    if outcome.error is not None:
        raise outcome.error
    return outcome.result


def _ended_before_shown(relay: _Relay, outcome: _Outcome) -> bool:
    """Wait up to ``SHOW_AFTER_MS`` for the work to end, repainting but holding the
    user's input back; whether it ended."""
    if SHOW_AFTER_MS > 0 and not outcome.ended.is_set():
        loop = QEventLoop()
        relay.ended.connect(loop.quit, Qt.ConnectionType.QueuedConnection)
        QTimer.singleShot(SHOW_AFTER_MS, loop.quit)
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        relay.ended.disconnect(loop.quit)
    return outcome.ended.is_set()


def unexpected(error: Exception) -> str:
    """A sentence for an error the work did not expect (a bug, a missing package):
    ``ModuleNotFoundError: No module named 'onnx'``, never a silent end."""
    from engine.weights import first_line

    return f"{type(error).__name__}: {first_line(error)}"


def elapsed_text(seconds: float) -> str:
    """``12 s``, ``1:05 min``: the time elapsed as a user reads it."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60}:{whole % 60:02d} min"


def stage_sentence(event: Progress) -> str:
    """``Capturing the graph…`` for a stage of unknown length, ``Checking 3/50`` else."""
    text = event.text()
    text = text[:1].upper() + text[1:]
    return text if event.counted else f"{text}…"
