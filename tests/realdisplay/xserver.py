"""A real X display for the app: Xvfb with the openbox window manager, and a driver
that runs the real ``deepwire`` entry point on it with fresh settings.

``XDisplay.start()`` starts Xvfb on a free display number (``-displayfd``) and openbox
on it, and returns once the window manager runs. ``RealApp`` launches ``deepwire`` as
a user would (its own HOME and XDG folders, so no saved settings leak in), reads the
window's own geometry report (``nodeeditor.geometry_report``) and drives it with real
X input from ``xdotool``: key presses, clicks and mouse-wheel turns. Used by the tests
in this folder and by ``benchmarks/bench_startup.py --real-display``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1600, 1000)
PATIENCE_S = 90  # a guard against a hung app, never a performance limit
POLL_S = 0.05
SETTLED_TICKS = 4  # the window reports every 0.15 s of its event loop


class DisplayError(RuntimeError):
    """The X server, the window manager or the app did not come up."""


def packages() -> str:
    """The Debian packages a real display needs (``.ci/display-packages.txt``)."""
    lines = (ROOT / ".ci" / "display-packages.txt").read_text().splitlines()
    return " ".join(line for line in lines if line and not line.startswith("#"))


def missing_tools() -> list[str]:
    """The programs the real-display tests need that are not installed."""
    return [tool for tool in ("Xvfb", "openbox", "xdotool") if shutil.which(tool) is None]


def wait_until(condition, what: str, patience: float = PATIENCE_S):
    """Poll ``condition()`` until it returns something true; returns that value."""
    deadline = time.monotonic() + patience
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DisplayError(f"gave up waiting for {what}")
        time.sleep(POLL_S)


class XDisplay:
    """Xvfb and openbox on a free display; ``stop()`` ends both."""

    def __init__(self, name: str, processes: list[subprocess.Popen], folder: Path):
        self.name = name
        self.processes = processes
        self.folder = folder

    @classmethod
    def start(cls) -> XDisplay:
        """Start Xvfb on a free display number and openbox on it."""
        folder = Path(tempfile.mkdtemp(prefix="deepwire-x-"))
        read_end, write_end = os.pipe()
        size = f"{SCREEN[0]}x{SCREEN[1]}x24"
        xvfb = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()  # Xvfb writes it once it accepts clients
        if not number:
            xvfb.kill()
            raise DisplayError("Xvfb did not start")
        display = cls(f":{number}", [xvfb], folder)
        ready = folder / "openbox-ready"
        env = {**os.environ, "DISPLAY": display.name, "HOME": str(folder)}
        display.processes.append(
            subprocess.Popen(
                ["openbox", "--sm-disable", "--startup", f"touch {ready}"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        try:
            wait_until(ready.exists, "openbox to start")
        except DisplayError:
            display.stop()
            raise
        return display

    def xdotool(self, *args: str) -> str:
        """Run ``xdotool ARGS`` on this display; returns its output."""
        env = {**os.environ, "DISPLAY": self.name}
        done = subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True)
        return done.stdout

    def stop(self) -> None:
        """End openbox and Xvfb."""
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def deepwire_command() -> list[str]:
    """The installed ``deepwire`` script beside this Python, else its module."""
    script = Path(sys.executable).with_name("deepwire")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "nodeeditor.launcher"]


class RealApp:
    """``deepwire ARGS`` on ``display`` with its home in ``home`` (kept between launches
    to see the saved settings again)."""

    def __init__(self, display: XDisplay, home: Path, *args: str):
        self.display = display
        self.home = home
        self.report_path = home / "report.json"
        self.report_path.unlink(missing_ok=True)
        self.log = home / "app.log"
        self.process = subprocess.Popen(
            [*deepwire_command(), *args],
            env=app_environment(display.name, home, self.report_path),
            cwd=ROOT,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    # ------------------------------------------------------------------ reading
    def report(self) -> dict | None:
        """The window's latest geometry report, or None before the first."""
        self.check_running()
        try:
            return json.loads(self.report_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def wait_for(self, condition, what: str) -> dict:
        """Wait until ``condition(report)`` holds; returns that report."""

        def check():
            report = self.report()
            return report if report is not None and condition(report) else None

        try:
            return wait_until(check, what)
        except DisplayError as error:
            raise DisplayError(f"{error}; last report: {self.report()}") from None

    def settled(self, condition, what: str) -> dict:
        """Wait until ``condition(report)`` holds and the window's event loop has seen
        nothing change for ``SETTLED_TICKS`` report ticks; returns that report."""
        return self.wait_for(lambda r: condition(r) and r["unchanged_ticks"] >= SETTLED_TICKS, what)

    def check_running(self) -> None:
        """Fail with the app's output if it has ended."""
        if self.process.poll() is not None:
            raise DisplayError(
                f"deepwire exited with {self.process.returncode}:\n{self.log.read_text()}"
            )

    # ------------------------------------------------------------------ input
    def key(self, *keys: str) -> None:
        """Press ``keys`` (xdotool names: ``ctrl+o``, ``Return``) in turn."""
        self.display.xdotool("key", "--delay", "30", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` as key presses."""
        self.display.xdotool("type", "--delay", "5", text)

    def click(self, x: int, y: int) -> None:
        """Left-click at screen point (x, y)."""
        # no --sync: it waits for a motion that never comes when already there
        self.display.xdotool("mousemove", str(x), str(y), "click", "1")

    def wheel(self, x: int, y: int, notches: int = 3, up: bool = True) -> None:
        """Turn the mouse wheel ``notches`` times with the pointer at (x, y)."""
        button = "4" if up else "5"
        self.display.xdotool(
            "mousemove", str(x), str(y), "click", "--repeat", str(notches), "--delay", "80", button
        )

    # ------------------------------------------------------------------ ending
    def quit(self) -> int:
        """File > Quit by its key, as a user would; returns the exit status."""
        self.key("ctrl+q")
        try:
            return self.process.wait(PATIENCE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise DisplayError("deepwire did not quit on Ctrl+Q") from None

    def kill(self) -> None:
        """End the app if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def app_environment(display: str, home: Path, report: Path | None = None) -> dict:
    """The environment of a first-time user on ``display``: fresh home and settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("XDG_", "DEEPWIRE_", "QT_", "WAYLAND"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(home / "runtime"),
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
    )
    (home / "runtime").mkdir(mode=0o700, parents=True, exist_ok=True)
    if report is not None:
        env["DEEPWIRE_TEST_REPORT"] = str(report)
    return env
