"""The Training panel says how the data is read (in memory or streamed from disk) and how
far reading a large dataset is, before the preview shows and before training starts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine import progress as data_progress
from engine import project
from tests.engine.builders import chain
from tests.engine.test_streaming import image_folder
from tests.nodeeditor.app_helpers import close_window, open_window, show_training_panel


@pytest.fixture(name="window")
def window_on_a_streamed_folder(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(data_progress, "AFTER_S", 0.0)  # report however quick the work
    monkeypatch.setattr(data_progress, "EVERY_S", 0.0)
    image_folder(tmp_path / "pics")
    network = chain(("Flatten", {}), ("Linear", {"out_features": 3}), input_shape=(3, 8, 8))
    dataset = {"name": "images", "params": {"path": "pics", "size": [8, 8],
                                            "streaming": "on", "workers": 0}}  # fmt: skip
    path = tmp_path / "pics.dwire"
    project.save(project.Project({"model": network}, dataset, {"epochs": 1}), path)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    yield window
    window.training_panel.shutdown()
    close_window(window)


def test_the_panel_states_the_streaming_path_and_the_reading_progress(qtbot, window, monkeypatch):
    panel = window.training_panel
    told: list[str] = []
    panel.loading.connect(lambda generation, text: told.append(text))
    panel = show_training_panel(qtbot, window)
    assert (
        panel.summary.text()
        .splitlines()[-1]
        .startswith("Streaming 21 images from disk in this process; the first epoch caches")
    )
    assert "reading a sample for the normalisation 18/18" in told
    statuses: list[str] = []
    real = panel.progress.set_status
    monkeypatch.setattr(panel.progress, "set_status",
                        lambda text, *shorter: (statuses.append(text), real(text, *shorter)))  # fmt: skip
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_training(), timeout=60_000)
    assert "reading a sample for the normalisation 18/18" in statuses
    assert any(text.startswith("streaming 21 images from disk") for text in statuses)
    assert statuses[-1] == "finished after 1 epoch(s)"
