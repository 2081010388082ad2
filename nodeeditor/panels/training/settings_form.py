"""Forms for the project's ``dataset`` and ``training`` sections.

Every edit becomes a ``SetSectionCommand`` on the document's undo stack, so it can be
undone and marks the document modified (Save writes it). Quick repeated changes of one
field (spin box arrows) merge into one undo step. The forms show the values of the
section with the engine's defaults filled in (``dataset_params``, ``TrainingConfig``).
"""

from __future__ import annotations

import copy
import json

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from engine.data import dataset_names, dataset_params
from engine.data.registry import FILE_DATASETS
from engine.errors import DeepwireError
from engine.training.config import LOSSES, OPTIMIZERS, SCHEDULERS, TrainingConfig, label
from nodeeditor.panels.spin_boxes import float_spin, int_spin

MERGE_ID = 0x7D1


class SetSectionCommand(QUndoCommand):
    """Replace ``project.dataset`` or ``project.training``; edits of one field merge."""

    def __init__(self, document, section: str, old, new, field: str = ""):
        super().__init__(f"Change {section} {field}".strip())
        self.document, self.section, self.field = document, section, field
        self.old, self.new = copy.deepcopy(old), copy.deepcopy(new)

    def id(self) -> int:
        return MERGE_ID

    def mergeWith(self, other) -> bool:
        same = (other.section, other.field) == (self.section, self.field) and self.field
        if not same:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        setattr(self.document.project, self.section, copy.deepcopy(self.new))

    def undo(self) -> None:
        setattr(self.document.project, self.section, copy.deepcopy(self.old))


PUSHING = [False]  # True while a form pushes its own edit (no refresh from the stack)


def set_section(document, section: str, new, field: str = "") -> None:
    """Push a command that sets ``document.project.<section>`` to ``new``."""
    old = getattr(document.project, section)
    if old != new:
        PUSHING[0] = True
        try:
            document.undo_stack.push(SetSectionCommand(document, section, old, new, field))
        finally:
            PUSHING[0] = False


def is_pushing() -> bool:
    """Whether a form is pushing its own edit right now."""
    return PUSHING[0]


def _combo(items, current: str) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setCurrentText(current)
    return box


