"""Fixtures of the real-display tests: one Xvfb + openbox for the session, and apps
launched on it with a fresh home each (or a given one, to see saved settings again).

The tests are skipped, saying why, only when Xvfb is not installed; `.ci/run` installs
it, so CI always runs them. Xvfb without openbox or xdotool is an error to fix.
"""

import shutil

import pytest

from tests.realdisplay.xserver import RealApp, XDisplay, missing_tools, packages


@pytest.fixture(scope="session")
def display():
    """An X display with a window manager, for the whole session."""
    if shutil.which("Xvfb") is None:
        pytest.skip(f"Xvfb is not installed (apt-get install {packages()})")
    missing = missing_tools()
    if missing:
        pytest.fail(f"{', '.join(missing)} missing beside Xvfb: apt-get install {packages()}")
    started = XDisplay.start()
    yield started
    started.stop()


@pytest.fixture
def launch(display, tmp_path):
    """``launch(*args, home=None)``: run ``deepwire ARGS`` on the display; every app is
    ended after the test."""
    apps = []

    def start(*args, home=None):
        folder = home or tmp_path / f"home{len(apps)}"
        folder.mkdir(parents=True, exist_ok=True)
        app = RealApp(display, folder, *map(str, args))
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.kill()
