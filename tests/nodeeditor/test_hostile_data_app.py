"""A project whose data is a named pipe, or whose data preview never returns: the real app
says why and still quits at once on SIGTERM; ``--screenshot`` finishes.

Each test runs the real entry point in a child process; the parent's timeouts only
guard against a hang, which is what these tests exist to catch.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from tests.nodeeditor.app_helpers import EXAMPLE, ROOT
from tests.nodeeditor.test_termination import stop

HANG_GUARD_S = 120

# Opens FILE with the real entry point and shows the Training tab, so that the data
# preview starts; with "stuck", every data load blocks for good (a hung network share).
# Prints the preview's sentence (or "loading") once the preview has got that far.
DRIVER = """
import sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import engine.data
from nodeeditor.app import make_application, run_app

app = make_application()
if sys.argv[2] == "stuck":
    engine.data.load_dataset = lambda *args, **kwargs: threading.Event().wait()

def window():
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "deepwire_main_window" and w.isVisible())

def wait_for_preview():
    panel = window().training_panel
    text = panel.summary.text() if panel is not None else ""
    stuck = any(t.name == "dataset-preview" for t in threading.enumerate())
    if sys.argv[2] == "stuck" and stuck:
        print("loading", flush=True)
    elif text and "Loading" not in text:
        print(text.replace(chr(10), " "), flush=True)
    else:
        QTimer.singleShot(20, wait_for_preview)

def start():
    window().docks["training"].raise_()
    wait_for_preview()

QTimer.singleShot(300, start)
sys.exit(run_app([sys.argv[1]]))
"""


@pytest.fixture
def fifo_project(tmp_path):
    """A copy of the example whose dataset is ``data.npz``, a named pipe."""
    project = tmp_path / "piped.dwire"
    data = json.loads(EXAMPLE.read_text())
    data["dataset"] = {"name": "npz", "params": {"path": "data.npz"}}
    project.write_text(json.dumps(data))
    os.mkfifo(tmp_path / "data.npz")
    return project


def _env(tmp_path) -> dict:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DEEPWIRE_SETTINGS": str(tmp_path / "settings.ini"),
        "DEEPWIRE_RECOVERY_DIR": str(tmp_path / "recovery"),
        "PYTHONPATH": str(ROOT),
    }


def start_app(project, mode: str, tmp_path) -> tuple[subprocess.Popen, str]:
    """The app on ``project`` once its preview is under way; (process, what it printed)."""
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(project), mode],
        cwd=ROOT, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    guard = threading.Timer(HANG_GUARD_S, process.kill)  # a preview that hangs the app
    guard.start()
    try:
        line = process.stdout.readline()
    finally:
        guard.cancel()
    if not line:
        process.kill()
        pytest.fail(f"the app hung or did not start: {process.stderr.read()[-2000:]}")
    return process, line.strip()


def test_a_pipe_as_data_is_named_in_the_preview_and_sigterm_still_quits(fifo_project, tmp_path):
    process, said = start_app(fifo_project, "pipe", tmp_path)
    status, err = stop(process, signal.SIGTERM)
    assert "data.npz: is a named pipe" in said
    assert status == 128 + signal.SIGTERM, err
    assert "Traceback" not in err


def test_a_preview_that_never_returns_does_not_keep_the_app_alive(tmp_path):
    project = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, project)
    process, said = start_app(project, "stuck", tmp_path)
    assert said == "loading"
    status, err = stop(process, signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, err
    assert "Traceback" not in err


def test_screenshot_of_a_project_with_a_pipe_as_data_finishes(fifo_project, tmp_path):
    png = tmp_path / "shot.png"
    done = subprocess.run(
        [sys.executable, "-m", "nodeeditor.launcher", "--screenshot", str(png), str(fifo_project)],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=HANG_GUARD_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.stat().st_size > 0
