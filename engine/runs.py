"""A project's runs side by side: ``list_runs``, ``differences``.

Every run writes a folder: ``NAME_runs/STAMP/`` beside ``NAME.dwire`` when started from
the app, ``NAME_run/`` (or ``--out``) from ``deepwire train``. Its ``run.json``
(``engine.training.run_record``) says what the run was and how it ended, and its
``metrics.csv`` holds one row per epoch. ``read_run`` turns a folder into a ``Run``: the
settings (flat, ``optimizer.lr``), status, epochs, best metric, duration and history.
Runs written before ``run.json`` existed are read from ``metrics.csv`` alone (settings
unknown). ``differences`` names the settings that differ between chosen runs.

Every file here may be damaged or crafted: a run whose files cannot be read is listed
with a note saying why (``Run.notes``), and reading never raises.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.run_files import RUN_FILE, read_history, read_record

WEIGHTS_FILE, METRICS_FILE = "weights.safetensors", "metrics.csv"
RUN_MARKERS = (RUN_FILE, METRICS_FILE, WEIGHTS_FILE, "checkpoints")
MAX_RUNS = 1000  # the newest, of a folder holding more
STAMP = "%Y-%m-%d_%H-%M-%S"


def project_runs_dir(project_path) -> Path:
    """The folder of the app's runs of the project at ``project_path``: ``NAME_runs``."""
    path = Path(project_path)
    return path.parent / f"{path.stem}_runs"


def cli_run_dir(project_path) -> Path:
    """The folder ``deepwire train`` writes to without ``--out``: ``NAME_run``."""
    path = Path(project_path)
    return path.with_name(f"{path.stem}_run")


@dataclass(frozen=True)
class Best:
    """The best epoch's monitored metric."""

    metric: str
    value: float
    epoch: int


@dataclass
class Run:
    """One run, as its folder tells it.

    Attributes:
        folder: the run folder; ``name`` is its name (the start stamp for app runs).
        status: ``finished``, ``stopped``, ``failed``, ``running``, ``interrupted`` (its
            process ended without saying how) or ``unknown`` (no readable ``run.json``).
        reason: how it ended (``early_stopping``, the failure's sentence), or "".
        started: when it started (seconds since the epoch), or None.
        duration: seconds it ran, or None; ``estimated``: from file times, not recorded.
        epochs: epochs completed.
        best: the best epoch's metric, or None.
        settings: flat settings (``optimizer.lr``, ``dataset.name``, ``network``...), or
            None when unknown.
        info: device, seed, Deepwire version, layer and parameter counts, when recorded.
        history: ``metrics.csv``'s rows (numbers, or None where a cell is not one).
        notes: sentences about what could not be read.
    """

    folder: Path
    status: str = "unknown"
    reason: str = ""
    started: float | None = None
    duration: float | None = None
    estimated: bool = False
    epochs: int = 0
    best: Best | None = None
    settings: dict | None = None
    info: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.folder.name


