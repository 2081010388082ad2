"""Before Qt starts: one sentence naming the missing X libraries (and their Debian
packages), or the missing display, instead of Qt's bare "no platform plugin" abort."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nodeeditor import platform_check
from nodeeditor.app import run_app

ROOT = Path(__file__).resolve().parents[2]
X11 = {"DISPLAY": ":5"}


@pytest.mark.parametrize(
    ("library", "package"),
    [
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_a_library_is_named_by_its_debian_package(library, package):
    assert platform_check.debian_package(library) == package


def test_only_the_x11_platform_is_checked():
    assert platform_check.uses_xcb({"DISPLAY": ":0"}) == sys.platform.startswith("linux")
    assert not platform_check.uses_xcb({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"})
    assert not platform_check.uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert platform_check.problem({"QT_QPA_PLATFORM": "offscreen"}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin is Linux's")
def test_no_display_is_one_sentence():
    problem = platform_check.problem({})
    assert "DISPLAY is not set" in problem and len(problem.splitlines()) == 1


@pytest.mark.skipif(platform_check.xcb_plugin() is None, reason="no xcb plugin in PySide6")
def test_missing_x_libraries_are_named_with_the_packages_to_install(tmp_path):
    # an ldd that finds two libraries missing, as on a fresh Debian without them
    ldd = tmp_path / "ldd"
    ldd.write_text(
        "#!/bin/sh\n"
        "echo '\tlibxcb-icccm.so.4 => not found'\n"
        "echo '\tlibxcb-keysyms.so.1 => not found'\n"
        "echo '\tlibc.so.6 => /lib/libc.so.6 (0x1)'\n"
    )
    ldd.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", **X11}
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = subprocess.run(
        [sys.executable, "-m", "nodeeditor.platform_check"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1
    assert "libxcb-icccm.so.4 and libxcb-keysyms.so.1 are missing" in message
    assert "apt-get install libxcb-icccm4 libxcb-keysyms1" in message


def test_the_app_says_the_sentence_and_exits_before_qt_starts(monkeypatch, capsys):
    monkeypatch.setattr(platform_check, "problem", lambda: "deepwire: libxcb-x.so.1 is missing.")
    assert run_app([]) == 2
    assert capsys.readouterr().err.strip() == "deepwire: libxcb-x.so.1 is missing."
