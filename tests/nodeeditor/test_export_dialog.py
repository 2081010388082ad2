"""File > Export: the menu action exports the window's network, or shows why not."""

from PySide6.QtWidgets import QMessageBox
from safetensors.torch import load_file

from nodeeditor import export_dialog
from nodeeditor.export_dialog import ExportChoice, ExportDialog
from tests.nodeeditor.app_helpers import close_window, open_window, record_errors


def _patch_dialog(monkeypatch, choice):
    monkeypatch.setattr(export_dialog, "ask_export", lambda *args, **kwargs: choice)
    shown = []
    monkeypatch.setattr(
        QMessageBox, "information", lambda parent, title, text, *a, **k: shown.append(text)
    )
    return shown


def test_export_action_writes_the_networks_weights(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    target = tmp_path / "net.safetensors"
    shown = _patch_dialog(monkeypatch, ExportChoice("safetensors", None, str(target)))
    errors = record_errors(monkeypatch)
    action = window.actions_by_name["export"]
    assert action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    assert errors == []
    keys = {k.split(".")[0] for k in load_file(target)}
    assert keys == {n.id for n in window.document.network.nodes if n.type == "Linear"}
    assert str(target) in shown[0] and "fresh initial weights" in shown[0]
    close_window(window)


def test_export_python_folder_includes_train_py(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    folder = tmp_path / "out"
    _patch_dialog(monkeypatch, ExportChoice("python", None, str(folder)))
    window.actions_by_name["export"].trigger()
    assert {"model.py", "train.py", "model.safetensors"} <= {p.name for p in folder.iterdir()}
    close_window(window)


def test_export_error_is_shown_in_the_engines_words(qtbot, monkeypatch, tmp_path):
    window = open_window(qtbot, monkeypatch, tmp_path)
    weights = tmp_path / "wrong.safetensors"
    weights.write_bytes(b"not weights")
    _patch_dialog(monkeypatch, ExportChoice("onnx", str(weights), str(tmp_path / "m.onnx")))
    errors = record_errors(monkeypatch)
    window.actions_by_name["export"].trigger()
    assert len(errors) == 1 and "wrong.safetensors" in errors[0]
    assert not (tmp_path / "m.onnx").exists()
    close_window(window)


def test_dialog_suggests_a_path_per_format(qtbot, tmp_path):
    dialog = ExportDialog(None, tmp_path / "digits.dwire")
    qtbot.addWidget(dialog)
    assert dialog.choice().output == str(tmp_path / "digits.safetensors")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("python"))
    assert dialog.source_box.currentData() == "fresh"  # no run has kept weights
    qtbot.keyClicks(dialog.weights_edit, " w.safetensors ")  # typing a file chooses it
    choice = dialog.choice()
    assert choice == ExportChoice("python", "w.safetensors", str(tmp_path / "digits_python"))


def test_dialog_offers_the_last_runs_weights_first(qtbot, tmp_path):
    dialog = ExportDialog(None, tmp_path / "digits.dwire", "epoch 4 (val accuracy 97.0%)")
    qtbot.addWidget(dialog)
    assert dialog.source_box.currentText() == "Last training run: epoch 4 (val accuracy 97.0%)"
    assert dialog.choice().last_run and dialog.choice().weights is None
    dialog.source_box.setCurrentIndex(dialog.source_box.findData("fresh"))
    assert not dialog.choice().last_run
