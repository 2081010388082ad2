"""Where a training run started from the app writes its results.

Each run gets its own folder, so a new run never overwrites the weights of an earlier
one: ``NAME_runs/YYYY-MM-DD_HH-MM-SS`` beside the project file ``NAME.dwire``, or, for
a project not saved yet (or beside one whose folder cannot be written), the same
layout under ``AppDataLocation/runs`` (``$DEEPWIRE_RUNS_DIR`` when set). The folder
holds ``metrics.csv``, ``run.json``, ``checkpoints/best|last`` and, at the end,
``weights.safetensors``; ``engine.runs`` lists a project's runs.
"""

from __future__ import annotations

import time
from pathlib import Path

from engine.file_access import cannot_write_in
from engine.runs import project_runs_dir
from nodeeditor.settings import app_data_dir

DIR_ENV = "DEEPWIRE_RUNS_DIR"


def app_runs_dir() -> Path:
    """The app's own folder of runs (``$DEEPWIRE_RUNS_DIR`` when set)."""
    return app_data_dir("runs", DIR_ENV)


def _try_create(parent: Path, stamp: str) -> tuple[Path | None, str]:
    """Create a new run folder under ``parent``; (folder, "") or (None, the reason)."""
    folder = parent / stamp
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = parent / f"{stamp}_{suffix}"
    try:
        folder.mkdir(parents=True)
    except OSError as error:
        return None, error.strerror or str(error)
    reason = cannot_write_in(folder, create=False)
    return (None, reason) if reason else (folder, "")


def new_run_folder(project_path: Path | None) -> tuple[Path | None, str]:
    """A fresh folder for a run of the project at ``project_path`` (None: unsaved).

    Returns:
        (folder, warning): the folder (None when nowhere can be written) and a sentence
        for the user when the usual place could not be used ("" otherwise).
    """
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    name = project_path.stem if project_path else "untitled"
    candidates = [app_runs_dir() / name]
    if project_path is not None:
        candidates.insert(0, project_runs_dir(project_path))
    failures = []
    for parent in candidates:
        folder, reason = _try_create(parent, stamp)
        if folder is not None:
            if failures:
                return folder, f"cannot write to {failures[0]}; this run is kept in {folder}"
            return folder, ""
        failures.append(f"{parent} ({reason})")
    return None, (
        f"cannot write this run's results to {' or '.join(failures)}; training goes on "
        "with the weights in memory: export them with File > Export when it ends"
    )


def remove_if_empty(folder: Path | None) -> None:
    """Remove a run folder that nothing was written to (and its parent, when emptied)."""
    if folder is None:
        return
    for path in (folder, folder.parent):
        try:
            path.rmdir()  # only succeeds on an empty folder
        except OSError:
            return
