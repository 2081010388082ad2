"""File > Import Model…: a PyTorch model (.py) or an ONNX file becomes a project, opened.

``ImportDialog`` asks for the model file, for a ``.py`` file the class or function that
builds the model (offered from the file's top-level definitions, read with ``ast``:
nothing of the file runs until the import itself), the input shape(s), the model's own
state_dict, and where to write the project (``<model>.dwire`` beside the model; its
weights go beside it as ``<project>.safetensors``). It says plainly that importing a
``.py`` file runs its code.

``import_from_window(window)`` asks, asks about unsaved work and a running training
first (as File > Open does), then runs ``engine.commands.importing.import_to_files``
(the command line's import, in a child process) behind the progress dialog; Cancel
kills the child at once and nothing is written. On success the project is opened with
the imported weights kept (exported and previewed at once); on failure the engine's
sentence is shown and the current project stays as it was.
"""

from __future__ import annotations

import ast
import contextlib
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
    QWidget,
)

from engine.errors import DeepwireError
from engine.progress import Cancelled, Progress
from nodeeditor import dialogs, theme
from nodeeditor.progress_dialog import run_with_progress, unexpected

MODEL_FILTER = "Models (*.py *.onnx);;PyTorch model code (*.py);;ONNX files (*.onnx);;All files (*)"
STATE_FILTER = "state_dict (*.pt *.pth *.safetensors);;All files (*)"
MAX_SOURCE_BYTES = 5_000_000  # a larger .py file is not read for its names
NETWORK = "model"  # the network the import writes (an existing project keeps the others)
RUNS_CODE = (
    "Importing runs this file's code (its top level, the constructor and forward), as "
    "Python would: import only code you trust."
)
READ_ONLY = "An ONNX file is read, not run: none of its code is executed."


@dataclass(frozen=True)
class ImportChoice:
    """What the user chose; ``entry`` is the class or function of a ``.py`` model."""

    model: str
    entry: str = ""
    shapes: tuple[str, ...] = ()
    state_dict: str = ""
    output: str = ""

    def arguments(self) -> list[str]:
        """The same import as ``deepwire import`` arguments (without the command)."""
        model, output = _full(self.model), _full(self.output)  # never read as an option
        model = f"{model}:{self.entry}" if is_python(self.model) else model
        argv = [model, "-o", output, "--weights-out", str(weights_beside(output))]
        argv += ["--name", NETWORK]
        for shape in self.shapes:
            argv.append(f"--input-shape={shape}")
        if self.state_dict and is_python(self.model):
            argv += ["--load-weights", _full(self.state_dict)]
        return argv


def _full(path: str) -> str:
    """``path`` made absolute (relative to the working folder, as typed)."""
    return str(Path(path).absolute())


def is_python(path: str) -> bool:
    """Whether ``path`` names a Python file (else it is taken as ONNX)."""
    return path.lower().endswith(".py")


def default_output(model: str) -> str:
    """The project written by default: ``net.py`` -> ``net.dwire`` beside it."""
    path = Path(model)
    return str(path.with_suffix(".dwire")) if model and path.name else ""


def with_project_suffix(output: str) -> str:
    """``net`` -> ``net.dwire``, as Save As does; a name with a suffix stays."""
    path = Path(output)
    return str(path.with_suffix(".dwire")) if path.name and not path.suffix else output


def weights_beside(output: str) -> Path:
    """Where the imported weights go: ``net.dwire`` -> ``net.safetensors``."""
    return Path(output).with_suffix(".safetensors")


def model_names(path: str | Path) -> list[str]:
    """The classes and functions defined at the top of a Python file, most likely
    model first (the last ``Module`` subclass); [] when it cannot be read or parsed.

    The file is parsed with ``ast``, never run.
    """
    try:
        path = Path(path)
        if not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
            return []
        tree = ast.parse(path.read_bytes(), filename=path.name)
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    kinds = (ast.ClassDef, ast.FunctionDef)
    found = [node for node in tree.body if isinstance(node, kinds)]
    names = [node.name for node in found]
    modules = [node.name for node in found if _is_module_class(node)]
    if modules:
        names.remove(modules[-1])
        names.insert(0, modules[-1])
    return names


def _is_module_class(node: ast.AST) -> bool:
    """Whether ``node`` is a class whose bases name a ``...Module``."""
    if not isinstance(node, ast.ClassDef):
        return False
    return any(ast.unparse(base).split(".")[-1].endswith("Module") for base in node.bases)


