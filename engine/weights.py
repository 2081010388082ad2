"""Weights: read, check, load and save a network's tensors, never unpickling code.

A weights file is keyed like the compiled module's state_dict: ``<node id>.<tensor>``
(``fc1.weight``, ``lstm.weight_hh_l0``). Deepwire writes ``.safetensors`` and reads
``.safetensors`` or a ``.pt`` state_dict. A ``.pt`` file is read with
``torch.load(weights_only=True)``, which refuses to run anything a pickle asks for, so a
malicious file only ends in a ``WeightsError``.

Loading is all or nothing: every missing, unexpected or wrongly shaped tensor is
reported in one error, by node, and the module is left untouched unless everything fits.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import DeepwireError

if TYPE_CHECKING:
    import torch

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth")


class WeightsError(DeepwireError):
    """A weights file cannot be read, or does not fit the network."""


def read_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` or ``.pt``/``.pth`` state_dict file, on the CPU.

    Raises:
        WeightsError: the file is missing, unreadable, not a plain dict of tensors, or
            a pickle that asks for Python objects (refused, never run).
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        return _read_safetensors(path)
    if suffix in (".pt", ".pth"):
        return _read_pickle(path)
    raise WeightsError(
        f"{path.name}: weights must be a .safetensors file or a .pt state_dict, "
        f"not {suffix or 'a file without extension'}"
    )


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return dict(load_file(str(path), device="cpu"))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise WeightsError(f"{path.name}: not a readable .safetensors file ({error})") from None


def _read_pickle(path: Path) -> dict[str, torch.Tensor]:
    import pickle

    import torch

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pickle protocol")
            data = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsError(
            f"{path.name}: holds Python objects, not only tensors; Deepwire never runs code "
            "from a weights file. Save a plain state_dict (or use .safetensors)"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as error:
        raise WeightsError(f"{path.name}: not a readable PyTorch file ({error})") from None
    return _as_state_dict(data, path.name)


def _as_state_dict(data: object, source: str) -> dict[str, torch.Tensor]:
    import torch

    if (
        isinstance(data, Mapping)
        and "state_dict" in data
        and isinstance(data["state_dict"], Mapping)
    ):
        data = data["state_dict"]
    if not isinstance(data, Mapping):
        raise WeightsError(
            f"{source}: expected a state_dict (names to tensors), got {type(data).__name__}"
        )
    bad = [
        str(k) for k, v in data.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)
    ]
    if bad:
        raise WeightsError(f"{source}: {bad[0]} is not a tensor; expected a plain state_dict")
    return dict(data)


def check_weights(module: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> list[str]:
    """Every reason ``state`` does not fit ``module``, one sentence each, by node.

    Returns an empty list when every tensor is there with the right shape and dtype kind.
    """
    expected = module.state_dict()
    problems = []
    for key, tensor in expected.items():
        if key not in state:
            problems.append(f"{_node(key)}: {_tensor(key)} is missing from the file")
            continue
        given = state[key]
        if tuple(given.shape) != tuple(tensor.shape):
            problems.append(
                f"{_node(key)}: {_tensor(key)} has shape {tuple(given.shape)} in the file but "
                f"{tuple(tensor.shape)} in the network"
            )
        elif given.is_floating_point() != tensor.is_floating_point():
            problems.append(
                f"{_node(key)}: {_tensor(key)} is {given.dtype} in the file but {tensor.dtype} "
                "in the network"
            )
    for key in state:
        if key not in expected:
            where = _node(key)
            if where not in dict(module.named_children()):
                problems.append(
                    f"{where}: the file has weights for it, but the network has no such node"
                )
            else:
                problems.append(
                    f"{where}: the file has {_tensor(key)}, which the network does not use"
                )
    return problems


def load_weights(
    module: torch.nn.Module, source: str | os.PathLike | Mapping[str, torch.Tensor]
) -> torch.nn.Module:
    """Copy weights into ``module`` (a compiled network) all at once, or not at all.

    Args:
        module: the compiled network (its submodules are named after node ids).
        source: a weights file path, or a state_dict already read.

    Returns:
        ``module``, for chaining.

    Raises:
        WeightsError: listing every mismatch by node; ``module`` is then unchanged.
    """
    state = read_weights(source) if isinstance(source, str | os.PathLike) else dict(source)
    problems = check_weights(module, state)
    if problems:
        name = Path(source).name if isinstance(source, str | os.PathLike) else "the weights"
        count = len(problems)
        listed = "; ".join(problems[:8]) + (f"; and {count - 8} more" if count > 8 else "")
        raise WeightsError(f"{name} do not fit this network ({count} problem(s)): {listed}")
    module.load_state_dict(state, strict=True)
    return module


def state_tensors(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The module's state_dict as independent, contiguous CPU tensors (safe to save)."""
    return {
        key: value.detach().to("cpu").contiguous().clone()
        for key, value in module.state_dict().items()
    }


def weights_bytes(module_or_state, fmt: str = "safetensors") -> bytes:
    """A module's weights (or a state_dict) serialised as ``safetensors`` or ``pt``.

    ``pt`` is ``torch.save`` of a plain dict of tensors, readable with
    ``torch.load(weights_only=True)``.
    """
    import torch

    if isinstance(module_or_state, torch.nn.Module):
        tensors = state_tensors(module_or_state)
    else:
        tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in module_or_state.items()}
    if fmt == "safetensors":
        from safetensors.torch import save

        return save(tensors, metadata={"format": "pt", "producer": "deepwire"})
    if fmt == "pt":
        import io

        buffer = io.BytesIO()
        torch.save(tensors, buffer)
        return buffer.getvalue()
    raise ValueError(f"unknown weights format {fmt!r}")


def save_weights(module_or_state, path: str | os.PathLike) -> Path:
    """Write a module's weights (or a state_dict) atomically; the suffix picks the format.

    Raises:
        WeightsError: the suffix is neither ``.safetensors`` nor ``.pt``/``.pth``.
        ProjectError: the file cannot be written.
    """
    from engine.project import write_atomic

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise WeightsError(f"{path.name}: weights files end in .safetensors or .pt")
    fmt = "safetensors" if suffix == ".safetensors" else "pt"
    write_atomic(path, weights_bytes(module_or_state, fmt))
    return path


def _node(key: str) -> str:
    return key.split(".", 1)[0]


def _tensor(key: str) -> str:
    return key.split(".", 1)[1] if "." in key else key
