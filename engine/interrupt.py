"""Ctrl-C while Deepwire starts: exit 130 at once, without a traceback.

Python turns SIGINT into a ``KeyboardInterrupt`` wherever the program is; during the
imports of start-up (torch, networkx, Qt) that prints a traceback from deep inside a
library, and inside a Qt call Qt prints it and carries on. The entry points
(``nodeeditor.launcher``, ``python -m engine``) call ``quit_on_interrupt`` first; when a
command starts, ``engine.cli`` takes SIGINT back (``handle_interrupt_as_python_does``)
to stop cleanly, and the app's event loop installs its own handler
(``nodeeditor.termination``).
Start-up has nothing to lose: no edit has been made yet, and recovery copies stay on disk.
"""

from __future__ import annotations

import os
import signal

EXIT_INTERRUPTED = 130


def quit_on_interrupt() -> None:
    """Until SIGINT is taken over, Ctrl-C ends the process at once with status 130."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _exit_interrupted)


def handle_interrupt_as_python_does() -> None:
    """From now on Ctrl-C raises KeyboardInterrupt, which the running command handles."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _exit_interrupted(signum, frame) -> None:
    os._exit(EXIT_INTERRUPTED)
