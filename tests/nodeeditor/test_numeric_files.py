"""The app opens files holding numbers no machine can hold: one message, the work kept.

Before the engine refused them, such files gave tracebacks at start-up or when the node
was selected (an int above 2**31 - 1 in the inspector's spin box, a batch size of 10**30
in the training form, a 900-deep dataset param). Now no such value reaches a widget.
"""

from __future__ import annotations

import pytest

from engine import project as project_file
from engine.errors import DeepwireError
from nodeeditor.document import Document
from tests.engine.test_numeric_bounds import HOSTILE_FILES
from tests.nodeeditor.app_helpers import record_errors


def test_opening_each_file_shows_one_message_and_keeps_the_project(window, monkeypatch, tmp_path):
    before = project_file.dumps(window.document.project)
    errors = record_errors(monkeypatch)
    for index, (name, (text, word)) in enumerate(HOSTILE_FILES.items()):
        path = tmp_path / f"hostile{index}.dwire"
        path.write_text(text, encoding="utf-8")
        assert not window.open_file(path), name
        assert len(errors) == index + 1 and f"hostile{index}.dwire" in errors[-1], name
        assert word in errors[-1] and "Traceback" not in errors[-1], errors[-1]
        with pytest.raises(DeepwireError):  # what the app does with a file at start-up
            Document.open(path)
    assert project_file.dumps(window.document.project) == before


def test_the_largest_values_allowed_open_and_show_in_the_widgets(window, qtbot, tmp_path):
    text = project_file.dumps(window.document.project)
    data = project_file.loads(text).to_dict()
    data["networks"]["model"]["nodes"][1]["params"]["out_features"] = 2**31 - 1
    data["training"]["batch_size"] = 2**31 - 1
    data["training"]["seed"] = 2**31 - 1
    path = tmp_path / "widest.dwire"
    path.write_text(project_file.dumps(project_file.from_dict(data)))
    assert window.open_file(path)
    window.scene.select_nodes(["fc1"])
    qtbot.waitUntil(lambda: window.inspector.node_id == "fc1")
    assert window.inspector.fields["out_features"].editor.value() == 2**31 - 1