def split_shapes(text: str) -> tuple[str, ...]:
    """``"x=1,28,28; y=4"`` -> ``("x=1,28,28", "y=4")``: one entry per input."""
    return tuple(part.strip() for part in text.split(";") if part.strip())


def problem(choice: ImportChoice) -> str | None:
    """What is missing or wrong in ``choice`` before anything runs; None when fine."""
    from engine.commands.importing import input_shapes

    python = is_python(choice.model)
    if not choice.model:
        return "Choose the model file: a .py file with the model's code, or an .onnx file."
    if not python and not choice.model.lower().endswith(".onnx"):
        return f"{Path(choice.model).name} is neither a .py nor an .onnx file."
    if not Path(choice.model).is_file():
        return f"{choice.model} is not a file."
    if python and not choice.entry:
        return "Choose the class, or the function, that builds the model."
    if python and not choice.shapes:
        return "Give the shape of one input sample without the batch, e.g. 3,224,224."
    if not choice.output or not Path(choice.output).name or Path(choice.output).is_dir():
        return "Choose the project file to write, e.g. net.dwire."
    try:
        input_shapes(list(choice.shapes) or None)
    except DeepwireError as error:
        return str(error)
    return None


def replaced_note(output: str) -> str:
    """What importing to ``output`` replaces, when it exists; "" otherwise."""
    from engine.project import backup_path

    if not output or not Path(output).name:
        return ""
    path, weights = Path(output), weights_beside(output)
    notes = []
    if path.exists():
        notes.append(
            f"{path.name} exists: its network '{NETWORK}' is replaced and the rest kept "
            f"(the old file stays as {backup_path(path).name})."
        )
    if weights.exists():
        notes.append(f"{weights.name} beside it is replaced by the imported weights.")
    return " ".join(notes)


