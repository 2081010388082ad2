"""The warm-up: torch and its compiler are imported in the background after the window
is shown, Train during the warm-up still trains, and SIGTERM mid-warm-up quits at once.

Each test runs the real entry point (``run_app``) in a child process; the parent's
timeouts only guard against a hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.nodeeditor.app_helpers import EXAMPLE, ROOT
from tests.nodeeditor.test_termination import stop

HANG_GUARD_S = 300

# Notes what is imported when the window is shown; with "train", presses Train while
# the warm-up is importing torch and waits for the first epoch; prints a JSON line.
DRIVER = """
import gc, json, sys, threading
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from nodeeditor import warmup
from nodeeditor.app import make_application, run_app

app = make_application()
mode, seen = sys.argv[2], {}

def window():
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "deepwire_main_window" and w.isVisible())

def shown():
    seen["torch_when_shown"] = "torch" in sys.modules
    wait_for_warm_up()

def wait_for_warm_up():
    thread = next((t for t in threading.enumerate() if t.name == "warm-up"), None)
    if thread is None:
        QTimer.singleShot(5, wait_for_warm_up)
        return
    seen["daemon"] = thread.daemon
    if mode == "sigterm":
        print(json.dumps(seen), flush=True)
        return
    window().docks["training"].raise_()
    window().training_panel.train_button.click()
    wait_for_epoch()

def wait_for_epoch():
    if not window().training_panel.history or not warmup.done():
        QTimer.singleShot(20, wait_for_epoch)
        return
    seen["dynamo"] = "torch._dynamo" in sys.modules
    seen["frozen"] = gc.get_freeze_count()
    seen["error"] = window().training_panel.error_label.text()
    print(json.dumps(seen), flush=True)
    window().training_panel.stop_training()
    quit_when_stopped()

def quit_when_stopped():
    # quitting asks every window to close, and one still training asks "stop training?"
    if window().training_panel.is_training():
        QTimer.singleShot(20, quit_when_stopped)
    else:
        app.quit()

QTimer.singleShot(0, shown)
sys.exit(run_app([sys.argv[1]]))
"""


@pytest.fixture
def project(tmp_path):
    data = json.loads(EXAMPLE.read_text())
    data["training"]["epochs"] = 1
    path = tmp_path / EXAMPLE.name
    path.write_text(json.dumps(data))
    return path


def start_app(project, mode, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DEEPWIRE_SETTINGS": str(tmp_path / "settings.ini"),
        "DEEPWIRE_RECOVERY_DIR": str(tmp_path / "recovery"),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(project), mode],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_train_during_the_warm_up_trains_and_the_window_came_first(project, tmp_path):
    process = start_app(project, "train", tmp_path)
    try:
        out, err = process.communicate(timeout=HANG_GUARD_S)
    finally:
        process.kill()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, err[-2000:]
    seen = json.loads(lines[-1])
    assert seen["torch_when_shown"] is False  # the window did not wait for torch
    assert seen["daemon"] is True  # never keeps the app from exiting
    assert seen["dynamo"] is True and seen["frozen"] > 0
    assert seen["error"] == "" and "Traceback" not in err


def test_sigterm_in_the_middle_of_the_warm_up_quits_at_once(project, tmp_path):
    process = start_app(project, "sigterm", tmp_path)
    assert process.stdout.readline().startswith("{")
    status, err = stop(process, signal.SIGTERM)
    assert status == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "terminate called" not in err
