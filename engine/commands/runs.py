"""``deepwire runs FILE``: a project's runs side by side.

``FILE`` is a project (its runs are ``NAME_runs/*`` and ``NAME_run``), a folder of runs
or one run folder. One line per run, oldest first: its name, status, epochs, best
metric, duration and the settings that differ between the runs; ``--json`` prints the
same (with each run's settings, history and notes) for scripts. Exit status: 0, or 2
when ``FILE`` is neither a project nor a folder.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

from engine.cli import EXIT_BAD_INPUT, EXIT_OK
from engine.run_text import best_text, duration_text, setting_label, setting_text, status_text
from engine.runs import (
    differences,
    is_run_folder,
    list_runs,
    project_run_folders,
    run_folders,
)
from engine.training.run_record import plain


def register(commands) -> None:
    """Add ``runs`` to the ``deepwire`` parser."""
    runs = commands.add_parser("runs", help="list a project's runs and how their settings differ")
    runs.add_argument("file", help="a .dwire project, a folder of runs or one run folder")
    runs.add_argument("--json", action="store_true", help="print the runs as JSON")
    runs.set_defaults(func=run_runs)


def folders_of(path: Path) -> list[Path] | None:
    """The run folders ``path`` names (None: it is neither a project nor a folder)."""
    if path.is_dir():
        return [path] if is_run_folder(path) else run_folders(path)
    if path.is_file():
        return project_run_folders(path)
    return None


def run_runs(args) -> int:
    """Print the runs; see the module docstring for the exit status."""
    path = Path(args.file)
    folders = folders_of(path)
    if folders is None:
        print(f"deepwire: {path} is neither a project file nor a folder of runs",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    runs = list_runs(folders)
    if args.json:
        print(json.dumps(runs_json(runs), indent=2, allow_nan=False))
        return EXIT_OK
    if not runs:
        print(f"{path} holds no runs yet", file=sys.stderr)
        return EXIT_OK
    sys.stdout.write(table(runs))
    return EXIT_OK


def table(runs) -> str:
    """The runs as aligned text columns, with a line per note under its run."""
    keys = list(differences(runs))
    header = ["run", "status", "epochs", "best", "duration", *map(setting_label, keys)]
    rows = [[run.name, status_text(run), str(run.epochs), best_text(run.best),
             duration_text(run.duration, run.estimated),
             *(setting_text(run, key) for key in keys)] for run in runs]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [_line(header, widths)]
    for run, row in zip(runs, rows, strict=True):
        lines.append(_line(row, widths))
        lines += [f"  note: {note}" for note in run.notes]
    return "\n".join(lines) + "\n"


def _line(cells, widths) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()


def runs_json(runs) -> dict:
    """The runs as plain data, with the keys of the settings that differ."""
    return {"differences": list(differences(runs)), "runs": [run_json(run) for run in runs]}


def run_json(run) -> dict:
    """One run as plain data."""
    started = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(run.started)) if run.started else None
    )
    best = run.best
    return {
        "name": run.name,
        "folder": str(run.folder),
        "status": run.status,
        "reason": run.reason,
        "started": started,
        "duration_s": run.duration,
        "duration_estimated": run.estimated,
        "epochs": run.epochs,
        "best": None if best is None else dataclasses.asdict(best),
        "settings": plain(run.settings),
        "info": run.info,
        "history": run.history,
        "notes": run.notes,
    }
