"""Ctrl-C while Deepwire starts: exit status 130 and no traceback, at any moment.

Each case starts a real entry point (the ``deepwire`` script, as installed, and
``python -m engine``) with Python's import-time log switched on, waits until a given
module has been imported (a moment of start-up: the launcher, networkx, the command
line, Qt, the main window, torch inside a command) and sends SIGINT, as a terminal's
Ctrl-C does. (The interpreter's own start, before the entry point's first line, is out
of any program's reach: there Python itself prints the traceback.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "digits_mlp.dwire"
DEEPWIRE = Path(sys.executable).with_name("deepwire")

# entry point -> (command line, modules whose import marks a moment to interrupt)
CASES = {
    "the app": ([str(DEEPWIRE), str(EXAMPLE)],
                ["nodeeditor.launcher", "networkx", "PySide6.QtWidgets", "nodeeditor.window"]),
    "deepwire train": ([str(DEEPWIRE), "train", str(EXAMPLE), "--out", "{tmp}/run"],
                       ["engine.cli", "engine.project", "torch"]),
    "python -m engine": ([sys.executable, "-m", "engine", "summary", str(EXAMPLE)],
                         ["engine.cli", "networkx"]),
}  # fmt: skip


def imported(line: str) -> str:
    """The module named by one line of ``-X importtime`` output ('' for other lines)."""
    return line.rsplit("|", 1)[-1].strip() if line.startswith("import time:") else ""


@pytest.mark.parametrize(
    "entry, moment",
    [(entry, moment) for entry, (_, moments) in CASES.items() for moment in moments],
)
def test_ctrl_c_at_any_moment_of_start_up_exits_130_quietly(tmp_path, entry, moment):
    argv = [part.format(tmp=tmp_path) for part in CASES[entry][0]]
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1", "QT_QPA_PLATFORM": "offscreen",
           "DEEPWIRE_SETTINGS": str(tmp_path / "settings.ini"),
           "DEEPWIRE_RECOVERY_DIR": str(tmp_path / "recovery")}  # fmt: skip
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for line in process.stderr:
            if imported(line) == moment:
                break
        else:
            pytest.fail(f"{moment} was never imported")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        process.kill()
    told = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert process.returncode == 130, told
    assert not any("Traceback" in line or "KeyboardInterrupt" in line for line in told), told
    assert len(told) <= 1  # at most "deepwire: interrupted"
