"""``run.json``: what a run was, written into its folder by ``RunRecord``.

At the start of training the record holds the settings as the run used them (the
project's, overrides applied, defaults filled in), the dataset section, the network's
size and a hash of its architecture (so that runs of a changed network tell apart), the
seed, the device, the start time and Deepwire's version, with ``"status": "running"``.
At the end it is replaced (atomically) by the same record with the status
(``finished``, ``stopped`` or ``failed``), the duration, the epochs done and the best
epoch's metric. A run killed on the way keeps ``"running"``: ``engine.runs`` reads that
as interrupted once its process is gone. ``engine.runs`` reads these files back.

A run that ends before its first epoch and left nothing else in its folder removes its
record, so that the folder stays empty and the app removes it, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import time
from pathlib import Path

from engine.errors import ProjectError
from engine.project import write_atomic
from engine.run_files import RUN_FILE
from engine.training.callbacks import Callback

FORMAT, VERSION = "deepwire-run", 1
NOT_LAYERS = ("Input", "Output")
# node entry keys that say where a node is drawn, not what the network computes
LAYOUT_KEYS = ("pos", "expanded")


def architecture(project) -> dict:
    """The project's networks and block types without their layout, as plain data."""
    data = project.to_dict()
    return _without_layout({key: data[key] for key in ("blocks", "networks") if key in data})


def _without_layout(value):
    if isinstance(value, list):
        return [_without_layout(item) for item in value]
    if not isinstance(value, dict):
        return value
    is_node = "id" in value and "type" in value
    return {k: _without_layout(v) for k, v in value.items() if not (is_node and k in LAYOUT_KEYS)}


def architecture_hash(project) -> str:
    """A short hash that changes when a layer, a parameter or a wire changes (not when a
    node is moved)."""
    text = json.dumps(architecture(project), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def layer_count(project) -> int:
    """The nodes of the project's networks that are layers (not Inputs or Outputs)."""
    return sum(
        1 for network in project.networks.values() for node in network.nodes
        if node.type not in NOT_LAYERS
    )  # fmt: skip


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deepwire")
    except PackageNotFoundError:
        return "unknown"


def plain(value):
    """``value`` with non-finite floats as None, so that the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


class RunRecord(Callback):
    """Writes ``run.json`` into ``folder`` at the start of training and at its end.

    Args:
        folder: the run folder.
        project: the project trained (its networks and dataset section).
        settings: the ``TrainingConfig`` as the run uses it.
        overrides: the settings given on top of the project's (``{"epochs": 3}``).
    """

    def __init__(self, folder, project, settings, overrides=None):
        self.path = Path(folder) / RUN_FILE
        self.record = {
            "format": FORMAT,
            "version": VERSION,
            "status": "running",
            "settings": plain(settings.to_dict()),
            "overrides": plain(dict(overrides or {})),
            "dataset": plain(_dataset(project.dataset)),
            "network": {"layers": layer_count(project), "hash": architecture_hash(project)},
            "seed": settings.seed,
        }
        self._started = 0.0

    def on_train_start(self, trainer, event) -> None:
        self._started = time.monotonic()
        metric, mode = trainer.monitor
        self.record.update({
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "started_at": time.time(),
            "device": event.device,
            "precision": event.precision,
            "task": event.task,
            "start_epoch": event.start_epoch,
            "planned_epochs": event.epochs,
            "monitor": {"metric": metric, "mode": mode},
            "deepwire": _version(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
        })  # fmt: skip
        self.record["network"].update(_sizes(trainer.model, event.trainable_params))
        self._write(trainer)

    def on_train_end(self, trainer, event) -> None:
        status = "stopped" if event.reason == "stopped" else "finished"
        self._finish(trainer, status, event.reason, event.epochs_done)

    def on_exception(self, trainer, event) -> None:
        if self._started:  # a run that failed before its start wrote nothing
            self._finish(trainer, "failed", event.message, event.epoch)

    def _finish(self, trainer, status: str, reason: str, epochs_done: int) -> None:
        self.record.update({
            "status": status,
            "reason": reason,
            "ended": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "duration_s": round(time.monotonic() - self._started, 3),
            "epochs_done": epochs_done,
            "best": _best(trainer),
        })  # fmt: skip
        if not epochs_done and self._alone():
            with contextlib.suppress(OSError):
                self.path.unlink()
            return
        self._write(trainer)

    def _alone(self) -> bool:
        """Whether the record is the only thing in its folder."""
        try:
            return [p.name for p in self.path.parent.iterdir()] == [RUN_FILE]
        except OSError:
            return False

    def _write(self, trainer) -> None:
        """Replace the file; a failure is a warning, and training goes on."""
        text = json.dumps(plain(self.record), indent=2, allow_nan=False, default=str) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, text.encode("utf-8"))
        except OSError as error:
            trainer.warn(f"cannot write {self.path} ({error.strerror or error}); training goes on")
        except ProjectError as error:
            trainer.warn(f"{error}; training goes on")


def _dataset(section) -> dict | None:
    """The dataset section with every parameter's default filled in (as checked)."""
    from engine.data import check_section

    try:
        name, params = check_section(section)
    except Exception:  # the session checked it already; keep what was given
        return section if isinstance(section, dict) else None
    return {"name": name, "params": params}


def _sizes(model, trainable: int) -> dict:
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": trainable,
    }


def _best(trainer) -> dict | None:
    """The best epoch's monitored metric; None when no epoch completed, or for a recipe
    that keeps its latest epoch (a GAN: no loss says which is best)."""
    metric = trainer.monitor[0]
    if not trainer.best_epoch or metric == "epoch":
        return None
    value = trainer.best_row.get(metric, trainer.best_value)
    return {"metric": metric, "value": value, "epoch": trainer.best_epoch}
