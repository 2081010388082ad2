"""Checkpoints: the weights as safetensors, the rest of the training state beside them.

A checkpoint ``NAME`` is two files in a folder: ``NAME.safetensors`` (the module's
``state_dict``, keyed like the compiled GraphModule, e.g. ``fc1.weight``) and
``NAME.state.pt`` (optimizer, scheduler and grad scaler state, epoch, metric history),
written with ``torch.save`` from plain tensors, numbers, strings, lists and dicts, and
read back with ``weights_only=True`` so that opening one never runs code. The trainer
keeps ``best`` and ``last``. Both files of a checkpoint are written to temporary files
first and only then put in place, so a write that fails (full disk, folder gone, no
permission) leaves the previous checkpoint whole and no temporary file behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import TrainingError
from engine.weights import state_tensors

__all__ = ["load_weights", "resolve", "save_checkpoint", "save_weights", "state_tensors"]

WEIGHTS_SUFFIX = ".safetensors"
STATE_SUFFIX = ".state.pt"


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_weights_temporary(module, path: Path) -> Path:
    from safetensors.torch import save_file

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
        os.replace(temporary, path)
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
    temporaries = [_write_weights_temporary(module, weights)]
    try:
        temporaries.append(_temporary(extra))
        torch.save(state, temporaries[1])
        os.replace(temporaries[1], extra)
        os.replace(temporaries[0], weights)
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