class DatasetForm(QWidget):
    """The dataset's name and its params; file datasets get a path with Browse.

    Signals:
        changed(): the section changed (the panel reloads the preview).
    """

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.document = None
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.name_box = QComboBox()
        self.name_box.setObjectName("dataset_name")
        self.name_box.addItems(dataset_names())
        self.name_box.currentTextChanged.connect(self._on_name_changed)
        self.layout_.addRow("Dataset", self.name_box)
        self.fields: dict[str, QWidget] = {}
        self.shown: dict | None = None  # the section the fields show

    def set_document(self, document) -> None:
        """Show the dataset section of ``document``."""
        self.document = document
        self.refresh()

    def section(self) -> dict:
        """The current section (``{"name": ..., "params": {...}}``)."""
        section = self.document.project.dataset if self.document else None
        return copy.deepcopy(section) if section else {"name": "digits", "params": {}}

    def refresh(self) -> None:
        """Rebuild the fields from the document's section."""
        section = self.section()
        self.shown = section
        self.name_box.blockSignals(True)
        self.name_box.setCurrentText(section["name"])
        self.name_box.blockSignals(False)
        while self.layout_.rowCount() > 1:
            self.layout_.removeRow(1)
        self.fields = {}
        try:
            defaults = dataset_params(section["name"])
        except DeepwireError:
            return
        values = {**defaults, **section.get("params", {})}
        for key, default in defaults.items():
            if key in ("seed", "augment"):
                continue
            field = self._field(key, default, values[key], section["name"])
            self.fields[key] = field
            self.layout_.addRow(label(f"dataset.{key}"), field)

    def _field(self, key, default, value, name) -> QWidget:
        if isinstance(default, bool):
            widget = QCheckBox()
            widget.setChecked(bool(value))
            widget.toggled.connect(lambda v, k=key: self._set_param(k, v))
        elif isinstance(default, int) and isinstance(value, int):
            widget = int_spin(0, 10_000_000, value)
            widget.valueChanged.connect(lambda v, k=key: self._set_param(k, v))
        elif isinstance(default, float) and isinstance(value, int | float):
            widget = float_spin(0.0, 1e6, value, 3, 0.05)
            widget.valueChanged.connect(lambda v, k=key: self._set_param(k, round(v, 6)))
        elif key == "path" and name in FILE_DATASETS:
            return self._path_field(value, name)
        else:
            widget = QLineEdit(_text(value))
            widget.setPlaceholderText("auto" if value is None else "")
            widget.editingFinished.connect(lambda k=key, w=widget: self._set_text(k, w.text()))
        widget.setObjectName(f"dataset_param_{key}")
        return widget

    def _path_field(self, value, name) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        edit = QLineEdit(value or "")
        edit.setObjectName("dataset_param_path")
        edit.setPlaceholderText("file or folder")
        edit.editingFinished.connect(lambda: self._set_param("path", edit.text() or None))
        browse = QPushButton("Browse…")
        browse.setObjectName("dataset_browse")
        browse.clicked.connect(lambda: self._browse(edit, name))
        layout.addWidget(edit, 1)
        layout.addWidget(browse)
        return row

    def _browse(self, edit: QLineEdit, name: str) -> None:
        if name in ("images", "idx"):
            path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose the data file", "",
                                                  f"{name} files (*.{name});;All files (*)")  # fmt: skip
        if path:
            edit.setText(path)
            self._set_param("path", path)

    def _set_text(self, key: str, text: str) -> None:
        text = text.strip()
        try:
            value = json.loads(text) if text else None
        except ValueError:
            value = text
        self._set_param(key, value)

    def _set_param(self, key: str, value) -> None:
        section = self.section()
        section.setdefault("params", {})[key] = value
        set_section(self.document, "dataset", section, f"dataset.{key}")
        self.shown = section
        self.changed.emit()

    def _on_name_changed(self, name: str) -> None:
        if self.document is None:
            return
        section = self.section()
        if section["name"] == name:
            return
        keep = {k: v for k, v in section.get("params", {}).items() if k == "validation_split"}
        set_section(self.document, "dataset", {"name": name, "params": keep}, "")
        self.refresh()
        self.changed.emit()


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def gan_optimizers_text(adversarial: dict) -> str:
    """``generator: Adam, lr 0.0002; discriminator: Adam, lr 0.0002`` from a checked
    ``adversarial`` section (``TrainingConfig.adversarial``)."""
    parts = []
    for role in ("generator", "discriminator"):
        optimizer = adversarial[f"{role}_optimizer"]
        parts.append(f"{adversarial[role]}: {optimizer['type']}, lr {optimizer['lr']:g}")
    return "; ".join(parts)


