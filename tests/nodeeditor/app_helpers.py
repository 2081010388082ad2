"""Helpers for the main-window tests: a window on a project, with dialogs that never block."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from nodeeditor.document import Document
from nodeeditor.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "resources" / "examples" / "digits_mlp.dwire"


def open_window(qtbot, monkeypatch, tmp_path, path: Path | None = EXAMPLE):
    """A shown MainWindow on ``path`` (or an empty project), with settings in tmp_path.

    Any unexpected "save changes?" question is answered Discard, so nothing blocks.
    """
    from nodeeditor.window import MainWindow

    monkeypatch.setenv("DEEPWIRE_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    document = Document.open(path) if path else Document()
    window = MainWindow(document, Settings())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def close_window(window) -> None:
    """Close without questions (call before monkeypatch undoes its patches)."""
    window.document.undo_stack.setClean()
    window.close()


def record_errors(monkeypatch) -> list[str]:
    """Patch QMessageBox.critical; returns the list of messages it is shown."""
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text)
    )
    return shown


def drop_on_view(view, mime, point: QPoint, expect_accept: bool = True):
    """Send the drag-enter, drag-move and drop events a real drag would send."""
    viewport = view.viewport()
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    if expect_accept:
        assert enter.isAccepted()
    move = QDragMoveEvent(point, actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(point), actions, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return drop


def copy_of(example: Path, folder: Path) -> Path:
    """A copy of an example project: training writes its run folder beside it."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / example.name
    shutil.copy(example, copy)
    return copy


def show_training_panel(qtbot, window, epochs: int | None = None):
    """Raise the Training dock, wait for its data preview, optionally set the epochs."""
    window.docks["training"].raise_()
    panel = window.training_panel
    qtbot.waitUntil(lambda: panel.isVisible() and panel.dataset is not None, timeout=10_000)
    if epochs is not None:
        panel.training_form.epochs.setValue(epochs)
    return panel


def click_train(qtbot, panel, wait: bool = True, timeout_ms: int = 60_000) -> None:
    """Click Train like a user; with ``wait``, until the run has ended."""
    assert panel.train_button.isEnabled()
    qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    if wait:
        qtbot.waitUntil(lambda: not panel.is_training(), timeout=timeout_ms)


def run_driver_then_kill(driver: str, args: list[str], env: dict, ready: str) -> None:
    """Run the app ``driver`` script in a process until it prints ``ready``, then kill -9.

    ``env`` is added to the environment, with the app offscreen and this repository on
    the path; no cleanup code of the app can run.
    """
    import os
    import signal
    import subprocess
    import sys

    full_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(
        [sys.executable, "-c", driver, *args],
        cwd=ROOT, env=full_env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout.readline() == f"{ready}\n"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
    assert process.returncode == -signal.SIGKILL