def run_folders(parent: Path) -> list[Path]:
    """The run folders directly inside ``parent`` (none when it cannot be read)."""
    try:
        children = sorted(parent.iterdir())[-MAX_RUNS:]
    except OSError:
        return []
    return [child for child in children if is_run_folder(child)]


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` holds what a run writes."""
    try:
        return folder.is_dir() and any((folder / name).exists() for name in RUN_MARKERS)
    except OSError:
        return False


def project_run_folders(project_path) -> list[Path]:
    """A project's run folders: ``NAME_runs/*`` and ``NAME_run``."""
    folders = run_folders(project_runs_dir(project_path))
    single = cli_run_dir(project_path)
    return [*folders, single] if is_run_folder(single) else folders


def list_runs(folders, live=()) -> list[Run]:
    """The runs in ``folders``, oldest first; ``live``: folders whose run is going on
    in this process (shown ``running`` whatever their record says)."""
    live = {Path(path).resolve() for path in live if path is not None}
    runs = [read_run(folder, live) for folder in folders]
    return sorted(runs, key=lambda run: (run.started or 0.0, run.name))


def read_run(folder, live=()) -> Run:
    """One run folder as a ``Run``; never raises (a damaged file is a note)."""
    run = Run(Path(folder))
    record = read_record(run.folder / RUN_FILE, run.notes)
    run.history = read_history(run.folder / METRICS_FILE, run.notes)
    if record is not None:
        _from_record(run, record)
    elif not (run.folder / RUN_FILE).exists():
        run.notes.append("it has no run.json (an older run), so its settings are unknown")
    if run.status == "running" and not _going_on(run, record or {}, live):
        run.status = "interrupted"
    run.epochs = run.epochs or _epochs_in(run.history)
    run.best = run.best or best_in(run.history, (record or {}).get("monitor"))
    if run.started is None:
        run.started = _stamp_time(run.name)
    if run.duration is None and run.status != "running":
        run.duration, run.estimated = _estimated_duration(run), True
    return run


def _from_record(run: Run, record: dict) -> None:
    """Fill ``run`` from a checked ``run.json`` (``engine.run_files.read_record``)."""
    run.status = record.get("status") or "unknown"
    run.reason = record.get("reason") or ""
    run.started = record.get("started_at")
    run.duration = record.get("duration_s")
    run.epochs = record.get("epochs_done") or 0
    best = record.get("best")
    if best:
        run.best = Best(best["metric"], best["value"], best["epoch"])
    run.settings = flat_settings(record)
    run.info = {key: record[key] for key in ("device", "precision", "seed", "deepwire",
                                             "task") if key in record}  # fmt: skip
    run.info.update(record.get("network") or {})


def flat_settings(record: dict) -> dict:
    """The settings a run's record compares by: training settings (``optimizer.lr``),
    dataset (``dataset``, ``dataset.validation_split``), ``network`` and ``device``."""
    flat = flatten(record.get("settings") or {})
    dataset = record.get("dataset") or {}
    if "name" in dataset:
        flat["dataset"] = dataset["name"]
    flat.update(flatten(dataset.get("params") or {}, "dataset."))
    network = record.get("network") or {}
    if network.get("hash"):
        flat["network"] = network_text(network)
    if record.get("device"):
        flat["device"] = record["device"]  # the device used, not the one asked for
    return flat


def network_text(network: dict) -> str:
    """``3 layers, 67 parameters (825aa3)``."""
    parts = []
    if isinstance(network.get("layers"), int):
        parts.append(f"{network['layers']} layers")
    if isinstance(network.get("parameters"), int):
        parts.append(f"{network['parameters']:,} parameters")
    return ", ".join(parts) + f" ({network['hash'][:6]})"


def flatten(value: dict, prefix: str = "") -> dict:
    """Nested settings as ``{"optimizer.lr": 0.01, ...}``; lists stay values."""
    flat = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            flat.update(flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def differences(runs) -> dict[str, list]:
    """The settings that differ between ``runs`` with known settings: key -> each run's
    value (None where unknown or absent), in the order the keys first appear."""
    known = [run.settings for run in runs if run.settings is not None]
    keys = dict.fromkeys(key for settings in known for key in settings)
    missing = object()
    differ = {}
    for key in keys:
        seen = {_comparable(settings.get(key, missing)) for settings in known}
        if len(seen) > 1:
            differ[key] = [None if run.settings is None else run.settings.get(key)
                           for run in runs]  # fmt: skip
    return differ


def _comparable(value) -> str:
    """A value as text: NaN equals NaN, and 0.1 in a list compares like 0.1 alone."""
    return repr(value)


def _going_on(run: Run, record: dict, live: set) -> bool:
    """Whether a run recorded as running is still going on: in this process (``live``)
    or in another one on this machine."""
    if run.folder.resolve() in live:
        return True
    pid, host = record.get("pid"), record.get("host")
    if not isinstance(pid, int) or host != socket.gethostname() or pid == os.getpid():
        return False
    return process_exists(pid)


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (False where unknown)."""
    if os.name != "posix" or pid <= 0:
        return False  # Windows' os.kill would end the process
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True  # it exists, owned by another user
    except (OSError, OverflowError):
        return False
    return True


def _epochs_in(history: list) -> int:
    epochs = [row["epoch"] for row in history if row.get("epoch") is not None]
    return int(max(epochs)) if epochs else 0


def best_in(history: list, monitor=None) -> Best | None:
    """The best epoch of ``history`` by the recorded monitor (``{"metric", "mode"}``),
    else by ``val_loss`` (or ``train_loss``), lowest first."""
    from engine.training.core.loop import MONITORS

    if monitor:
        metric, mode = monitor["metric"], monitor["mode"]
    else:
        metric = (
            "val_loss" if any(row.get("val_loss") is not None for row in history) else "train_loss"
        )
        mode = MONITORS[metric]
    if metric == "epoch":
        return None
    rows = [row for row in history if row.get(metric) is not None and row.get("epoch")]
    if not rows:
        return None
    pick = min if mode == "min" else max
    row = pick(rows, key=lambda r: r[metric])
    return Best(metric, row[metric], int(row["epoch"]))


def _stamp_time(name: str) -> float | None:
    """The start time an app run's folder name gives (``2026-11-30_12-00-00[_2]``)."""
    try:
        return time.mktime(time.strptime(name[:19], STAMP))
    except (ValueError, OverflowError):
        return None


def _estimated_duration(run: Run) -> float | None:
    """From the start to the newest file the run wrote, when both are known."""
    if run.started is None:
        return None
    times = []
    for name in (METRICS_FILE, WEIGHTS_FILE, RUN_FILE):
        with contextlib.suppress(OSError):
            times.append((run.folder / name).stat().st_mtime)
    if not times or max(times) < run.started:
        return None
    return max(times) - run.started