class ImportDialog(QDialog):
    """Model file, class or function, input shapes, state_dict and project to write."""

    def __init__(self, parent: QWidget | None = None, folder: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Import model")
        self.setMinimumWidth(560)
        self._folder = folder
        self._output_typed = False
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("a .py file with the model's code, or an .onnx file")
        self.entry_box = QComboBox()
        self.entry_box.setEditable(True)
        self.entry_box.setToolTip("The class, or the function that returns the model")
        self.shapes_edit = QLineEdit()
        self.state_edit = QLineEdit()
        self.state_edit.setPlaceholderText("optional: the model's trained state_dict (.pt)")
        self.output_edit = QLineEdit()
        self.code_label = self._note("import_code_note")
        self.replaced_label = self._note("import_replaced_note")
        self.problem_label = self._note("import_problem")
        self.problem_label.setStyleSheet(f"color: {theme.colors()['error']}")
        self._lay_out()
        self.model_edit.textChanged.connect(self._on_model_changed)
        self.output_edit.textEdited.connect(self._on_output_typed)
        self.output_edit.textChanged.connect(self._show_replaced)
        self._on_model_changed("")
        self._show_replaced("")
        self._form.setRowVisible(self.problem_label, False)

    def _note(self, name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        return label

    def _lay_out(self) -> None:
        form = self._form = QFormLayout(self)
        form.addRow("Model file", dialogs.with_browse(self.model_edit, self._browse_model))
        form.addRow(self.code_label)
        form.addRow("Class or function", self.entry_box)
        form.addRow("Input shape", self.shapes_edit)
        form.addRow("State dict", dialogs.with_browse(self.state_edit, self._browse_state))
        form.addRow("Write project to", dialogs.with_browse(self.output_edit, self._browse_output))
        form.addRow(self.replaced_label)
        form.addRow(self.problem_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.import_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _on_model_changed(self, text: str) -> None:
        """A model file was chosen or typed: its names, its notes, a default output."""
        model = text.strip()
        python = is_python(model)
        self.entry_box.clear()
        self.entry_box.addItems(model_names(model) if python else [])
        self.entry_box.setEnabled(python or not model)
        self.state_edit.setEnabled(python or not model)
        self.shapes_edit.setPlaceholderText(
            "e.g. 3,224,224 (several inputs: x=1,28,28; y=4)"
            if python or not model
            else "optional: sizes the file leaves open, e.g. 3,224,224"
        )
        self._show_code_note(model)
        if not self._output_typed:
            self.output_edit.setText(default_output(model))

    def _show_code_note(self, model: str) -> None:
        python = is_python(model)
        self.code_label.setText(RUNS_CODE if python else READ_ONLY if model else "")
        self.code_label.setStyleSheet(f"color: {theme.colors()['warning']}" if python else "")
        self._form.setRowVisible(self.code_label, bool(model))
        self._fit()

    def _on_output_typed(self, _text: str) -> None:
        self._output_typed = True

    def _show_replaced(self, text: str) -> None:
        note = replaced_note(text.strip())
        self.replaced_label.setText(note)
        self._form.setRowVisible(self.replaced_label, bool(note))
        self._fit()

    def _fit(self) -> None:
        """Grow (or shrink) to the notes shown, keeping the width."""
        self.resize(self.width(), self.heightForWidth(self.width()))

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model to import", self._folder, MODEL_FILTER)
        if path:
            self.model_edit.setText(path)

    def _browse_state(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The model's state_dict", "", STATE_FILTER)
        if path:
            self.state_edit.setText(path)

    def _browse_output(self) -> None:
        path = dialogs.save_path(self, self.output_edit.text())
        if path is not None:
            self._output_typed = True
            self.output_edit.setText(str(path))

    def choice(self) -> ImportChoice:
        """The current inputs."""
        return ImportChoice(
            self.model_edit.text().strip(),
            self.entry_box.currentText().strip(),
            split_shapes(self.shapes_edit.text()),
            self.state_edit.text().strip(),
            with_project_suffix(self.output_edit.text().strip()),
        )

    def accept(self) -> None:
        # what is missing is said here, so the user's inputs stay to correct
        reason = problem(self.choice())
        self.problem_label.setText(reason or "")
        self._form.setRowVisible(self.problem_label, reason is not None)
        self._fit()
        if reason is None:
            super().accept()


def ask_import(parent: QWidget, folder: str = "") -> ImportChoice | None:
    """Show the dialog; the ``ImportChoice``, or None when cancelled."""
    dialog = ImportDialog(parent, folder)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return dialog.choice() if accepted else None


def import_from_window(window) -> Path | None:
    """Ask, import in the background and open the project; its path, or None."""
    folder = str(window.document.path.parent) if window.document.path else ""
    choice = ask_import(window, folder)
    if choice is None:
        return None
    if not window.confirm_stop_training("import a model") or not window.maybe_save():
        return None
    outcome = _import_behind_progress(window, choice)
    if outcome is None:
        return None
    return _open_imported(window, *outcome)


def _import_behind_progress(window, choice: ImportChoice):
    """Run the import in a child process behind the progress dialog; the engine's
    ``Imported`` and its weights read, or None (cancelled, or failed: the reason is
    shown)."""
    from engine.cli import build_parser
    from engine.commands.importing import import_to_files

    args = build_parser().parse_args(["import", *choice.arguments()])

    def work(progress, cancel):
        imported = import_to_files(args, progress=progress, cancel=cancel)
        return imported, _read_imported_weights(imported, progress)

    name = Path(choice.model).name
    title = f"Importing {choice.entry} from {name}" if is_python(name) else f"Importing {name}"
    try:
        return run_with_progress(window, title, work, "Stopping the import…")
    except Cancelled:
        window.show_message("Import cancelled: nothing was written")
    except DeepwireError as error:
        dialogs.show_error(window, "Cannot import this model", str(error))
    except Exception as error:  # shown, not lost in the background thread
        dialogs.show_error(
            window, "Cannot import this model", f"the import failed ({unexpected(error)})"
        )
    return None


def _read_imported_weights(imported, progress):
    """In the background thread: the imported weights read for the imported network
    (``read_into_network``'s state and report: a big model's take seconds), None
    without weights, or the ``DeepwireError`` that stopped the reading."""
    from engine import project as project_file
    from nodeeditor.weights_actions import read_into_network

    if imported.weights_out is None:
        return None
    with contextlib.suppress(Cancelled):  # too late to cancel: the files are written
        progress(Progress("reading the imported weights"))
    try:
        network = project_file.load(imported.output).networks[NETWORK]
        return read_into_network(network, Path(imported.weights_out))
    except DeepwireError as error:
        return error


def _open_imported(window, imported, weights) -> Path | None:
    """Open the project written, with the imported ``weights`` as the kept ones."""
    from nodeeditor.document import Document
    from nodeeditor.weights_actions import keep_read_weights

    try:
        document = Document.open(imported.output)
    except DeepwireError as error:
        dialogs.show_error(window, "Cannot open the imported project", str(error))
        return None
    window.show_opened(document, imported.output)
    window.show_network(NETWORK)
    if isinstance(weights, DeepwireError):
        dialogs.show_error(window, "Cannot load weights", str(weights))
    elif weights is not None:
        keep_read_weights(window, Path(imported.weights_out), *weights)
    text = "; ".join(imported.lines)
    window.show_message(text[:1].upper() + text[1:], 15_000)
    return Path(imported.output)
