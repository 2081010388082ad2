"""A CSV file read without holding it: one pass to learn it, then rows read by offset.

The pass reads the file in buffered chunks, record by record, and keeps only what the
columns need: where each data row starts (8 bytes a row), each feature column's kind
(numeric, or its distinct words while they are few enough to be categories) and the
target column's values (the classes or the regression targets, which ``tabular``
turns into targets as for the in-memory path). ``CsvReader`` then reads the rows a batch
asks for from their offsets and makes them features exactly as ``tabular.load_csv``
does, with the same checks and sentences (a line of the wrong length, an empty cell).

One difference: lines end only at ``\\n`` here, where the in-memory reader also splits
at a lone ``\\r`` and Unicode line separators.
"""

from __future__ import annotations

import csv
from array import array
from pathlib import Path

import numpy as np

from engine.data.files import file_size, open_file
from engine.data.lazy import Lazy, Probe
from engine.data.tabular import (
    CSV_EXPANSION,
    MAX_CATEGORIES,
    categories,
    check_row,
    column_kind,
    feature_columns,
    header_names,
    load_csv,
    pick_target,
    read_target,
    sniff,
)
from engine.errors import DataError
from engine.progress import Steps

_MB = 1 << 20


class _Lines:
    """The text lines of a binary file from where it stands, remembering where the next
    one starts (``at``); line ends are dropped as ``str.splitlines`` drops them."""

    def __init__(self, stream, start: int, encoding: str = "utf-8"):
        self.stream, self.at, self.encoding = stream, start, encoding

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.at += len(raw)
        try:
            return raw.decode(self.encoding).rstrip("\r\n")
        except UnicodeDecodeError:
            name = Path(self.stream.name).name
            raise DataError(f"{name}: not a text file (it is not UTF-8)") from None


class _Column:
    """What the pass learns of one feature column."""

    def __init__(self):
        self.bad, self.first, self.words, self.more = 0, None, set(), False

    def add(self, row: int, value: str) -> None:
        try:
            float(value)
        except ValueError:
            self.bad += 1
            self.first = self.first or (row, value)
        if not self.more:
            self.words.add(value)
            self.more = len(self.words) > MAX_CATEGORIES


def _pass(path: Path, params: dict, progress):
    """Header, target name, feature columns, row offsets and target values."""
    with open_file(path, "a CSV file") as stream:
        size = file_size(stream)
        bom = stream.read(3) == b"\xef\xbb\xbf"
        stream.seek(3 if bom else 0)
        lines = _Lines(stream, stream.tell())
        first = next(lines, "")
        if not first.strip():
            raise DataError(f"{path.name}: the file is empty; it needs a header row and data rows")
        delimiter = params["delimiter"] or sniff(first)
        header = header_names(path, next(csv.reader([first], delimiter=delimiter)))
        target = pick_target(path, header, params["target"])
        features = feature_columns(path, params["columns"], header, target)
        wanted = [header.index(name) for name in features]
        columns, offsets, targets = [_Column() for _ in features], array("q"), []
        reader = csv.reader(lines, delimiter=delimiter)
        steps = Steps(progress if size >= _MB else None, "reading CSV rows (MB)", size // _MB)
        number, start = 1, lines.at
        for row in reader:
            number += 1
            cells = check_row(path, number, row, header)
            if cells is not None:
                for column, index in zip(columns, wanted, strict=True):
                    column.add(len(offsets), cells[index])
                targets.append(cells[header.index(target)])
                offsets.append(start)
            start = lines.at
            steps.tell(min(start // _MB, size // _MB))
    if not offsets:
        raise DataError(f"{path.name}: the file has a header but no data rows")
    return delimiter, header, target, features, columns, np.frombuffer(offsets, np.int64), targets


class CsvReader:
    """Rows of a CSV file by number, as float32 features (see the module docstring).

    Args:
        path: the file; ``delimiter`` its delimiter; ``header`` its column names.
        offsets: where each data row starts.
        layout: per feature, its column index and its categories (None: numeric).
    """

    dtype = "float32"

    def __init__(self, path: Path, delimiter: str, header: list[str], offsets, layout):
        self.path, self.delimiter, self.header = str(path), delimiter, header
        self.offsets, self.layout = offsets, layout
        self.index = [None if cats is None else {c: i for i, c in enumerate(cats)}
                      for _, cats in layout]  # fmt: skip
        self.sample_shape = (sum(1 if cats is None else len(cats) for _, cats in layout),)
        self.count, self._stream = len(offsets), None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_stream": None}

    def read(self, indices) -> np.ndarray:
        """The feature rows at ``indices``."""
        if self._stream is None:
            self._stream = open_file(Path(self.path), "a CSV file")
        out = np.zeros((len(indices), self.sample_shape[0]), np.float32)
        for row, index in enumerate(np.asarray(indices, np.int64).tolist()):
            self._fill(out[row], self._cells(index))
        return out

    def _cells(self, index: int) -> list[str]:
        self._stream.seek(int(self.offsets[index]))
        lines = _Lines(self._stream, int(self.offsets[index]))
        row = next(csv.reader(lines, delimiter=self.delimiter), [])
        cells = check_row(Path(self.path), index + 2, row, self.header)
        if cells is None:  # the file changed since it was read
            raise DataError(f"{Path(self.path).name}: changed while training; start again")
        return cells

    def _fill(self, out: np.ndarray, cells: list[str]) -> None:
        at = 0
        for (column, cats), index in zip(self.layout, self.index, strict=True):
            value = cells[column]
            if index is None:
                try:
                    out[at] = np.float32(float(value))
                except ValueError:
                    raise DataError(
                        f"{Path(self.path).name}: column {self.header[column]!r}: {value!r} is "
                        "not a number (the file changed while training?)"
                    ) from None
                at += 1
            else:
                if value not in index:
                    raise DataError(f"{Path(self.path).name}: changed while training; start again")
                out[at + index[value]] = 1.0
                at += len(cats)


def probe_csv(params: dict, seed: int, progress=None, base_dir=None) -> Probe:
    """A CSV file: read whole into memory (about ``CSV_EXPANSION`` times its size while it
    is parsed) or streamed by rows after one pass."""
    path = Path(params["path"])
    with open_file(path, "a CSV file") as stream:
        size = file_size(stream)

    def materialize(_progress=None):
        return load_csv(params, seed)

    def open_(progress=None) -> Lazy:
        passed = _pass(path, params, progress)
        delimiter, header, target, features, columns, offsets, targets = passed
        layout = []
        for name, column in zip(features, columns, strict=True):
            kind = column_kind(path, name, len(offsets), column.bad, column.first)
            cats = None if kind == "numeric" else categories(path, name, column.words, column.more)
            layout.append((header.index(name), cats))
        y, task, names = read_target(path, target, targets, params["task"])
        reader = CsvReader(path, delimiter, header, offsets, layout)
        text = f"{path.name}: {len(offsets)} rows, target {target!r}"
        return Lazy(reader, y, task, "tabular", names, text, what="rows")

    return Probe(size * CSV_EXPANSION, materialize, open_)
