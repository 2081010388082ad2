"""Background threads that never keep the application from exiting.

A thread that reads the user's data can block for good (a file on a hung network
share); as a non-daemon thread it would keep the process alive after the window has
closed, SIGTERM included. So the app's background work (the data preview, the warm-up
of heavy imports) runs in daemon threads started here. At exit each still running that
ends by touching Qt gets a short grace (``GRACE_S`` for all of them together) to end
normally, before PySide's own exit handler tears Qt down; a thread that wakes after
that must check ``exiting()`` and leave Qt alone.

A thread that cannot be cut short and is not waited for (the warm-up's import of torch)
must not outlive the event loop into Python's own shutdown, which tears modules down
under it: that crashed with SIGSEGV in 3 of 12 SIGTERMs during the warm-up. ``leave``
ends the process without that shutdown while such a thread still runs.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time

GRACE_S = 2.0

_running: set[threading.Thread] = set()
_detached: set[threading.Thread] = set()
_lock = threading.Lock()
_exiting = threading.Event()
_registered: list[bool] = []


def start(target, *args, name: str, wait_at_exit: bool = True) -> threading.Thread:
    """Run ``target(*args)`` in a daemon thread called ``name``; returns the thread.

    ``wait_at_exit``: give it the grace at exit (a thread that emits Qt signals at its
    end); one that never touches Qt is left to the interpreter at once.
    """
    with _lock:
        if not _registered:
            # atexit runs its handlers last-in first-out: this one before PySide's
            atexit.register(_at_exit)
            _registered.append(True)
    thread = threading.Thread(target=_run, args=(target, args), name=name, daemon=True)
    with _lock:
        (_running if wait_at_exit else _detached).add(thread)
    thread.start()
    return thread


def exiting() -> bool:
    """Whether the interpreter is exiting: a background thread must not touch Qt then."""
    return _exiting.is_set()


def _run(target, args) -> None:
    try:
        target(*args)
    finally:
        with _lock:
            _running.discard(threading.current_thread())
            _detached.discard(threading.current_thread())


def _at_exit() -> None:
    _exiting.set()
    deadline = time.monotonic() + GRACE_S
    with _lock:
        threads = list(_running)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def leave(status: int) -> int:
    """Return ``status`` for a normal exit, or end the process now with it.

    Call once the event loop has returned, with the work already saved. Threads that
    touch Qt get their grace first; if any thread is still running after it (a detached
    one, or one stuck past its grace: a data preview waiting on a hung share), stdio is
    flushed and the process ends here, skipping the interpreter's shutdown, which
    crashed now and then (SIGSEGV) tearing Qt down under a live thread.
    """
    _at_exit()
    with _lock:
        busy = any(thread.is_alive() for thread in _detached | _running)
    if busy:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(status)
    return status
