"""Files: save and reopen, the unsaved mark, questions before losing work, recent files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox, QPushButton

from engine import project as project_file
from nodeeditor import commands, dialogs, files
from nodeeditor.settings import Settings
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    close_window,
    copy_of,
    drop_on_view,
    open_window,
    record_errors,
)

Button = QMessageBox.StandardButton


@pytest.fixture
def window(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    yield window
    close_window(window)


def answer(monkeypatch, button):
    """Answer every "save changes?" question with ``button``; returns the questions asked."""
    asked = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def save_dialog_returns(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))


def edit(window):
    commands.set_params(window.document, "fc1", {"out_features": 48})


def test_save_as_then_reopen_gives_the_same_project(window, monkeypatch, tmp_path):
    edit(window)
    target = tmp_path / "mine"
    save_dialog_returns(monkeypatch, target)
    window.actions_by_name["save_as"].trigger()
    saved = target.with_suffix(".dwire")
    assert saved.is_file()
    assert window.document.path == saved
    expected = project_file.dumps(window.document.project)
    assert window.open_file(saved)
    assert project_file.dumps(window.document.project) == expected
    assert window.document.network.node("fc1").params["out_features"] == 48


def test_unsaved_mark_follows_edits_undo_and_save(window, monkeypatch, tmp_path):
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("digits_mlp.dwire")
    edit(window)
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert not window.isWindowModified()
    window.document.undo_stack.redo()
    target = tmp_path / "copy.dwire"
    save_dialog_returns(monkeypatch, target)
    window.save_as()
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("copy.dwire")
    edit_again = window.document.network.node("fc2")
    commands.set_params(window.document, edit_again.id, {"out_features": 5})
    window.actions_by_name["save"].trigger()
    assert not window.isWindowModified()
    assert project_file.load(target).network.node("fc2").params["out_features"] == 5


def test_closing_with_unsaved_changes_asks_and_cancel_keeps_the_window(window, monkeypatch):
    edit(window)
    asked = answer(monkeypatch, Button.Cancel)
    assert not window.close()
    assert asked and "digits_mlp.dwire" in asked[0]
    assert window.isVisible()
    assert window.document.network.node("fc1").params["out_features"] == 48


def test_closing_with_save_saves_then_closes(window, monkeypatch, tmp_path):
    target = tmp_path / "digits.dwire"
    target.write_text(EXAMPLE.read_text())
    assert window.open_file(target)
    edit(window)
    answer(monkeypatch, Button.Save)
    assert window.close()
    assert project_file.load(target).network.node("fc1").params["out_features"] == 48


def test_closing_without_changes_asks_nothing(window, monkeypatch):
    asked = answer(monkeypatch, Button.Cancel)
    assert window.close()
    assert asked == []


def test_opening_a_broken_file_shows_the_engines_message_and_keeps_the_work(
    window, monkeypatch, tmp_path
):
    edit(window)
    before = project_file.dumps(window.document.project)
    document = window.document
    broken = tmp_path / "broken.dwire"
    broken.write_text('{"format": "deepwire", "version": 1, "networks": {"model": {"nodes": [')
    errors = record_errors(monkeypatch)
    asked = answer(monkeypatch, Button.Discard)
    assert not window.open_file(broken)
    assert len(errors) == 1 and "broken.dwire" in errors[0] and "truncated" in errors[0]
    assert asked == []
    assert window.document is document
    assert project_file.dumps(window.document.project) == before
    assert window.isWindowModified()


def test_opening_another_file_with_unsaved_changes_asks_first(window, monkeypatch, tmp_path):
    edit(window)
    other = tmp_path / "other.dwire"
    other.write_text(EXAMPLE.read_text())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    asked = answer(monkeypatch, Button.Cancel)
    window.actions_by_name["open"].trigger()
    assert len(asked) == 1
    assert window.document.path == EXAMPLE
    answer(monkeypatch, Button.Discard)
    window.actions_by_name["open"].trigger()
    assert window.document.path == other
    assert not window.isWindowModified()


def test_a_failed_save_says_so_and_keeps_the_work(window, monkeypatch, tmp_path):
    edit(window)
    errors = record_errors(monkeypatch)
    assert not window.save_as(tmp_path / "no such folder" / "x.dwire")
    assert len(errors) == 1 and "not saved" in errors[0]
    assert window.isWindowModified()
    assert window.document.path == EXAMPLE


def test_recent_files_are_remembered_and_reopen(window, monkeypatch, tmp_path):
    first, second = tmp_path / "a.dwire", tmp_path / "b.dwire"
    for path in (first, second):
        path.write_text(EXAMPLE.read_text())
        assert window.open_file(path)
    assert Settings().recent_files()[:2] == [str(second.resolve()), str(first.resolve())]
    window.fill_recent_menu()
    actions = [a for a in window.menus["recent"].actions() if a.text() == "a.dwire"]
    assert len(actions) == 1
    actions[0].trigger()
    assert window.document.path == first


def test_new_offers_the_examples_and_an_empty_network(window, monkeypatch):
    offered = []

    def get_item(parent, title, label, items, *args, **kwargs):
        offered.extend(items)
        return "digits mlp", True

    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    window.actions_by_name["new"].trigger()
    assert "Empty network" in offered and "digits mlp" in offered
    assert window.document.path is None
    assert window.windowTitle().startswith("Untitled")
    assert len(window.document.network) == len(project_file.load(EXAMPLE).network)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("Empty network", True))
    window.new_file()
    assert len(window.document.network) == 0


def file_mime(path):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_a_dwire_file_dropped_on_the_window_opens(window, tmp_path):
    dropped = tmp_path / "dropped.dwire"
    dropped.write_text(EXAMPLE.read_text())
    mime = file_mime(dropped)
    point = QPoint(5, 5)
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, drop)
    assert window.document.path == Path(dropped)


def test_a_dwire_file_dropped_on_the_canvas_opens_and_other_files_do_not(window, tmp_path, qtbot):
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    view = window.view
    centre = view.viewport().rect().center()
    drop_on_view(view, file_mime(other), centre, expect_accept=False)
    qtbot.wait(5)
    assert window.document.path == EXAMPLE
    dropped = tmp_path / "dropped.dwire"
    dropped.write_text(EXAMPLE.read_text())
    drop_on_view(view, file_mime(dropped), centre)
    qtbot.waitUntil(lambda: window.document.path == dropped)


# ------------------------------------------------------------------ read-only files
def read_only_window(qtbot, monkeypatch, tmp_path, mode=0o444):
    """A window on a copy of the example whose file is then made read-only (``mode``)."""
    path = copy_of(EXAMPLE, tmp_path)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    edit(window)
    path.chmod(mode)
    return window, path, path.read_bytes()


def click_when_shown(qtbot, text: str) -> None:
    """Click the button labelled ``text`` of the next modal dialog, as a user would."""

    def click():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, click)
            return
        button = next(b for b in box.findChildren(QPushButton) if b.text() == text)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, click)


def test_save_onto_a_read_only_file_asks_and_saves_under_another_name(qtbot, monkeypatch, tmp_path):
    window, path, before = read_only_window(qtbot, monkeypatch, tmp_path)
    offered = []
    monkeypatch.setattr(
        dialogs, "save_path", lambda parent, suggestion="": offered.append(suggestion) or other
    )
    other = tmp_path / "mine.dwire"
    click_when_shown(qtbot, "Save As…")
    assert window.save()
    assert offered == [str(tmp_path / "digits_mlp copy.dwire")]
    assert path.read_bytes() == before and path.stat().st_mode & 0o777 == 0o444
    assert window.document.path == other and not window.document.modified
    assert project_file.load(other).network.node("fc1").params["out_features"] == 48
    close_window(window)


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o555, 0o040])
@pytest.mark.parametrize("way", ["save", "save as onto it", "close and save"])
def test_a_read_only_file_is_never_replaced_and_cancel_keeps_the_work(
    qtbot, monkeypatch, tmp_path, mode, way
):
    window, path, before = read_only_window(qtbot, monkeypatch, tmp_path, mode)
    asked = []
    monkeypatch.setattr(files, "ask_save_read_only", lambda parent, name: asked.append(name))
    if way == "save":
        assert not window.save()
    elif way == "save as onto it":
        assert not window.save_as(path)
    else:
        answer(monkeypatch, Button.Save)
        assert not window.close()
    assert asked == ["digits_mlp.dwire"]
    assert path.read_bytes() == before and path.stat().st_mode & 0o777 == mode
    assert not project_file.backup_path(path).exists()
    assert window.document.modified and window.document.path == path
    close_window(window)


def test_a_file_without_positions_opens_laid_out_not_piled_up(window, tmp_path):
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [8]}}]
    edges = []
    for index in range(400):  # a long chain, every node at the default position
        nodes.append({"id": f"act{index}", "type": "ReLU"})
        edges.append({"from": [nodes[-2]["id"], "out"], "to": [f"act{index}", "in"]})
    nodes.append({"id": "output", "type": "Output"})
    edges.append({"from": ["act399", "out"], "to": ["output", "in"]})
    data = {
        "format": "deepwire",
        "version": 2,
        "networks": {"model": {"nodes": nodes, "edges": edges}},
    }
    path = tmp_path / "piled.dwire"
    path.write_text(json.dumps(data))
    assert window.open_file(path)
    network = window.document.network
    assert len({node.pos for node in network.nodes}) == len(network)
    rects = [
        item.sceneBoundingRect() for item in window.view.scene().items() if hasattr(item, "node_id")
    ]
    assert len(rects) >= len(network)
