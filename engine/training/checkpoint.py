"""Checkpoints: the weights as safetensors, the rest of the training state beside them.

A checkpoint ``NAME`` is two files in a folder: ``NAME.safetensors`` (the module's
``state_dict``, keyed like the compiled GraphModule, e.g. ``fc1.weight``) and
``NAME.state.pt`` (optimizer, scheduler and grad scaler state, epoch, metric history),
written with ``torch.save`` from plain tensors, numbers, strings, lists and dicts, and
read back with ``weights_only=True`` so that opening one never runs code. The trainer
keeps ``best`` and ``last``. Both files of a checkpoint are written to temporary files
first and only then put in place, so a write that fails (full disk, folder gone, no
permission) leaves the previous checkpoint whole and no temporary file behind. A
read-only file is never replaced; new files get the user's umask.

``read_checkpoint`` reads a checkpoint to resume from and checks all of it (the weights
and the best weights against the network, the optimizer's state against its
parameters, the training state's fields) before anything is applied, so a damaged or
crafted checkpoint ends in one sentence naming the file and changes nothing.
"""

from __future__ import annotations

import errno
import math
import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import TrainingError
from engine.file_access import is_read_only, mode_for
from engine.weights import state_tensors

__all__ = [
    "Saved",
    "load_weights",
    "read_checkpoint",
    "resolve",
    "save_checkpoint",
    "save_weights",
    "state_tensors",
]

WEIGHTS_SUFFIX = ".safetensors"
STATE_SUFFIX = ".state.pt"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _refuse_read_only(path: Path) -> None:
    if is_read_only(path):
        raise PermissionError(errno.EACCES, "the file is read-only", str(path))


def _put_in_place(temporary: Path, path: Path) -> None:
    """Rename ``temporary`` over ``path`` with ``path``'s mode (or the umask's)."""
    os.chmod(temporary, mode_for(path))
    os.replace(temporary, path)


def _write_weights_temporary(module, path: Path) -> Path:
    from safetensors.torch import save_file

    _refuse_read_only(path)
    temporary = _temporary(path)
    try:
        save_file(state_tensors(module), str(temporary))
    except Exception as error:
        temporary.unlink(missing_ok=True)
        raise _as_os_error(error, temporary) from error
    return temporary


def _as_os_error(error: Exception, path: Path) -> OSError:
    """safetensors reports a failed write as its own error; callers catch OSError."""
    if isinstance(error, OSError):
        return error
    return OSError(f"cannot write {path.name}: {error}")


