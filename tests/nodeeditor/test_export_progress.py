"""File > Export runs in the background behind a progress dialog, and Cancel changes nothing."""

import threading

from PySide6.QtWidgets import QMessageBox

from engine.export import program
from engine.progress import Progress
from nodeeditor import export_dialog
from nodeeditor.export_dialog import ExportChoice
from nodeeditor.progress_dialog import ProgressDialog, elapsed_text
from tests.nodeeditor.app_helpers import close_window, open_window, record_errors
from tests.nodeeditor.progress_helpers import watch_progress


def _export_via_menu(window, monkeypatch, choice) -> list[str]:
    """Trigger File > Export with ``choice`` answered; the information texts shown."""
    monkeypatch.setattr(export_dialog, "ask_export", lambda *args, **kwargs: choice)
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "information", lambda parent, title, text, *a, **k: shown.append(text)
    )
    window.actions_by_name["export"].trigger()
    return shown


def test_export_shows_its_stages_and_writes_the_file(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    errors = record_errors(monkeypatch)
    seen = watch_progress(monkeypatch)
    target = tmp_path / "net.pt2"  # a torch.export program: the stages of ONNX but quicker
    shown = _export_via_menu(window, monkeypatch, ExportChoice("program", None, str(target)))
    assert errors == [] and str(target) in shown[0]
    assert target.stat().st_size > 0
    stages = [text for text, _ in seen]
    assert all(visible for _, visible in seen)  # shown while the work runs, in the background
    assert stages == [
        "Preparing the network…",
        "Capturing the graph with torch.export…",
        "Writing net.pt2…",
    ]
    close_window(window)


def test_cancel_leaves_an_existing_target_as_it_was(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    errors = record_errors(monkeypatch)
    target = tmp_path / "net.pt2"
    target.write_bytes(b"the user's earlier model")
    before = sorted(tmp_path.iterdir())
    clicked = threading.Event()
    seen = watch_progress(monkeypatch, cancel_at="capturing", clicked=clicked)
    capture = program.capture

    def capture_until_cancel_is_clicked(*args):  # a tiny network is captured at once
        captured = capture(*args)
        clicked.wait(60)
        return captured

    monkeypatch.setattr(program, "capture", capture_until_cancel_is_clicked)  # the next
    # stage, writing the file, is where the export stops
    shown = _export_via_menu(window, monkeypatch, ExportChoice("program", None, str(target)))
    assert ("Cancelling after the current step…", True) in seen
    assert shown == [] and errors == []
    assert target.read_bytes() == b"the user's earlier model"
    assert sorted(tmp_path.iterdir()) == before  # no temporary file left beside it
    assert "cancelled" in window.statusBar().currentMessage()
    close_window(window)


def test_the_bar_fills_for_counted_stages_and_is_busy_otherwise(qtbot):
    dialog = ProgressDialog(None, "Importing")
    qtbot.addWidget(dialog)
    dialog.show_progress(Progress("checking image colours", 3, 10))
    assert (dialog.bar.maximum(), dialog.bar.value()) == (10, 3)
    assert dialog.stage_label.text() == "Checking image colours 3/10"
    dialog.show_progress(Progress("tracing the model"))
    assert dialog.bar.maximum() == 0 and dialog.stage_label.text() == "Tracing the model…"
    assert [elapsed_text(s) for s in (0.4, 12.7, 65)] == ["0 s", "12 s", "1:05 min"]


def test_an_unexpected_failure_is_shown_not_lost(qtbot, monkeypatch, tmp_path):
    import engine.export

    def broken(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'onnx'")

    monkeypatch.setattr(engine.export, "export", broken)
    window = open_window(qtbot, monkeypatch, tmp_path)
    errors = record_errors(monkeypatch)
    target = tmp_path / "net.onnx"
    _export_via_menu(window, monkeypatch, ExportChoice("onnx", None, str(target)))
    assert errors == ["the export failed (ModuleNotFoundError: No module named 'onnx')"]
    close_window(window)
