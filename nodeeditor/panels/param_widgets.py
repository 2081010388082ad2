"""Editors for layer parameters, generated from each ``Param``'s kind.

``make_field(param)`` returns a ``ParamField``: spin boxes with the parameter's range for
``int`` and ``float``, a combo box for ``choice``, a check box for ``bool`` and a text
field (``3, 5``) for ``int_or_tuple``, ``float_or_tuple``, ``shape`` and optional
numbers (empty means "auto"). A field never changes the network itself: it emits
``commit_requested(value)`` when the user finishes an edit (Enter, focus out, a click)
and the inspector decides. ``parse`` raises the engine's ParamError on text that is not
a value, with a sentence that says what to type.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLineEdit, QWidget

from engine.errors import ParamError
from engine.layers.spec import Param
from nodeeditor.panels.spin_boxes import FloatSpinBox, IntSpinBox, float_spin, int_spin

_SEPARATORS = re.compile(r"[\s,x×]+")


def format_value(param: Param, value: Any) -> str:
    """The text a field shows for ``value`` (``3, 5`` for tuples, empty for None)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_number_text(v) for v in value)
    if isinstance(value, float):
        return _number_text(value)
    return str(value)


def _number_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def parse_number(param: Param, text: str, integer: bool) -> int | float:
    """One number from text; raises ParamError naming the parameter."""
    try:
        number = float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ParamError(f"{param.name} must be {kind}, got {text!r}") from None
    if integer:
        if not number.is_integer():
            raise ParamError(f"{param.name} must be a whole number, got {text}")
        return int(number)
    if not math.isfinite(number):
        raise ParamError(f"{param.name} must be a finite number, got {text}")
    return number


def parse_text(param: Param, text: str) -> Any:
    """The value typed for a text-edited parameter; raises ParamError."""
    text = text.strip().strip("()[]").strip()
    if text.strip("'\"") in param.choices:  # 'same' / 'valid' padding
        return text.strip("'\"")
    if not text or text.lower() in ("auto", "none"):
        if param.optional:
            return None
        raise ParamError(f"{param.name} needs a value")
    integer = param.kind in ("int", "int_or_tuple", "shape")
    parts = [p for p in _SEPARATORS.split(text) if p]
    numbers = [parse_number(param, part, integer) for part in parts]
    if param.kind == "shape":
        return numbers
    if param.kind in ("int", "float"):
        if len(numbers) != 1:
            raise ParamError(f"{param.name} takes one number, got {len(numbers)}")
        return numbers[0]
    if len(numbers) == 1:
        return numbers[0]
    if len(numbers) != param.length:
        raise ParamError(
            f"{param.name} must be one number or {param.length} numbers such as "
            f"{', '.join(['3'] * param.length)}, got {len(numbers)}"
        )
    return numbers


