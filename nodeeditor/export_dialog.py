"""File > Export: choose a format, which weights and where to write.

The weights are those of the last training run (offered first when a run kept some),
fresh initial weights, or a weights file. ``ExportDialog`` asks;
``export_from_window(window)`` asks (through ``ask_export``, which tests replace) and
calls ``engine.export.export`` with the window's network and project. A big network
(an imported DenseNet to ONNX: 40 s) takes a while, so the export runs in a background
thread behind ``nodeeditor.progress_dialog`` (its stages, Cancel); the window keeps
repainting. Success is shown with the files written; a failure with the engine's own
sentence, and the project is left as it was. Cancel stops at the export's next stage
and changes no file (the engine writes atomically).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from engine.errors import DeepwireError
from engine.export import FORMATS, SUFFIXES
from engine.progress import Cancelled
from nodeeditor import dialogs
from nodeeditor.progress_dialog import run_with_progress, unexpected

FORMAT_TEXT = {
    "safetensors": "Weights (.safetensors)",
    "pt": "Weights, PyTorch state_dict (.pt)",
    "onnx": "ONNX (.onnx)",
    "program": "torch.export program (.pt2)",
    "python": "PyTorch folder: model.py, train.py, weights",
}


RUN, FRESH, FILE = "run", "fresh", "file"


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose: format, weights file (or None), output path, and whether
    the weights are those the last training run kept (then ``weights`` is None)."""

    format: str
    weights: str | None
    output: str
    last_run: bool = False


def default_output(project_path: Path | None, fmt: str, network: str | None = None) -> str:
    """Where to write by default: beside the project, named after it (and after
    ``network``, the one exported from a project of several)."""
    base = project_path.with_suffix("") if project_path else Path.home() / "network"
    if network:
        base = base.with_name(f"{base.name}_{network}")
    if fmt == "python":
        return f"{base}_python"
    return str(base) + SUFFIXES[fmt]


class ExportDialog(QDialog):
    """Format combo, optional weights file and output path, with Browse buttons."""

    def __init__(self, parent: QWidget | None = None, project_path: Path | None = None,
                 last_run: str | None = None, network: str | None = None):  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle(f"Export network {network}" if network else "Export network")
        self._project_path = project_path
        self._network = network
        self.format_box = QComboBox()
        for fmt in FORMATS:
            self.format_box.addItem(FORMAT_TEXT.get(fmt, fmt), fmt)
        self.source_box = QComboBox()
        self.source_box.setObjectName("weights_source")
        if last_run:
            self.source_box.addItem(f"Last training run: {last_run}", RUN)
        self.source_box.addItem("Fresh initial weights (not trained)", FRESH)
        self.source_box.addItem("A weights file", FILE)
        self.weights_edit = QLineEdit()
        self.weights_edit.setPlaceholderText("a .safetensors or .pt file")
        self.weights_edit.textEdited.connect(self._on_file_typed)
        self.output_edit = QLineEdit(default_output(project_path, FORMATS[0], network))
        form = QFormLayout(self)
        if network:  # a project of several networks exports the one on the shown tab
            shown = QLabel(network)
            shown.setObjectName("export_network")
            shown.setToolTip("The network on the canvas tab shown; raise another tab to export it")
            form.addRow("Network", shown)
        form.addRow("Format", self.format_box)
        form.addRow("Weights", self.source_box)
        form.addRow("Weights file", dialogs.with_browse(self.weights_edit, self._browse_weights))
        form.addRow("Write to", dialogs.with_browse(self.output_edit, self._browse_output))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format_box.currentIndexChanged.connect(self._on_format_changed)

    def _on_file_typed(self, text: str) -> None:
        if text.strip():
            self.source_box.setCurrentIndex(self.source_box.findData(FILE))

    def _on_format_changed(self, _index: int) -> None:
        fmt = self.format_box.currentData()
        self.output_edit.setText(default_output(self._project_path, fmt, self._network))

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trained weights", "", "Weights (*.safetensors *.pt *.pth);;All files (*)"
        )
        if path:
            self.weights_edit.setText(path)
            self.source_box.setCurrentIndex(self.source_box.findData(FILE))

    def _browse_output(self) -> None:
        if self.format_box.currentData() == "python":
            path = QFileDialog.getExistingDirectory(self, "Folder to write")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output_edit.text())
        if path:
            self.output_edit.setText(path)

    def choice(self) -> ExportChoice:
        """The current inputs."""
        source = self.source_box.currentData()
        weights = self.weights_edit.text().strip() or None if source == FILE else None
        output = self.output_edit.text().strip()
        return ExportChoice(self.format_box.currentData(), weights, output, source == RUN)


