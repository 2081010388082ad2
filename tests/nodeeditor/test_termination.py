"""SIGTERM and SIGINT (logout, ``kill``, Ctrl-C): the real app quits and keeps the work.

Each test starts the app through its real entry point (``run_app``) in a process, lets
a small driver edit or train, sends the signal and checks what is left on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from engine import project as project_file
from nodeeditor import recovery
from tests.nodeeditor.app_helpers import EXAMPLE, ROOT
from tests.reliability_log import write_case_counts

# Opens FILE with the real entry point; once the window is up, either edits fc1
# ("edit") or starts training ("train"), prints "ready" and lets the event loop run.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from nodeeditor.app import make_application, run_app
from nodeeditor import commands

app = make_application()
mode = sys.argv[2]

def window():
    return next(w for w in QApplication.topLevelWidgets()
                if w.objectName() == "deepwire_main_window" and w.isVisible())

def start():
    w = window()
    if mode == "edit":
        commands.set_params(w.document, "fc1", {"out_features": 33})
        print("ready", flush=True)
        return
    w.docks["training"].raise_()
    w.training_panel.train_button.click()
    def wait_for_epochs():
        if len(w.training_panel.history) >= 2:
            print("ready", flush=True)
        else:
            QTimer.singleShot(20, wait_for_epochs)
    wait_for_epochs()

QTimer.singleShot(300, start)
sys.exit(run_app([sys.argv[1]]))
"""


def start_app(project, mode, tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "DEEPWIRE_SETTINGS": str(tmp_path / "settings.ini"),
        "DEEPWIRE_RECOVERY_DIR": str(tmp_path / "recovery"),
        "DEEPWIRE_AUTOSAVE_SECONDS": "600",  # only the signal can have written the copy
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(project), mode],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = process.stdout.readline()
    if line != "ready\n":
        process.kill()
        pytest.fail(f"the app did not start: {line!r} {process.stderr.read()}")
    return process


def stop(process, signum) -> tuple[int, str]:
    process.send_signal(signum)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, err


@pytest.fixture
def project(tmp_path):
    copy = tmp_path / EXAMPLE.name
    shutil.copy(EXAMPLE, copy)
    return copy


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_quits_at_once_and_keeps_unsaved_work_for_the_next_start(
    project, tmp_path, signum
):
    before = project.read_bytes()
    process = start_app(project, "edit", tmp_path)
    status, err = stop(process, signum)
    write_case_counts({f"signal {signal.Signals(signum).name} to the app": 1})
    assert status == 128 + signum, err
    assert "Traceback" not in err
    assert project.read_bytes() == before  # the user's file is not touched
    [(copy, lock)] = recovery.orphans(tmp_path / "recovery")
    try:
        restored = recovery.restored_document(copy, copy.info())
        assert restored.network.node("fc1").params["out_features"] == 33
        assert restored.path == project
    finally:
        lock.close()


def test_sigterm_while_training_stops_the_run_and_writes_its_best_weights(project, tmp_path):
    data = json.loads(project.read_text())
    data["training"]["epochs"] = 100_000
    project.write_text(json.dumps(data))
    process = start_app(project, "train", tmp_path)
    status, err = stop(process, signal.SIGTERM)
    write_case_counts({"signal SIGTERM to a training app": 1})
    assert status == 128 + signal.SIGTERM, err
    [run] = sorted((tmp_path / f"{project.stem}_runs").iterdir())
    weights = load_file(run / "weights.safetensors")
    best = load_file(run / "checkpoints/best.safetensors")
    assert weights.keys() == best.keys() and all(torch.equal(weights[k], best[k]) for k in best)
    assert project_file.load(project).training["epochs"] == 100_000  # file as it was
