"""Spin boxes that take any number they are given without raising.

A QSpinBox holds a C ``int`` and a QDoubleSpinBox a ``double``: PySide raises
``OverflowError`` when ``setValue`` or ``setRange`` gets a Python int beyond them (a
layer with ``out_features`` of 2**40, a batch size of 10**30 in a project built in
memory), and ``TypeError`` for a value that is not a number. ``IntSpinBox`` and
``FloatSpinBox`` clamp ranges to what the widget holds and values into the range, and
ignore what is not a number; every numeric field of the app is built with them
(``int_spin``, ``float_spin``, the inspector's ``NumberField``).
"""

from __future__ import annotations

import math
from numbers import Real

from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

from engine.bounds import FLOAT_MAX as FLOAT_LIMIT  # the engine's bounds are these widgets'
from engine.bounds import INT_MAX as INT_LIMIT


def _finite(value) -> float | None:
    """``value`` as a float clamped to ±``FLOAT_LIMIT``; None for NaN or a non-number."""
    if not isinstance(value, Real):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a double
        number = math.inf if value > 0 else -math.inf
    if math.isnan(number):
        return None
    return min(max(number, -FLOAT_LIMIT), FLOAT_LIMIT)


def _int(value) -> int | None:
    number = _finite(value)
    if number is None:
        return None
    if isinstance(value, int):  # exact, however large
        return min(max(value, -INT_LIMIT), INT_LIMIT)
    return min(max(int(number), -INT_LIMIT), INT_LIMIT)


class IntSpinBox(QSpinBox):
    """A QSpinBox whose range and value setters clamp instead of raising."""

    def setRange(self, minimum, maximum) -> None:
        low, high = _int(minimum), _int(maximum)
        super().setRange(-INT_LIMIT if low is None else low, INT_LIMIT if high is None else high)

    def setValue(self, value) -> None:
        number = _int(value)
        if number is not None:
            super().setValue(min(max(number, self.minimum()), self.maximum()))


class FloatSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox whose range and value setters clamp instead of raising."""

    def setRange(self, minimum, maximum) -> None:
        low, high = _finite(minimum), _finite(maximum)
        super().setRange(
            -FLOAT_LIMIT if low is None else low, FLOAT_LIMIT if high is None else high
        )

    def setValue(self, value) -> None:
        number = _finite(value)
        if number is not None:
            super().setValue(min(max(number, self.minimum()), self.maximum()))


def int_spin(minimum, maximum, value, box: IntSpinBox | None = None) -> IntSpinBox:
    """``box`` (a new IntSpinBox by default) with the range clamped and ``value`` shown."""
    box = box if box is not None else IntSpinBox()
    box.setRange(minimum, maximum)
    box.setValue(value)
    return box


def float_spin(minimum, maximum, value, decimals: int = 6, step: float = 0.001,
               box: FloatSpinBox | None = None) -> FloatSpinBox:  # fmt: skip
    """``box`` (a new FloatSpinBox by default) with decimals, step, the clamped range and
    ``value``."""
    box = box if box is not None else FloatSpinBox()
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setRange(minimum, maximum)
    box.setValue(value)
    return box
