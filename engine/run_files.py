"""Reading a run folder's ``run.json`` and ``metrics.csv`` as possibly hostile files.

Both readers take a list of notes and never raise: what cannot be read is left out and
said in one sentence (``run.json is damaged (not JSON): ...``). Only regular files of a
bounded size are read (a FIFO or ``/dev/zero`` named ``run.json`` is refused without
opening it); every field is checked for its type and range, strings are cut short and
nesting is bounded, so a crafted file cannot make a listing slow, huge or wrong in type.
"""

from __future__ import annotations

import csv
import io
import json
import math
import stat
from pathlib import Path

RUN_FILE = "run.json"
MAX_RECORD_BYTES = 1_000_000
MAX_METRICS_BYTES = 20_000_000
MAX_ROWS, MAX_COLUMNS = 100_000, 200
MAX_TEXT, MAX_KEYS, MAX_DEPTH, MAX_ITEMS = 200, 500, 6, 50
MAX_COUNT = 10**12  # epochs, layers, parameters, process ids
STATUSES = ("running", "finished", "stopped", "failed")


def read_bytes(path: Path, limit: int, notes: list) -> bytes | None:
    """The file's bytes, or None (absent: nothing said; unreadable: a note)."""
    try:
        info = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        notes.append(f"{path.name} is not a regular file, so it was not read")
        return None
    if info.st_size > limit:
        notes.append(f"{path.name} is too large ({info.st_size:,} bytes) to be a run's")
        return None
    try:
        with path.open("rb") as stream:
            return stream.read(limit + 1)[:limit]
    except OSError as error:
        notes.append(f"{path.name} cannot be read ({error.strerror or error})")
        return None


def read_record(path: Path, notes: list) -> dict | None:
    """``run.json`` with every field checked (wrong ones left out, with a note)."""
    content = read_bytes(path, MAX_RECORD_BYTES, notes)
    if content is None:
        return None
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        notes.append(f"{path.name} is damaged (not JSON): {_cut(str(error), 80)}")
        return None
    if not isinstance(data, dict):
        notes.append(f"{path.name} is damaged: it holds no record")
        return None
    return check_record(data, notes)


def check_record(data: dict, notes: list) -> dict:
    """The fields of a parsed record that have the right type and range."""
    record, wrong = {}, []
    checks = {"status": _status, "reason": _text, "started_at": _time, "duration_s": _seconds,
              "epochs_done": _count, "best": _best, "monitor": _monitor, "settings": _tree,
              "dataset": _dataset, "network": _network, "device": _text, "precision": _text,
              "task": _text, "deepwire": _text, "host": _text, "seed": _count, "pid": _count}  # fmt: skip
    for key, check in checks.items():
        if key not in data:
            continue
        value = check(data[key])
        if value is None and data[key] is not None:
            wrong.append(key)
        else:
            record[key] = value
    if wrong:
        notes.append(f"run.json is damaged: {', '.join(wrong)} could not be read")
    return record


def _cut(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value) -> str | None:
    return _cut(value) if isinstance(value, str) else None


def _status(value) -> str | None:
    return value if value in STATUSES else None


def _count(value) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT
    return value if ok else None


def _number(value) -> float | None:
    """A finite float from an int or float (huge ints and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _time(value) -> float | None:
    number = _number(value)
    return number if number is not None and 0 < number < 1e11 else None


def _seconds(value) -> float | None:
    number = _number(value)
    return number if number is not None and 0 <= number < 1e9 else None


def _best(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    metric, number = _text(value.get("metric")), _number(value.get("value"))
    epoch = _count(value.get("epoch"))
    if metric is None or number is None or not epoch:
        return None
    return {"metric": metric, "value": number, "epoch": epoch}


def _monitor(value) -> dict | None:
    if not isinstance(value, dict) or value.get("mode") not in ("min", "max"):
        return None
    metric = _text(value.get("metric"))
    return None if metric is None else {"metric": metric, "mode": value["mode"]}


def _dataset(value) -> dict | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    params = _tree(value.get("params", {}))
    return {"name": _cut(value["name"]), "params": params or {}}


def _network(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    network = {key: _count(value.get(key)) for key in ("layers", "parameters",
                                                       "trainable_parameters")}  # fmt: skip
    digest = value.get("hash")
    if isinstance(digest, str) and 0 < len(digest) <= 64 and digest.isalnum():
        network["hash"] = digest
    return {key: item for key, item in network.items() if item is not None}


def _tree(value, depth: int = 0) -> dict | None:
    """Settings: a dict of str keys, bounded in size and depth, of plain values."""
    if not isinstance(value, dict):
        return None
    tree = {}
    for key, item in list(value.items())[:MAX_KEYS]:
        tree[_cut(str(key), 60)] = _leaf(item, depth)
    return tree


def _leaf(value, depth: int):
    if isinstance(value, dict):
        return _tree(value, depth + 1) if depth < MAX_DEPTH else _cut(str(value))
    if isinstance(value, list):
        return [_leaf(v, MAX_DEPTH) for v in value[:MAX_ITEMS]]
    if isinstance(value, str):
        return _cut(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_COUNT:
        return _number(value)  # a number too long to show; None past a float's range
    return value  # float (NaN kept: it differs from a number), bool, None


def read_history(path: Path, notes: list) -> list[dict]:
    """``metrics.csv``'s rows as numbers (None where a cell is not a finite number);
    rows without an epoch are left out, with a note."""
    rows = _csv_rows(path, notes, csv.reader)
    if not rows:
        return []
    header = [_cut(name, 60) for name in rows[0][:MAX_COLUMNS]]
    if "epoch" not in header:
        notes.append(f"{path.name} is damaged: it has no epoch column")
        return []
    history = [_row(header, row) for row in rows[1 : MAX_ROWS + 1] if any(row)]
    kept = [row for row in history if row["epoch"] is not None]
    if len(kept) < len(history):
        notes.append(f"{len(history) - len(kept)} row(s) of {path.name} have no epoch")
    return kept


def read_last_layers(path: Path, notes: list) -> list[dict]:
    """The rows of ``layers.csv``'s last epoch, as text (``[]`` when the file is absent,
    not a regular file, too large or damaged; a note says why for the last three)."""
    rows = _csv_rows(path, notes, csv.DictReader)
    last = rows[-1].get("epoch") if rows else None
    return [row for row in rows if row.get("epoch") == last]


def _csv_rows(path: Path, notes: list, reader) -> list:
    """The rows ``reader`` (``csv.reader`` or ``csv.DictReader``) reads from the CSV
    file ``path``; ``[]`` when it is absent, not a regular file, too large or damaged
    (a note says why for the last three)."""
    content = read_bytes(path, MAX_METRICS_BYTES, notes)
    if content is None:
        return []
    try:
        return list(reader(io.StringIO(content.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as error:
        notes.append(f"{path.name} is damaged: {_cut(str(error), 80)}")
        return []


def _row(header: list, cells: list) -> dict:
    row = {name: _cell(cell) for name, cell in zip(header, cells, strict=False)}
    epoch = row.get("epoch")
    whole = epoch is not None and epoch.is_integer() and 1 <= epoch <= MAX_COUNT
    row["epoch"] = int(epoch) if whole else None
    return row


def _cell(text: str) -> float | None:
    try:
        number = float(text[:64])
    except ValueError:
        return None
    return number if math.isfinite(number) else None