class TrainingForm(QWidget):
    """Epochs, batch size, loss, optimizer and lr, weight decay, schedule, early
    stopping, device and precision. A GAN trains each network with its own optimizer
    (``training.adversarial``) and has no loss choice, schedule or early stopping: those
    rows give way to one line naming the two optimizers.

    Signals:
        changed(): the section changed.
    """

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.document = None
        form = self.form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.epochs = int_spin(1, 100_000, 10)
        self.batch_size = int_spin(1, 1_000_000, 64)
        self.loss = _combo(["auto", *LOSSES], "auto")
        self.optimizer = _combo(OPTIMIZERS, "Adam")
        self.lr = float_spin(0.0, 1e6, 0.001, 6, 0.0005)
        self.weight_decay = float_spin(0.0, 1e6, 0.0, 6, 0.0001)
        self.scheduler = _combo(["none", *SCHEDULERS], "none")
        self.patience = int_spin(0, 10_000, 0)
        self.patience.setSpecialValueText("off")
        self.device = _combo(["auto", "cpu", "cuda", "mps"], "auto")
        self.precision = _combo(["fp32", "bf16", "fp16", "auto"], "fp32")
        rows = [("epochs", self.epochs, "epochs"), ("batch_size", self.batch_size, "batch_size"),
                ("loss", self.loss, "loss"), ("optimizer", self.optimizer, "optimizer"),
                ("optimizer.lr", self.lr, "lr"),
                ("optimizer.weight_decay", self.weight_decay, "weight_decay"),
                ("scheduler", self.scheduler, "scheduler"),
                ("early_stopping", self.patience, "patience"), ("device", self.device, "device"),
                ("precision", self.precision, "precision")]  # fmt: skip
        for key, widget, name in rows:  # labels from the engine: the doctor uses the same
            widget.setObjectName(f"training_{name}")
            form.addRow(label(key), widget)
            signal = getattr(widget, "valueChanged", None) or widget.currentTextChanged
            signal.connect(lambda *_, n=name: self._on_edit(n))
        self.gan_optimizers = QLabel()
        self.gan_optimizers.setObjectName("training_gan_optimizers")
        self.gan_optimizers.setWordWrap(True)
        self.gan_optimizers.setToolTip(
            "A GAN's optimizers are set per network in the project file: "
            "training.adversarial.generator_optimizer and discriminator_optimizer"
        )
        form.insertRow(2, "Optimizers", self.gan_optimizers)
        form.setRowVisible(self.gan_optimizers, False)
        self._loading = False

    def set_document(self, document) -> None:
        """Show the training section of ``document``."""
        self.document = document
        self.refresh()

    def config(self) -> TrainingConfig:
        """The document's settings checked and filled in (defaults where invalid)."""
        section = self.document.project.training if self.document else None
        try:
            return TrainingConfig.from_dict(section)
        except DeepwireError:
            return TrainingConfig()

    def refresh(self) -> None:
        """Show the document's settings."""
        config = self.config()
        self._loading = True
        self.epochs.setValue(config.epochs)
        self.batch_size.setValue(config.batch_size)
        self.loss.setCurrentText(config.loss["type"])
        self.optimizer.setCurrentText(config.optimizer["type"])
        self.lr.setValue(config.optimizer["lr"])
        self.weight_decay.setValue(config.optimizer.get("weight_decay", 0.0))
        self.scheduler.setCurrentText(config.scheduler["type"] if config.scheduler else "none")
        stopping = config.early_stopping
        self.patience.setValue(stopping["patience"] if stopping else 0)
        self.device.setCurrentText(config.device)
        self.precision.setCurrentText(config.precision)
        self._show_recipe_rows(config)
        self._loading = False

    def _show_recipe_rows(self, config: TrainingConfig) -> None:
        """Hide what a GAN does not use; show its two optimizers instead."""
        gan = config.adversarial is not None
        for widget in (self.loss, self.optimizer, self.lr, self.weight_decay, self.scheduler,
                       self.patience):  # fmt: skip
            self.form.setRowVisible(widget, not gan)
        self.form.setRowVisible(self.gan_optimizers, gan)
        self.gan_optimizers.setText(gan_optimizers_text(config.adversarial) if gan else "")

    def _on_edit(self, name: str) -> None:
        if self._loading or self.document is None:
            return
        section = copy.deepcopy(self.document.project.training or {})
        if name == "optimizer":
            kind = self.optimizer.currentText()
            defaults = OPTIMIZERS[kind]
            section["optimizer"] = {"type": kind, "lr": defaults["lr"],
                                    "weight_decay": defaults["weight_decay"]}  # fmt: skip
        elif name in ("lr", "weight_decay"):
            optimizer = section.get("optimizer", {"type": "Adam"})
            if isinstance(optimizer, str):
                optimizer = {"type": optimizer}
            box = self.lr if name == "lr" else self.weight_decay
            if name == "lr" and box.value() <= 0:
                return
            section["optimizer"] = {**optimizer, name: box.value()}
        elif name == "scheduler":
            kind = self.scheduler.currentText()
            section["scheduler"] = None if kind == "none" else {"type": kind}
        elif name == "patience":
            value = self.patience.value()
            section["early_stopping"] = {"patience": value} if value else None
        elif name == "loss":
            section["loss"] = self.loss.currentText()
        else:
            widget = getattr(self, name)
            section[name] = widget.value() if hasattr(widget, "value") else widget.currentText()
        set_section(self.document, "training", section, f"training.{name}")
        if name == "optimizer":
            self.refresh()
        self.changed.emit()