def save_weights(module, path: str | Path) -> None:
    """Write the module's weights to a ``.safetensors`` file (atomically).

    Raises:
        OSError: the file cannot be written; an existing file at ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _write_weights_temporary(module, path)
    try:
        _put_in_place(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def load_weights(module, path: str | Path) -> None:
    """Load ``.safetensors`` weights into ``module`` all at once; names what does not fit."""
    from engine.weights import WeightsError
    from engine.weights import load_weights as load_all

    try:
        load_all(module, path)
    except WeightsError as error:
        raise TrainingError(f"{error}; was the network changed since the checkpoint?") from None


def checkpoint_paths(folder: str | Path, name: str) -> tuple[Path, Path]:
    """The weights file and the state file of checkpoint ``name`` in ``folder``."""
    folder = Path(folder)
    return folder / f"{name}{WEIGHTS_SUFFIX}", folder / f"{name}{STATE_SUFFIX}"


def save_checkpoint(folder: str | Path, name: str, module, state: dict) -> None:
    """Write checkpoint ``name``: the module's weights and the plain ``state`` dict.

    Raises:
        OSError: a file cannot be written; the previous checkpoint ``name`` is untouched.
    """
    import torch

    weights, extra = checkpoint_paths(folder, name)
    weights.parent.mkdir(parents=True, exist_ok=True)
    _refuse_read_only(extra)
    temporaries = [_write_weights_temporary(module, weights)]
    try:
        temporaries.append(_temporary(extra))
        torch.save(state, temporaries[1])
        _put_in_place(temporaries[1], extra)
        _put_in_place(temporaries[0], weights)
    except RuntimeError as error:  # torch.save reports some write failures this way
        raise OSError(f"cannot write {extra.name}: {error}") from error
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


def resolve(path: str | Path) -> tuple[Path, Path]:
    """Checkpoint files from a path given by the user (``run/last``, ``run/last.safetensors``)."""
    path = Path(path)
    text = str(path)
    for suffix in (WEIGHTS_SUFFIX, STATE_SUFFIX):
        if text.endswith(suffix):
            path = Path(text[: -len(suffix)])
    if path.is_dir():
        path = path / "checkpoints" / "last" if (path / "checkpoints").is_dir() else path / "last"
    weights, extra = Path(f"{path}{WEIGHTS_SUFFIX}"), Path(f"{path}{STATE_SUFFIX}")
    if not weights.is_file() or not extra.is_file():
        raise TrainingError(
            f"{path}: no checkpoint there (it needs {weights.name} and {extra.name})"
        )
    return weights, extra


def load_state(path: Path, device) -> dict:
    """The plain state dict of a checkpoint, tensors mapped to ``device``."""
    from engine.weights import WeightsError, load_plain

    try:
        state = load_plain(path, device)
    except WeightsError as error:
        raise TrainingError(f"not a Deepwire checkpoint or damaged: {error}") from None
    if not isinstance(state, dict):
        raise TrainingError(f"{path.name}: not a Deepwire checkpoint (no training state)")
    return state


@dataclass
class Saved:
    """A checkpoint read and checked against a network; nothing applied yet.

    Attributes:
        weights: the network's tensors at the checkpoint.
        state: the training state (``check_state`` has checked its fields).
        best: the best epoch's tensors, when the run had a best epoch and kept them.
        path: the state file, to name in messages.
    """

    weights: dict
    state: dict
    best: dict | None
    path: Path


def read_checkpoint(path: str | Path, module, device) -> Saved:
    """Read the checkpoint at ``path`` (a run folder or a checkpoint's file) to resume.

    Raises:
        TrainingError: a file is missing, damaged or does not fit ``module``; the
            sentence names the file.
    """
    weights_path, state_path = resolve(path)
    weights = _fitting(module, weights_path)
    state = check_state(load_state(state_path, device), state_path)
    best_path = weights_path.with_name("best" + WEIGHTS_SUFFIX)
    best = None
    if state["best_epoch"] and best_path.is_file():
        best = _fitting(module, best_path)
    return Saved(weights, state, best, state_path)


def _fitting(module, path: Path) -> dict:
    from engine.weights import WeightsError, fitting_weights, read_weights

    try:
        state = read_weights(path)
    except WeightsError as error:
        raise TrainingError(str(error)) from None
    try:
        return fitting_weights(module, state, path.name)
    except WeightsError as error:
        raise TrainingError(f"{error}; was the network changed since the checkpoint?") from None


def check_state(state: dict, path: Path) -> dict:
    """The trainer's fields of a checkpoint's state, checked, with their defaults.

    The history must hold epochs 1 to ``epoch`` (metrics.csv is rebuilt from it), and
    the best value and row must be those of the best epoch in it: a best value no
    epoch reached (NaN, or lower than any loss) would make every later epoch look worse
    and discard the resumed run.

    Raises:
        TrainingError: a field has a wrong type or an impossible value.
    """

    def bad(what: str):
        raise TrainingError(
            f"{path}: not a usable checkpoint: {what}; the file is damaged or was not "
            "written by Deepwire"
        )

    checked = {**state}
    for key in ("epoch", "step", "best_epoch"):
        checked[key] = state.get(key, 0)
        if not _whole(checked[key]):
            bad(f"{key} is {checked[key]!r}, not a whole number")
    epoch, best_epoch = checked["epoch"], checked["best_epoch"]
    history, best_value = state.get("history", []), state.get("best_value")
    if not isinstance(history, list) or not all(_row(r) for r in history):
        bad("its history is not a list of epoch rows")
    if len(history) != epoch or any(row["epoch"] != n for n, row in enumerate(history, 1)):
        bad(f"its history does not hold epochs 1 to {epoch}")
    if (best_epoch or best_value is not None) and not _finite(best_value):
        bad(f"the best epoch's value is {best_value!r}, not a finite number")
    if bool(epoch) != bool(best_epoch) or best_epoch > epoch:
        bad(f"its best epoch {best_epoch} is not one of its epochs 1 to {epoch}")
    best_row = history[best_epoch - 1] if best_epoch else {}
    if state.get("best_row", {}) != best_row or (
        best_epoch and best_value not in best_row.values()
    ):
        bad(f"its best value and row are not those of its best epoch {best_epoch}")
    checked["history"], checked["best_row"] = history, best_row
    return checked


def check_optimizer_state(saved: dict, optimizer, path: Path) -> None:
    """Raise TrainingError unless the optimizer state ``saved`` fits ``optimizer``'s
    parameters tensor by tensor (a wrong shape would fail only at the next step)."""
    import torch

    try:
        saved_groups = saved["param_groups"]
        pairs = [
            (index, param)
            for saved_group, group in zip(saved_groups, optimizer.param_groups, strict=True)
            for index, param in zip(saved_group["params"], group["params"], strict=True)
        ]
        for index, param in pairs:
            for name, value in saved["state"].get(index, {}).items():
                if isinstance(value, torch.Tensor) and value.dim() and value.shape != param.shape:
                    raise ValueError(
                        f"its {name} has shape {tuple(value.shape)} for a parameter of shape "
                        f"{tuple(param.shape)}"
                    )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise TrainingError(
            f"{path}: the optimizer state does not fit this network and settings ({error}); "
            "was the network or the optimizer changed since the checkpoint?"
        ) from None


def restore_optimizer(load, path: Path) -> None:
    """Run ``load()``, which puts a checkpoint's optimizer state back; a field damaged
    inside it (an Adam state without ``step``) becomes a TrainingError naming ``path``."""
    try:
        load()
    except (KeyError, ValueError, TypeError) as error:
        raise TrainingError(
            f"{path.name}: the checkpoint does not fit these settings (was the optimizer or "
            f"scheduler changed?): {error}"
        ) from None


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _row(row) -> bool:
    return isinstance(row, dict) and _whole(row.get("epoch")) and all(map(_finite, row.values()))
