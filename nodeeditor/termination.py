"""Quitting on SIGTERM or SIGINT (logout, ``kill``, Ctrl-C in a terminal), keeping the work.

A Python signal handler only runs when the interpreter gets control, which Qt's event
loop rarely gives it; ``signal.set_wakeup_fd`` makes the C handler write a byte to a
socket that a ``QSocketNotifier`` watches, so the handler runs at once. Each window
then writes its recovery copy now (unsaved work is offered at the next start, as after
a crash), stops a training run (its best weights are written to the run folder) and
closes without asking. The exit status is 128 + the signal number.
"""

from __future__ import annotations

import signal
import socket

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install(app: QApplication) -> None:
    """Quit ``app`` cleanly on SIGTERM and SIGINT (call once, from the main thread)."""
    reader, writer = socket.socketpair()
    for end in (reader, writer):
        end.setblocking(False)
    signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)
    notifier.activated.connect(lambda *_: _drain(reader))
    app._termination = (reader, writer, notifier)  # keep them alive with the app
    for number in SIGNALS:
        signal.signal(number, lambda signum, _frame: quit_keeping_work(app, signum))


def _drain(reader: socket.socket) -> None:
    # reading lets the pending Python handler run; the bytes themselves are not needed
    try:
        while reader.recv(64):
            pass
    except BlockingIOError:
        pass


def quit_keeping_work(app: QApplication, signum: int) -> None:
    """Close every main window without questions, keeping recovery copies, then quit."""
    from nodeeditor.window import MainWindow

    # closing the last window would quit with status 0, possibly after our exit below
    app.setQuitOnLastWindowClosed(False)
    app.signal_status = 128 + signum
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.quitting = True
            widget.close()
    app.exit(app.signal_status)


def exit_status(app: QApplication, status: int) -> int:
    """The event loop's status, or 128 + the signal that ended the app."""
    return getattr(app, "signal_status", None) or status
