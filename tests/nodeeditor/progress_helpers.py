"""Helpers for tests of work behind the progress dialog: see what it shows, press Cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest

from nodeeditor import progress_dialog
from nodeeditor.progress_dialog import ProgressDialog


def watch_progress(
    monkeypatch, cancel_at: str | None = None, clicked: threading.Event | None = None
) -> list[tuple[str, bool]]:
    """Record (stage text, dialog shown) for every stage the dialog shows.

    The dialog is shown at once (no grace for quick work). With ``cancel_at``, Cancel is
    clicked the first time a stage's text contains it, and then ``clicked`` is set (work
    that waits for it cannot finish before the click, however quick it is).
    """
    monkeypatch.setattr(progress_dialog, "SHOW_AFTER_MS", 0)
    seen: list[tuple[str, bool]] = []
    show = ProgressDialog.show_progress

    def record(dialog, event):
        show(dialog, event)
        seen.append((dialog.stage_label.text(), dialog.isVisible()))
        if cancel_at and cancel_at in event.text() and dialog.cancel_button.isEnabled():
            QTest.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
            seen.append((dialog.stage_label.text(), dialog.isVisible()))
            if clicked is not None:
                clicked.set()

    monkeypatch.setattr(ProgressDialog, "show_progress", record)
    return seen


def when(condition, then, every_ms: int = 20) -> QTimer:
    """Call ``then()`` once ``condition()`` holds, checking every ``every_ms`` while the
    event loop runs (a modal dialog's loop included); returns the timer."""
    timer = QTimer(interval=every_ms)

    def check():
        if condition():
            timer.stop()
            then()

    timer.timeout.connect(check)
    timer.start()
    return timer
