"""A GAN project in the Training panel: its run ends as a run (not as a failure), the
results speak of its last epoch and show what the generator made, the data's suggestion
and the settings are a GAN's, and Export takes the shown network's part of the weights.

The examples' settings are cut down (few samples, one or two epochs) so a run takes a
second or two; Train is clicked like a user does.
"""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from safetensors.torch import load_file

from nodeeditor import export_dialog
from nodeeditor.export_dialog import ExportChoice, ExportDialog
from nodeeditor.panels.training.outcome import failure_text
from nodeeditor.panels.training.past_runs import latest_kept
from nodeeditor.training_thread import KeptWeights
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    close_window,
    open_window,
    show_training_panel,
)

EXAMPLES = EXAMPLE.parent


def small_gan(example: str, folder, dataset_params: dict, epochs: int):
    """A copy of a GAN example with less data and fewer epochs."""
    data = json.loads((EXAMPLES / example).read_text())
    data["dataset"]["params"].update(dataset_params)
    data["training"].update(epochs=epochs, batch_size=64)
    path = folder / example
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(name="rings")
def rings_window(qtbot, monkeypatch, tmp_path):
    path = small_gan("gan_rings.dwire", tmp_path, {"n_samples": 256}, epochs=2)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    yield window
    window.training_panel.shutdown()
    close_window(window)


@pytest.fixture(name="digits")
def digits_window(qtbot, monkeypatch, tmp_path):
    path = small_gan("gan_digits.dwire", tmp_path, {"limit": 128}, epochs=1)
    window = open_window(qtbot, monkeypatch, tmp_path, path)
    yield window
    window.training_panel.shutdown()
    close_window(window)


def train(qtbot, window):
    """Click Train and wait for the end; returns the reason the panel announced."""
    panel = show_training_panel(qtbot, window)
    with qtbot.waitSignal(panel.training_ended, timeout=120_000) as ended:
        qtbot.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    return panel, ended.args[0]


def test_a_gan_run_ends_finished_with_its_last_epoch_and_its_generated_points(qtbot, rings):
    panel, reason = train(qtbot, rings)
    assert reason == "finished"
    assert not panel.error_label.isVisible()
    summary = panel.results.summary.text()
    assert summary.startswith("Finished after 2 epoch(s). Last epoch 2: D loss ")
    assert "D(real)" in summary and "D(fake)" in summary and "generated samples spread" in summary
    assert "Best epoch" not in summary and "train d loss" not in summary
    assert "Kept the weights of epoch 2" in summary
    results = panel.results
    assert panel.tabs.currentWidget() is results
    assert results.generated.isVisible() and not results.boundary.isVisible()
    assert len(results.fake_points.getData()[0]) == len(panel.last_view.fake) > 0
    assert "epoch 2" in results.gan_title.text()
    assert panel.notes.text().startswith("Doctor:")
    assert panel.progress.status() == "finished after 2 epoch(s)"


def test_a_gan_shows_its_live_view_from_the_start_not_loss_and_accuracy(qtbot, rings):
    panel = show_training_panel(qtbot, rings)
    assert panel.plots.gan.isVisible() and not panel.plots.graphics.isVisible()


def test_an_image_gan_ends_with_its_samples_in_the_results(qtbot, digits):
    panel, reason = train(qtbot, digits)
    assert reason == "finished"
    samples = panel.results.samples
    assert samples.isVisible() and not samples.pixmap().isNull()
    assert not panel.results.confusion.isVisible()  # no classifier here
    assert panel.last_view.images.shape[0] == 16


def test_the_data_suggests_what_a_gan_needs_and_offers_no_classifier_fix(qtbot, digits):
    panel = show_training_panel(qtbot, digits)
    text = panel.suggestion.text()
    assert "discriminator takes samples (1, 8, 8)" in text and "64 numbers" in text
    assert "CrossEntropyLoss" not in text and "out_features=10" not in text
    assert not panel.apply_button.isVisible() and not panel.apply_button.isEnabled()
    assert not panel.apply_suggestion()  # the generator is left as drawn
    assert not digits.document.modified


def test_the_settings_show_the_two_optimizers_and_hide_what_a_gan_does_not_use(qtbot, digits):
    form = show_training_panel(qtbot, digits).training_form
    for widget in (form.loss, form.optimizer, form.lr, form.weight_decay, form.scheduler,
                   form.patience):  # fmt: skip
        assert not widget.isVisible(), widget.objectName()
    assert form.gan_optimizers.isVisible()
    assert form.gan_optimizers.text() == (
        "generator: Adam, lr 0.0005; discriminator: Adam, lr 0.0005"
    )
    assert form.epochs.isVisible() and form.batch_size.isVisible()


def test_export_takes_the_shown_networks_part_of_the_gan_weights(qtbot, rings, monkeypatch):
    train(qtbot, rings)
    rings.show_network("discriminator")
    rings.show_network("generator")  # as a user raises its tab
    output = rings.document.path.with_name("generator.safetensors")
    asked = []

    def ask(*args):
        asked.append(args)
        return ExportChoice("safetensors", None, str(output), last_run=True)

    monkeypatch.setattr(export_dialog, "ask_export", ask)
    monkeypatch.setattr(export_dialog.QMessageBox, "information", lambda *a, **k: None)
    assert export_dialog.export_from_window(rings) == [output]
    assert asked[0][2] == "epoch 2, the generator's part" and asked[0][3] == "generator"
    tensors = load_file(str(output))
    assert set(tensors) == {f"{node}.{tensor}" for node in ("fc1", "fc2", "fc3")
                            for tensor in ("weight", "bias")}  # fmt: skip
    assert tuple(tensors["fc3.weight"].shape) == (2, 128)  # the generator's: a 2-D point


def test_the_export_dialog_names_the_network_and_writes_it_beside_the_project(qtbot, tmp_path):
    dialog = ExportDialog(None, tmp_path / "gan.dwire", "epoch 2, the generator's part",
                          "generator")  # fmt: skip
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Export network generator"
    assert dialog.choice().output == str(tmp_path / "gan_generator.safetensors")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("python"))
    assert dialog.choice().output == str(tmp_path / "gan_generator_python")
    assert dialog.source_box.itemText(0) == "Last training run: epoch 2, the generator's part"


def test_a_gans_kept_weights_are_called_its_last_not_its_best(tmp_path):
    run = tmp_path / "gan_runs" / "2026-11-30_05-17-07"
    run.mkdir(parents=True)
    header = "epoch,train_d_loss,train_g_loss,train_d_real,train_d_fake,lr"
    (run / "metrics.csv").write_text(
        f"{header}\n1,1.2,0.9,0.6,0.4,0.001\n2,1.3,0.8,0.5,0.5,0.001\n"
    )
    (run / "weights.safetensors").write_bytes(b"")  # read only when used
    kept = latest_kept(tmp_path / "gan.dwire")
    assert kept.describe() == "the last of 2 epoch(s) of the run 2026-11-30_05-17-07"
    failed = KeptWeights({}, 7, {"epoch": 7, "train_d_loss": 1.2}, run / "weights.safetensors")
    text = failure_text("the loss became nan", failed, None)
    assert "The weights of epoch 7, the last before the failure, are kept" in text
