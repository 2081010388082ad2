"""Fixtures of the app tests."""

import pytest

from tests.nodeeditor.app_helpers import EXAMPLE, close_window, copy_of, open_window


@pytest.fixture(name="window")
def window_on_a_copy(qtbot, monkeypatch, tmp_path):
    """A shown window on a copy of the digits MLP example (a run writes beside the copy).

    Test files that need another window define their own ``window`` fixture.
    """
    window = open_window(qtbot, monkeypatch, tmp_path, copy_of(EXAMPLE, tmp_path))
    yield window
    window.training_panel.shutdown()
    close_window(window)
