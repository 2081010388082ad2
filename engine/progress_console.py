"""``ConsoleProgress``: ``engine.progress`` events drawn on the command line's stderr.

On a terminal a counted stage is a bar (``reading images [######......] 12,000/50,000``)
and a stage of unknown length is its name with the seconds it has run, redrawn by a
ticker thread (``translating the graph to ONNX... 12 s``). In a log (not a terminal) a
counted stage is a line at its start, each quarter and its end, and a stage of unknown
length is one line, once it has run ``engine.progress.AFTER_S`` seconds; quick work says
nothing either way.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from engine import progress as progress_module
from engine.progress import Progress

TICK_S = 0.25
BAR_WIDTH = 24


class ConsoleProgress:
    """A progress function (call it with ``Progress`` events); ``close()`` when done.

    Args:
        err: where it draws (stderr).
        bar: draw on a terminal (True) or write log lines (False); by default whether
            ``err`` is a terminal.
    """

    def __init__(self, err: TextIO | None = None, bar: bool | None = None):
        self.err = err or sys.stderr
        self.bar = self.err.isatty() if bar is None else bar
        self._lock = threading.Lock()
        self._open: Progress | None = None  # the stage of unknown length now running
        self._since = 0.0
        self._shown = False
        self._drawn = ""  # the stage's line last drawn on a terminal
        self._quarter = -1
        self._closed = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, event: Progress) -> None:
        with self._lock:
            self._end_open_stage()
            if event.counted:
                self._draw_counted(event)
                return
            self._open, self._since, self._shown = event, time.monotonic(), False
            if self._ticker is None:
                self._ticker = threading.Thread(
                    target=self._tick, name="deepwire-progress", daemon=True
                )
                self._ticker.start()

    def close(self) -> None:
        """End the stage shown (its line is cleared on a terminal) and the ticker."""
        with self._lock:
            self._end_open_stage()
        self._closed.set()
        if self._ticker is not None:
            self._ticker.join()

    def _tick(self) -> None:
        while not self._closed.wait(TICK_S):
            with self._lock:
                self._draw_open_stage()

    def _draw_open_stage(self) -> None:
        if self._open is None:
            return
        elapsed = time.monotonic() - self._since
        if elapsed < progress_module.AFTER_S:
            return
        if self.bar:
            line = f"\r{self._open.stage}... {elapsed:.0f} s\033[K"
            if line != self._drawn:
                self._write(line)
            self._drawn = line
        elif not self._shown:
            self._write(f"{self._open.stage}...\n")
        self._shown = True

    def _end_open_stage(self) -> None:
        if self._open is not None and self._shown and self.bar:
            self._write("\r\033[K")
        self._open, self._drawn = None, ""

    def _draw_counted(self, event: Progress) -> None:
        if self.bar:
            filled = int(BAR_WIDTH * event.done / event.total)
            end = "\r\033[K" if event.done >= event.total else ""
            self._write(f"\r{event.stage} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
                        f"{event.done:,}/{event.total:,} {end}")  # fmt: skip
            return
        quarter = 4 * event.done // event.total
        if event.done in (0, event.total) or quarter != self._quarter:
            self._write(f"{event.text()}\n")
        self._quarter = quarter

    def _write(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()
