"""Background threads never keep the app alive, and never outlive it into Python's shutdown.

Each case runs in a child process, since ``background.leave`` may end the process.
"""

from __future__ import annotations

import subprocess
import sys

from tests.nodeeditor.app_helpers import ROOT

SCRIPT = """
import atexit, threading, time
from nodeeditor import background

atexit.register(print, "python shutdown ran")

release = threading.Event()
background.start(release.wait, name="stuck import", wait_at_exit={wait})
if {finished}:
    release.set()
    time.sleep(0.2)
print("saved", flush=False)
raise SystemExit(background.leave(143))
"""


def run(wait: bool, finished: bool) -> subprocess.CompletedProcess:
    code = SCRIPT.format(wait=wait, finished=finished)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_a_detached_thread_still_running_ends_the_process_at_once_with_the_status():
    result = run(wait=False, finished=False)
    assert result.returncode == 143
    assert result.stdout == "saved\n"  # flushed, and no interpreter shutdown under the thread


def test_with_no_thread_left_the_status_is_returned_for_a_normal_exit():
    result = run(wait=False, finished=True)
    assert result.returncode == 143
    assert result.stdout == "saved\npython shutdown ran\n"
    assert result.stderr == ""
