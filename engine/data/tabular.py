"""The user's own table: a CSV file with a header row.

One column is the target (``target``, by default the last one); the others are the
features. A column whose every value is a number is numeric; a column of words is
categorical and becomes one-hot columns (categories in sorted order). The task is
classification when the target holds words or a few whole numbers, otherwise
regression (``task`` overrides it). Each column has its own name in the header; a
categorical feature has at most ``MAX_CATEGORIES`` words. Problems name the file, the line and the column:
``data.csv: line 7, column 'age': 'abc' is not a number``.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.data.files import check_size, read_file
from engine.data.labels import class_labels
from engine.errors import DataError

_MAX_CLASSES_FOR_NUMBERS = 20
MAX_CATEGORIES = 1000  # one-hot columns per categorical feature
CSV_EXPANSION = 20  # Python's rows of strings take about this many times the text


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_rows(path: Path, delimiter: str | None) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows, checked for size and empty cells."""
    try:
        text = read_file(path, "a CSV file", CSV_EXPANSION).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path.name}: not a text file (it is not UTF-8)") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise DataError(f"{path.name}: the file is empty; it needs a header row and data rows")
    if delimiter is None:
        delimiter = sniff(lines[0])
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = header_names(path, rows[0])
    body = []
    for number, row in enumerate(rows[1:], start=2):
        cells = check_row(path, number, row, header)
        if cells is not None:
            body.append(cells)
    if not body:
        raise DataError(f"{path.name}: the file has a header but no data rows")
    return header, body


def sniff(first_line: str) -> str:
    """The delimiter of a CSV from its header line: whichever of , ; and tab it has most."""
    return max(",;\t", key=first_line.count)


def check_row(path: Path, number: int, row: list[str], header: list[str]) -> list[str] | None:
    """The stripped cells of data row ``number`` (its line), or None for an empty row;
    a row of the wrong length or with an empty cell is an error naming the line."""
    if not row or all(not cell.strip() for cell in row):
        return None
    if len(row) != len(header):
        raise DataError(
            f"{path.name}: line {number} has {len(row)} values but the header has "
            f"{len(header)} columns"
        )
    for column, cell in zip(header, row):
        if not cell.strip():
            raise DataError(
                f"{path.name}: line {number}, column {column!r} is empty; fill it in "
                "or remove the row"
            )
    return [cell.strip() for cell in row]


def header_names(path: Path, row: list[str]) -> list[str]:
    """The column names, each given and different (a repeated name would load one column
    under several names)."""
    header = [name.strip() for name in row]
    if "" in header:
        raise DataError(f"{path.name}: column {header.index('') + 1} of the header has no name")
    name, count = Counter(header).most_common(1)[0]
    if count > 1:
        raise DataError(
            f"{path.name}: the header names column {name!r} {count} times; give each column "
            "its own name"
        )
    return header


def _column_kind(path: Path, name: str, values: list[str]) -> str:
    bad = [i for i, v in enumerate(values) if _number(v) is None]
    first = (bad[0], values[bad[0]]) if bad else None
    return column_kind(path, name, len(values), len(bad), first)


def column_kind(path: Path, name: str, count: int, bad: int, first) -> str:
    """``numeric`` or ``categorical``, from how many of ``count`` values are not numbers
    (``first``: the row and value of the first one); a few such words are typos."""
    if not bad:
        return "numeric"
    if bad <= 0.1 * count:  # mostly numbers: a typo, not a category
        raise DataError(
            f"{path.name}: line {first[0] + 2}, column {name!r}: {first[1]!r} is not a number"
        )
    return "categorical"


def categories(path: Path, name: str, distinct, more: bool = False) -> list[str]:
    """The sorted categories of a column of words; ``more``: there were more than these."""
    if len(distinct) > MAX_CATEGORIES or more:
        count = f"more than {MAX_CATEGORIES}" if more else str(len(distinct))
        raise DataError(
            f"{path.name}: column {name!r} has {count} different words, more than "
            f"the {MAX_CATEGORIES} categories a column may have (an identifier or free text "
            'is not a category); leave it out with "columns" or store numbers'
        )
    return sorted(distinct)


def _one_hot(path: Path, name: str, values: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(categories(path, name, set(values)))}
    out = np.zeros((len(values), len(index)), dtype=np.float32)
    out[np.arange(len(values)), [index[v] for v in values]] = 1.0
    return out


def read_target(path: Path, name: str, values: list[str], task: str):
    """The target column as class indices (with the class names) or values, and the task."""
    kind = _column_kind(path, name, values)
    if kind == "numeric":
        numbers = np.array([float(v) for v in values])
        whole = np.all(numbers == np.round(numbers))
        few = len(np.unique(numbers)) <= _MAX_CLASSES_FOR_NUMBERS
        if task == "regression" or (task == "auto" and not (whole and few)):
            return numbers.astype(np.float32)[:, None], "regression", []
    categories = sorted(set(values), key=lambda v: (_number(v) is None, _number(v) or 0, v))
    index = {c: i for i, c in enumerate(categories)}
    labels = np.array([index[v] for v in values], dtype=np.int64)
    labels, categories = class_labels(labels, path.name, categories)
    return labels, "classification", categories


def feature_columns(path: Path, chosen: list | None, header: list[str], target: str) -> list[str]:
    """The feature columns: ``chosen`` (each once, never the target) or all but the target."""
    features = chosen or [name for name in header if name != target]
    known = set(header)
    for name in features:
        if name not in known:
            raise DataError(f"{path.name}: there is no column {name!r} to use as a feature")
        if name == target:
            raise DataError(
                f"{path.name}: column {name!r} is the target; it cannot also be a feature"
            )
    name, count = Counter(features).most_common(1)[0] if features else ("", 0)
    if count > 1:
        raise DataError(f'{path.name}: "columns" names {name!r} {count} times')
    if not features:
        raise DataError(f"{path.name}: there are no feature columns besides the target")
    return features


def pick_target(path: Path, header: list[str], target: str | None) -> str:
    """The target column: ``target``, or the last one."""
    target = target if target is not None else header[-1]
    if target not in header:
        raise DataError(
            f"{path.name}: there is no column {target!r} (columns: {', '.join(header)})"
        )
    return target


def load_csv(params: dict, seed: int) -> Raw:
    """Read a CSV file into features and a target (see the module docstring)."""
    path = Path(params["path"])
    header, rows = read_rows(path, params["delimiter"])
    target = pick_target(path, header, params["target"])
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    features = feature_columns(path, params["columns"], header, target)
    parts = []
    for name in features:
        values = columns[name]
        if _column_kind(path, name, values) == "numeric":
            parts.append(np.array([float(v) for v in values], dtype=np.float32)[:, None])
        else:
            parts.append(_one_hot(path, name, values))
            width = sum(part.shape[1] for part in parts)
            check_size(path.name, 4 * len(rows) * width, f"{width} feature columns")
    y, task, names = read_target(path, target, columns[target], params["task"])
    text = f"{path.name}: {len(rows)} rows, target {target!r}"
    return Raw(np.concatenate(parts, axis=1), y, task, "tabular", names, text)


CSV_PARAMS = {"path": None, "target": None, "columns": None, "delimiter": None}
