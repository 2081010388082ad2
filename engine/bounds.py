"""Numbers and nesting that every part of Deepwire can hold.

A project file is JSON, which allows numbers no machine can use: a 5000-digit integer,
``1e308``, ``NaN``. Each limit here is the smallest that some reader of the value has:

- ``INT_MAX`` (2**31 - 1): a Qt int spin box holds int32, so every whole-number setting
  (layer sizes, batch size, seed) stays within +-INT_MAX.
- ``FLOAT_MAX`` (1e12): the inspector's float spin boxes; torch holds any finite float.
- ``MAX_DIGITS``: integers with more digits are refused while the JSON is parsed, before
  Python converts them (it refuses 4300 or more digits with a bare ValueError).
- ``MAX_DEPTH``, ``MAX_ITEMS``, ``MAX_TEXT``: how deep, how long and how wide a free-form
  value (a dataset param) may be.

``NaN`` and ``Infinity`` are meaningful nowhere in a project, so the parser refuses them.
Errors are ``BoundsError`` (a ValueError) with a sentence; callers add the file or field.
"""

from __future__ import annotations

import json
import math
from typing import Any

INT_MAX = 2**31 - 1
FLOAT_MAX = 1e12
MAX_DIGITS = 20
MAX_DEPTH = 6
MAX_ITEMS = 10_000
MAX_TEXT = 4096


class BoundsError(ValueError):
    """A value beyond what Deepwire can hold; the message is a sentence."""


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise BoundsError(
            f"it holds a whole number with {digits} digits ({text[:12]}...), more than "
            "any setting can use"
        )
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BoundsError(f"it holds the number {text[:24]}, too large for any setting")
    return value


def _parse_constant(name: str):
    raise BoundsError(f"it holds {name}; every number must be finite, such as 0.001")


def loads(text: str) -> Any:
    """``json.loads`` that refuses NaN, Infinity, overflowing floats and huge integers.

    Raises:
        BoundsError: such a number is in ``text``.
        json.JSONDecodeError, RecursionError: as ``json.loads``.
    """
    return json.loads(
        text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
    )


def shown(number: float) -> str:
    """A number short enough for a sentence (``4.6e+18`` rather than 19 digits)."""
    if isinstance(number, float) and not math.isfinite(number):
        return str(number)
    small = abs(number) < (1e15 if isinstance(number, int) else 1e6)
    return str(number) if small else f"{float(number):.3g}"


def check_number(value: Any, where: str) -> None:
    """Raise BoundsError unless a number ``value`` is finite and within the limits."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise BoundsError(f"{where} must be a finite number, not {value}")
    limit = INT_MAX if isinstance(value, int) else FLOAT_MAX
    if abs(value) > limit:
        raise BoundsError(
            f"{where} is {shown(value)}, beyond {shown(limit)}, the largest value it can hold"
        )


def _child(where: str, key: Any) -> str:
    """``training.optimizer``, ``classes[3]``, ``params['a b']``: a place in a message."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    if isinstance(key, str) and key.isidentifier() and len(key) <= 40:
        return f"{where}.{key}"
    text = repr(key)
    return f"{where}[{text if len(text) <= 24 else text[:20] + '...'}]"


def check_plain(value: Any, where: str, depth: int = 0) -> int:
    """Check a JSON value's numbers, nesting, text length and size; returns its item count.

    Raises:
        BoundsError: naming the place (``dataset.params.classes[0]``) and the limit.
    """
    if depth > MAX_DEPTH:
        raise BoundsError(f"{where} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise BoundsError(f"{where} is {len(value):,} characters long (at most {MAX_TEXT:,})")
        return 1
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        count = 1
        for key, item in items:
            if isinstance(key, str):
                check_plain(key, f"a key of {where}", depth + 1)
            count += check_plain(item, _child(where, key), depth + 1)
            if count > MAX_ITEMS:
                raise BoundsError(f"{where} holds more than {MAX_ITEMS:,} values")
        return count
    check_number(value, where)
    return 1
