"""The heavy imports of the first training run, done in the background once the window is up.

The first Train imports torch (about 2 s), compiles with torch.fx and builds an
optimizer, whose constructor imports ``torch._dynamo`` (another 1-2 s;
shared/PITFALLS.md #7 and #18). ``start_soon(window)`` does these imports
``DELAY_MS`` after the window is shown, while the user is still looking at it, so that
Train starts the first batch at once and the window appears as fast as before.

The thread is a daemon that never keeps the app from exiting (``nodeeditor.background``)
and holds the main-thread garbage collector while it runs (a collection in this thread
could free the main thread's Qt objects: ``training_thread.MainThreadGC``); then it
freezes what exists (``gc.freeze``), so that later collections, the one as Train
starts included, skip the imported modules. Importing
torch from two threads at once can fail half-way, so code that imports torch off the
main thread calls ``wait()`` first.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import threading

from PySide6.QtCore import QTimer

DELAY_MS = 500
MODULES = ("torch", "torch._dynamo", "engine.compile", "engine.training", "engine.data")
WAIT_S = 120.0

_started = threading.Event()
_done = threading.Event()


def start_soon(window, delay_ms: int = DELAY_MS) -> None:
    """Start the warm-up ``delay_ms`` after now (call right after showing ``window``)."""
    QTimer.singleShot(delay_ms, window, start)


def start() -> None:
    """Start the warm-up thread (once; from the main thread)."""
    from nodeeditor import background
    from nodeeditor.training_thread import main_thread_gc

    if _started.is_set():
        return
    _started.set()
    collector = main_thread_gc()
    collector.hold()
    # not waited for at exit: an import of torch cannot be cut short, and quitting
    # mid-import was seen to end cleanly (exit 143 on SIGTERM, nothing printed)
    background.start(_warm, collector, name="warm-up", wait_at_exit=False)


def wait(timeout: float = WAIT_S) -> bool:
    """Wait for a started warm-up to end; True when none runs any more."""
    return not _started.is_set() or _done.wait(timeout)


def done() -> bool:
    """Whether the warm-up has ended."""
    return _done.is_set()


def _warm(collector) -> None:
    from nodeeditor import background

    try:
        for name in MODULES:
            if background.exiting():
                return
            with contextlib.suppress(Exception):  # a failed import shows when training starts
                importlib.import_module(name)
        # the millions of objects these imports made live as long as the app: leave them
        # out of every later collection, or one full collection (as Train starts) takes
        # a second of the main thread
        gc.freeze()
    finally:
        _done.set()
        if not background.exiting():
            with contextlib.suppress(RuntimeError):  # Qt objects are gone
                collector.release_requested.emit()
