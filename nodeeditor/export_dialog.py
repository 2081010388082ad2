"""File > Export: choose a format, optional trained weights and where to write.

``ExportDialog`` asks; ``export_from_window(window)`` asks (through ``ask_export``,
which tests replace) and calls ``engine.export.export`` with the window's network and
project. Exporting a drawn network takes well under a second, so it runs in the main
thread under a wait cursor. Success is shown with the files written; a failure with the
engine's own sentence, and the project is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from engine.errors import DeepwireError
from engine.export import FORMATS, SUFFIXES
from nodeeditor import dialogs

FORMAT_TEXT = {
    "safetensors": "Weights (.safetensors)",
    "pt": "Weights, PyTorch state_dict (.pt)",
    "onnx": "ONNX (.onnx)",
    "program": "torch.export program (.pt2)",
    "python": "PyTorch folder: model.py, train.py, weights",
}


@dataclass(frozen=True)
class ExportChoice:
    """What the user chose: format, weights file (or None) and output path."""

    format: str
    weights: str | None
    output: str


def default_output(project_path: Path | None, fmt: str) -> str:
    """Where to write by default: beside the project, named after it."""
    base = project_path.with_suffix("") if project_path else Path.home() / "network"
    if fmt == "python":
        return f"{base}_python"
    return str(base) + SUFFIXES[fmt]


class ExportDialog(QDialog):
    """Format combo, optional weights file and output path, with Browse buttons."""

    def __init__(self, parent: QWidget | None = None, project_path: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export network")
        self._project_path = project_path
        self.format_box = QComboBox()
        for fmt in FORMATS:
            self.format_box.addItem(FORMAT_TEXT.get(fmt, fmt), fmt)
        self.weights_edit = QLineEdit()
        self.weights_edit.setPlaceholderText("none: fresh initial weights (train first)")
        self.output_edit = QLineEdit(default_output(project_path, FORMATS[0]))
        form = QFormLayout(self)
        form.addRow("Format", self.format_box)
        form.addRow("Trained weights", self._with_browse(self.weights_edit, self._browse_weights))
        form.addRow("Write to", self._with_browse(self.output_edit, self._browse_output))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format_box.currentIndexChanged.connect(self._on_format_changed)

    def _with_browse(self, edit: QLineEdit, slot) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(edit)
        button = QPushButton("Browse…")
        button.clicked.connect(slot)
        layout.addWidget(button)
        return row

    def _on_format_changed(self, _index: int) -> None:
        self.output_edit.setText(default_output(self._project_path, self.format_box.currentData()))

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trained weights", "", "Weights (*.safetensors *.pt *.pth);;All files (*)"
        )
        if path:
            self.weights_edit.setText(path)

    def _browse_output(self) -> None:
        if self.format_box.currentData() == "python":
            path = QFileDialog.getExistingDirectory(self, "Folder to write")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output_edit.text())
        if path:
            self.output_edit.setText(path)

    def choice(self) -> ExportChoice:
        """The current inputs."""
        weights = self.weights_edit.text().strip() or None
        return ExportChoice(self.format_box.currentData(), weights, self.output_edit.text().strip())


def ask_export(parent: QWidget, project_path: Path | None) -> ExportChoice | None:
    """Show the dialog; the choice, or None when cancelled."""
    dialog = ExportDialog(parent, project_path)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.choice()


def export_from_window(window) -> list[Path] | None:
    """Ask and export the window's network; the files written, or None."""
    document = window.document
    choice = ask_export(window, document.path)
    if choice is None:
        return None
    if not choice.output:
        dialogs.show_error(window, "Export failed", "choose where to write the export")
        return None
    from engine.export import export

    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        result = export(
            document.network, choice.format, choice.output, choice.weights,
            project=document.project,
            base_dir=document.path.parent if document.path else None,
        )  # fmt: skip
    except DeepwireError as error:
        QGuiApplication.restoreOverrideCursor()
        dialogs.show_error(window, "Export failed", str(error))
        return None
    except OSError as error:
        QGuiApplication.restoreOverrideCursor()
        dialogs.show_error(window, "Export failed", f"cannot write {choice.output}: {error}")
        return None
    QGuiApplication.restoreOverrideCursor()
    written = "\n".join(str(p) for p in result.files)
    note = (
        "\n\nNo weights were given, so these are fresh initial weights: train first to "
        "export what the network learned."
        if result.fresh_weights
        else ""
    )
    QMessageBox.information(window, "Exported", f"Wrote:\n{written}{note}")
    return list(result.files)