class ParamField(QWidget):
    """An editor for one parameter.

    Signals:
        commit_requested(object): the user finished typing or choosing a value.
        rejected(str): the user typed something that is not a value; the message.
    """

    commit_requested = Signal(object)
    rejected = Signal(str)

    def __init__(self, param: Param, editor: QWidget, parent=None):
        super().__init__(parent)
        self.param = param
        self.editor = editor
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(editor)
        editor.setToolTip(param.help)
        self.setFocusProxy(editor)

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting anything."""
        raise NotImplementedError

    def set_read_only(self, read_only: bool) -> None:
        """Allow or forbid editing."""
        self.editor.setEnabled(not read_only)


class _LenientMixin:
    """Lets a spin box hold any number typed, so that an out-of-range value reaches
    the inspector (which refuses it with the engine's message) instead of being
    silently clamped."""

    field: ParamField
    param: Param
    integer: bool

    def validate(self, text, pos):
        stripped = text.strip()
        if stripped in ("", "-", "+", ".", "-.", "+."):
            return QValidator.State.Intermediate, text, pos
        try:
            parse_number(self.param, stripped, self.integer)
        except ParamError:
            if re.fullmatch(r"[-+]?\d*\.?\d*[eE][-+]?\d*", stripped):
                return QValidator.State.Intermediate, text, pos
            return QValidator.State.Invalid, text, pos
        return QValidator.State.Acceptable, text, pos

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._finish()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.field.set_value(self.field.stored)
        super().keyPressEvent(event)

    def focusOutEvent(self, event):
        if self.lineEdit().isModified():
            self._finish()
        super().focusOutEvent(event)

    def stepBy(self, steps):
        stored = self.field.stored
        if _beyond(stored, self.minimum(), self.maximum()):  # step from the real value
            self.field.commit_requested.emit(stored + steps * self.singleStep())
            return
        super().stepBy(steps)
        self.field.commit_requested.emit(self.value())

    def textFromValue(self, value):
        # the widget holds a clamped value; its text shows the network's own
        stored = getattr(getattr(self, "field", None), "stored", None)
        low, high = self.minimum(), self.maximum()
        if _beyond(stored, low, high) and value in (low, high):
            return format_value(self.param, stored)
        return self.plain_text(value)

    def _finish(self):
        self.lineEdit().setModified(False)
        try:
            value = parse_number(self.param, self.lineEdit().text().strip(), self.integer)
        except ParamError as error:
            self.field.rejected.emit(str(error))
            return
        self.field.commit_requested.emit(value)


def _beyond(value: Any, low: float, high: float) -> bool:
    """Whether ``value`` is a number outside ``[low, high]``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return not low <= value <= high


class _IntSpin(_LenientMixin, IntSpinBox):
    integer = True

    def plain_text(self, value):
        return IntSpinBox.textFromValue(self, value)


class _FloatSpin(_LenientMixin, FloatSpinBox):
    integer = False

    def plain_text(self, value):
        return _number_text(float(value))

    def valueFromText(self, text):
        try:
            return float(text)
        except ValueError:
            return self.value()


class NumberField(ParamField):
    """A spin box with the parameter's range (int or float), clamped to what the
    widget holds (``spin_boxes``); a value beyond it is still shown as it is."""

    def __init__(self, param: Param, parent=None):
        low, high, default = param.minimum, param.maximum, param.default
        spin = _IntSpin() if param.kind == "int" else _FloatSpin()
        spin.param = param
        if param.kind == "int":
            int_spin(low, high, default, spin)
        else:
            float_spin(low, high, default, 15, _float_step(default), spin)
        spin.setKeyboardTracking(False)
        spin.setAccelerated(True)
        super().__init__(param, spin, parent)
        spin.field = self
        self.stored = param.default

    def set_value(self, value: Any) -> None:
        self.stored = value
        self.editor.blockSignals(True)
        try:
            self.editor.setValue(value)
            # setValue clamps: show the stored value even when it is out of range
            self.editor.lineEdit().setText(format_value(self.param, value))
        finally:
            self.editor.blockSignals(False)


def _float_step(default: Any) -> float:
    if isinstance(default, int | float) and default:
        return 10 ** math.floor(math.log10(abs(default)))
    return 0.1


class ChoiceField(ParamField):
    """A combo box of the allowed values."""

    def __init__(self, param: Param, parent=None):
        combo = QComboBox()
        for choice in param.choices:
            combo.addItem(str(choice), choice)
        super().__init__(param, combo, parent)
        combo.activated.connect(lambda index: self.commit_requested.emit(combo.itemData(index)))

    def set_value(self, value: Any) -> None:
        self.editor.blockSignals(True)
        index = self.editor.findData(value)
        self.editor.setCurrentIndex(max(index, 0))
        self.editor.blockSignals(False)


class BoolField(ParamField):
    """A check box."""

    def __init__(self, param: Param, parent=None):
        box = QCheckBox()
        super().__init__(param, box, parent)
        box.clicked.connect(lambda checked: self.commit_requested.emit(bool(checked)))

    def set_value(self, value: Any) -> None:
        self.editor.blockSignals(True)
        self.editor.setChecked(bool(value))
        self.editor.blockSignals(False)


class TextField(ParamField):
    """A text field for tuples, shapes and optional numbers: ``3, 5`` or ``28 x 28``."""

    def __init__(self, param: Param, parent=None):
        edit = QLineEdit()
        if param.kind == "shape":
            edit.setPlaceholderText("sizes, such as 1, 28, 28")
        elif param.optional:
            edit.setPlaceholderText("auto")
        else:
            edit.setPlaceholderText(f"one number or {param.length}, such as 3, 3")
        super().__init__(param, edit, parent)
        self.stored = param.default
        edit.returnPressed.connect(self._finish)
        edit.editingFinished.connect(self._on_editing_finished)

    def set_value(self, value: Any) -> None:
        self.stored = value
        self.editor.setText(format_value(self.param, value))
        self.editor.setModified(False)

    def _on_editing_finished(self) -> None:
        if self.editor.isModified():
            self._finish()

    def _finish(self) -> None:
        self.editor.setModified(False)
        try:
            value = parse_text(self.param, self.editor.text())
        except ParamError as error:
            self.rejected.emit(str(error))
            return
        self.commit_requested.emit(value)


def make_field(param: Param, parent=None) -> ParamField:
    """The editor that suits ``param``'s kind."""
    if param.kind == "bool":
        return BoolField(param, parent)
    if param.kind == "choice":
        return ChoiceField(param, parent)
    if param.kind in ("int", "float") and not param.optional:
        return NumberField(param, parent)
    return TextField(param, parent)
