"""File > Load Weights… and "Start from kept weights": reuse trained weights in the app."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from safetensors.torch import load_file, save_file

from engine import project as project_file
from engine.compile import compile_network
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    click_train,
    close_window,
    copy_of,
    open_window,
    record_errors,
    show_training_panel,
)

LEFT = Qt.MouseButton.LeftButton
TRANSFER_SOURCE = EXAMPLE.with_name("transfer_digits_source.dwire")
TRANSFER_TARGET = EXAMPLE.with_name("transfer_digits_target.dwire")


def choose_file(monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))


show_panel, train = show_training_panel, click_train


def trained_weights(network, tmp_path, name="trained.safetensors"):
    """Weights of ``network`` that differ from any fresh initialisation."""
    torch.manual_seed(123)
    own = compile_network(network).state_dict()
    state = {k: torch.randn_like(v) if v.is_floating_point() else v.clone() for k, v in own.items()}
    path = tmp_path / name
    save_file(state, str(path))
    return path, state


def test_load_weights_keeps_them_and_export_offers_them(qtbot, window, monkeypatch, tmp_path):
    path, state = trained_weights(window.document.network, tmp_path)
    choose_file(monkeypatch, path)
    panel = window.training_panel
    action = window.actions_by_name["load_weights"]
    assert action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    kept = panel.kept
    assert kept.source == "loaded from trained.safetensors" and kept.path == path
    assert panel.kept_label.text() == f"Weights: loaded from trained.safetensors, {path}"
    assert all(torch.equal(kept.state[k], v) for k, v in state.items())
    offered = []
    monkeypatch.setattr("nodeeditor.export_dialog.ask_export", lambda *a: offered.append(a[2]))
    window.actions_by_name["export"].trigger()
    assert offered == ["loaded from trained.safetensors"]


def test_weights_that_do_not_fit_are_refused_with_the_reason(qtbot, window, monkeypatch, tmp_path):
    wrong = tmp_path / "other.safetensors"
    save_file({"nothing.weight": torch.zeros(3)}, str(wrong))
    errors = record_errors(monkeypatch)
    choose_file(monkeypatch, wrong)
    window.actions_by_name["load_weights"].trigger()
    assert len(errors) == 1 and "no node of this network matches" in errors[0]
    assert window.training_panel.kept is None
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 40)
    choose_file(monkeypatch, broken)
    window.actions_by_name["load_weights"].trigger()
    assert len(errors) == 2 and "broken.safetensors" in errors[1]
    assert window.training_panel.kept is None


def test_weights_of_a_smaller_network_load_in_part_and_say_which(qtbot, monkeypatch, tmp_path):
    source = project_file.load(TRANSFER_SOURCE).network
    path, state = trained_weights(source, tmp_path, "source.safetensors")
    window = open_window(qtbot, monkeypatch, tmp_path, copy_of(TRANSFER_TARGET, tmp_path))
    try:
        choose_file(monkeypatch, path)
        shown = []
        monkeypatch.setattr(QMessageBox, "information", lambda p, t, text, *a: shown.append(text))
        window.actions_by_name["load_weights"].trigger()
        kept = window.training_panel.kept
        assert len(shown) == 1 and "skipped" in shown[0] and "loaded weights for" in shown[0]
        loaded = [k for k in state if k in kept.state and kept.state[k].shape == state[k].shape]
        assert loaded and all(torch.equal(kept.state[k], state[k]) for k in loaded)
        assert "fresh weights for" in kept.source
    finally:
        close_window(window)


def test_start_from_kept_weights_trains_on_from_them(qtbot, window):
    panel = show_panel(qtbot, window, epochs=6)
    assert not panel.start_from_kept.isEnabled()  # nothing kept yet
    train(qtbot, panel)
    first = panel.kept
    assert first.epoch >= 1 and panel.start_from_kept.isEnabled()
    fresh_loss = panel.plots.points["batch_loss"][1][0]
    qtbot.mouseClick(panel.start_from_kept, LEFT)
    assert panel.start_from_kept.isChecked()
    panel.training_form.epochs.setValue(1)
    train(qtbot, panel)
    resumed_loss = panel.plots.points["batch_loss"][1][0]
    assert resumed_loss < 0.5 * fresh_loss  # the first batch already knows the digits
    assert load_file(panel.kept.path).keys() == first.state.keys()


def test_the_panel_says_when_the_network_no_longer_fits_the_kept_weights(qtbot, window):
    from nodeeditor import commands

    panel = show_panel(qtbot, window, epochs=2)
    train(qtbot, panel)
    assert "changed since" not in panel.kept_label.text()
    commands.set_params(window.document, "fc1", {"out_features": 32})
    qtbot.waitUntil(lambda: "weighted layers changed since" in panel.kept_label.text())
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "changed since" not in panel.kept_label.text())
    window.add_layer_at_centre("ReLU")  # a layer without weights changes nothing
    qtbot.waitUntil(lambda: window.document.analysis.network is window.document.network)
    assert "changed since" not in panel.kept_label.text()
    window.document.undo_stack.undo()  # an unconnected layer would stop training
    commands.set_params(window.document, "fc2", {"out_features": 12})
    qtbot.mouseClick(panel.start_from_kept, LEFT)
    panel.training_form.epochs.setValue(1)
    train(qtbot, panel)
    assert not panel.error_label.isVisible(), panel.error_label.text()
    warning = panel.warning_label.text()
    assert "started from the kept weights for 1 node(s)" in warning and "fc2" in warning


def test_show_files_opens_the_folder_of_the_kept_weights(qtbot, window, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    panel = show_panel(qtbot, window, epochs=1)
    assert not panel.show_files_button.isEnabled()  # nothing kept yet
    train(qtbot, panel)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(panel.show_files_button, LEFT)
    assert [url.toLocalFile() for url in opened] == [str(panel.kept.path.parent)]
    assert (panel.kept.path.parent / "metrics.csv").is_file()