def ask_export(parent: QWidget, project_path: Path | None, last_run: str | None = None,
               network: str | None = None):  # fmt: skip
    """Show the dialog; the ``ExportChoice``, or None when cancelled.

    ``last_run`` describes the weights the last training run kept (None: none kept);
    ``network`` names the network exported when the project has several.
    """
    dialog = ExportDialog(parent, project_path, last_run, network)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.choice()


def export_from_window(window) -> list[Path] | None:
    """Ask and export the window's network; the files written, or None."""
    document = window.document
    kept = window.training_panel.kept
    several = len(document.project.networks) > 1
    network = document.network.name if several else None
    last_run = kept_description(document, kept)
    choice = ask_export(window, document.path, last_run, network)
    if choice is None:
        return None
    if not choice.output:
        dialogs.show_error(window, "Export failed", "choose where to write the export")
        return None
    if choice.last_run and kept is None:
        dialogs.show_error(window, "Export failed", "no training run has kept weights yet")
        return None
    result = _export_behind_progress(window, choice, kept)
    if result is None:
        return None
    written = "\n".join(str(p) for p in result.files)
    note = (
        "\n\nNo weights were given, so these are fresh initial weights: train first to "
        "export what the network learned."
        if result.fresh_weights
        else ""
    )
    if choice.last_run:
        note = f"\n\nWeights: the last training run's, {last_run}."
    QMessageBox.information(window, "Exported", f"Wrote:\n{written}{note}")
    return list(result.files)


def _export_behind_progress(window, choice: ExportChoice, kept):
    """Export in a background thread behind the progress dialog; the engine's
    ``ExportResult``, or None (cancelled, or failed: the reason is shown)."""

    def work(progress, _cancel):
        return _export(window.document, choice, kept, progress)

    try:
        return run_with_progress(window, f"Exporting {Path(choice.output).name}", work)
    except Cancelled:
        window.show_message("Export cancelled: nothing was written")
    except DeepwireError as error:
        dialogs.show_error(window, "Export failed", str(error))
    except OSError as error:
        dialogs.show_error(window, "Export failed", f"cannot write {choice.output}: {error}")
    except Exception as error:  # shown, not lost in the background thread
        dialogs.show_error(window, "Export failed", f"the export failed ({unexpected(error)})")
    return None


def kept_description(document, kept) -> str | None:
    """``epoch 4 (val accuracy 97.0%)``; for a GAN's run, which network's part of its
    weights the shown network takes. None when nothing is kept."""
    if kept is None:
        return None
    from engine.project import adversarial_networks

    roles = adversarial_networks(document.project.training) or {}
    name = document.network.name
    return f"{kept.describe()}, the {name}'s part" if name in roles.values() else kept.describe()


def _export(document, choice: ExportChoice, kept, progress=None):
    """Run the engine's export (in the background thread: the dialog is modal, so the
    network does not change meanwhile); the last run's weights go through a temporary
    file."""
    from engine.export import export

    base_dir = document.path.parent if document.path else None
    if not choice.last_run:
        return export(document.network, choice.format, choice.output, choice.weights,
                      project=document.project, base_dir=base_dir, progress=progress)  # fmt: skip
    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory(prefix="deepwire-export-") as folder:
        weights = Path(folder) / "last_run.safetensors"
        save_file(kept.state, str(weights))
        return export(document.network, choice.format, choice.output, str(weights),
                      project=document.project, base_dir=base_dir, progress=progress)  # fmt: skip
