"""Weights: read, check, load and save a network's tensors, never unpickling code.

A weights file is keyed like the compiled module's state_dict: ``<node id>.<tensor>``
(``fc1.weight``, ``lstm.weight_hh_l0``). Deepwire writes ``.safetensors`` and reads
``.safetensors`` or a ``.pt`` state_dict. A ``.pt`` file is read with
``torch.load(weights_only=True)``, which refuses to run anything a pickle asks for, so a
malicious file only ends in a ``WeightsError``.

Loading is all or nothing: every missing, unexpected or wrongly shaped tensor is
reported in one error, by node, and the module is left untouched unless everything fits.
For transfer learning, ``load_weights(module, source, partial=True)`` (or
``load_matching_weights``) loads only the nodes whose tensors all match by name and
shape, and reports every node it skipped with the reason (a replaced head, a new layer).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
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
        raise WeightsError(
            f"{path.name}: not a readable .safetensors file ({first_line(error)})"
        ) from None


def _read_pickle(path: Path) -> dict[str, torch.Tensor]:
    return _as_state_dict(load_plain(path), path.name)


def load_plain(path: Path, device="cpu") -> object:
    """``torch.load`` of tensors, numbers, strings, lists and dicts only (never code).

    Raises:
        WeightsError: the file asks for Python objects, or it is not a readable
            PyTorch file (a damaged file fails in many ways inside torch.load).
    """
    import pickle

    import torch

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*pickle protocol")
            return torch.load(str(path), map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise WeightsError(
            f"{path.name}: holds Python objects, not only tensors; Deepwire never runs code "
            "from a weights file. Save a plain state_dict (or use .safetensors)"
        ) from None
    except Exception as error:
        raise WeightsError(
            f"{path.name}: not a readable PyTorch file ({first_line(error)})"
        ) from None


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type name when it has none); a long
    line is cut after its first sentence (torch adds paragraphs of advice)."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    end = line.find(". ", 40)
    return line[: end + 1] if len(line) > 200 and end > 0 else line


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
    return [sentence for _, _, sentence in weight_problems(module.state_dict(), state)]


def weight_problems(
    expected: Mapping[str, torch.Tensor], given: Mapping[str, torch.Tensor], what="network"
) -> list[tuple[str, str, str]]:
    """Why ``given`` does not fit ``expected`` (both state_dicts), as (cause, key, sentence).

    The cause is the same for every tensor with the same kind of problem, so that many
    problems can be summarised (``describe_problems``); the sentence names the node.
    """
    problems = []
    for key, tensor in expected.items():
        if key not in given:
            sentence = f"{_node(key)}: {_tensor(key)} is missing from the file"
            problems.append(("missing from the file", key, sentence))
            continue
        mine = given[key]
        if tuple(mine.shape) != tuple(tensor.shape):
            sentence = (
                f"{_node(key)}: {_tensor(key)} has shape {tuple(mine.shape)} in the file but "
                f"{tuple(tensor.shape)} in the {what}"
            )
            problems.append((f"another shape in the file than in the {what}", key, sentence))
        elif mine.is_floating_point() != tensor.is_floating_point():
            sentence = (
                f"{_node(key)}: {_tensor(key)} is {mine.dtype} in the file but {tensor.dtype} "
                f"in the {what}"
            )
            problems.append((f"another dtype in the file than in the {what}", key, sentence))
    nodes = {_node(key) for key in expected}
    for key in given:
        if key not in expected:
            where = _node(key)
            if where not in nodes:
                sentence = f"{where}: the file has weights for it, but the {what} has no such node"
            else:
                sentence = f"{where}: the file has {_tensor(key)}, which the {what} does not use"
            problems.append((f"in the file but not in the {what}", key, sentence))
    return problems


LISTED_PROBLEMS = 8  # more than this are summarised by cause


def describe_problems(problems: list[tuple[str, str, str]], name: str, what="network") -> str:
    """``name do not fit this network (N problem(s)): ...``: each problem when there are
    few, else grouped by cause with counts and examples."""
    from engine.import_report import grouped

    count = len(problems)
    if count <= LISTED_PROBLEMS:
        listed = "; ".join(sentence for _, _, sentence in problems)
    else:
        causes = {}
        for cause, key, _ in problems:
            causes.setdefault(cause, []).append(key)
        listed = grouped(causes, "tensor")
    return f"{name} do not fit this {what} ({count} problem(s)): {listed}"


@dataclass
class PartialLoad:
    """What ``load_matching_weights`` did.

    Attributes:
        loaded: ids of the nodes whose weights were loaded.
        skipped: node id -> why its weights were not loaded (it keeps its own).
        unused: ids of nodes the file has weights for but the network does not have.
    """

    loaded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    unused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per fact: what was loaded, each skipped node and why, what was unused."""
        lines = [f"loaded weights for {len(self.loaded)} node(s): {', '.join(self.loaded)}"]
        lines += [f"skipped {node}: {reason}" for node, reason in self.skipped.items()]
        if self.unused:
            lines.append(f"not in this network, ignored: {', '.join(self.unused)}")
        return "\n".join(lines)


def load_matching_weights(
    module: torch.nn.Module, source: str | os.PathLike | Mapping[str, torch.Tensor]
) -> PartialLoad:
    """Load the nodes whose tensors all match by name and shape; report the others.

    A node is loaded whole or not at all: a Linear whose ``out_features`` changed
    (a new head) keeps its own initial weights, and so does a node the file lacks.

    Raises:
        WeightsError: the file cannot be read, or not one node matches.
    """
    state = read_weights(source) if isinstance(source, str | os.PathLike) else dict(source)
    report, by_node = PartialLoad(), {}
    for key, tensor in module.state_dict().items():
        by_node.setdefault(_node(key), []).append((key, tensor))
    chosen = {}
    for node, tensors in by_node.items():
        reason = _mismatch(tensors, state)
        if reason:
            report.skipped[node] = reason
        else:
            report.loaded.append(node)
            chosen.update({key: state[key] for key, _ in tensors})
    report.unused = sorted({_node(k) for k in state} - set(by_node))
    if not report.loaded:
        name = Path(source).name if isinstance(source, str | os.PathLike) else "the weights"
        raise WeightsError(
            f"{name}: no node of this network matches the file by id and shape, so nothing "
            "was loaded; node ids must be the same as in the network the weights came from"
        )
    module.load_state_dict(chosen, strict=False)
    return report


def _mismatch(tensors, state) -> str:
    """Why a node's tensors cannot be taken from ``state``; empty when they can."""
    for key, tensor in tensors:
        if key not in state:
            return f"the file has no {_tensor(key)} for it"
        given = state[key]
        if tuple(given.shape) != tuple(tensor.shape):
            return (
                f"{_tensor(key)} has shape {tuple(given.shape)} in the file but "
                f"{tuple(tensor.shape)} in the network"
            )
        if given.is_floating_point() != tensor.is_floating_point():
            return f"{_tensor(key)} is {given.dtype} in the file but {tensor.dtype} in the network"
    return ""


def load_weights(
    module: torch.nn.Module,
    source: str | os.PathLike | Mapping[str, torch.Tensor],
    partial: bool = False,
):
    """Copy weights into ``module`` (a compiled network) all at once, or not at all.

    Args:
        module: the compiled network (its submodules are named after node ids).
        source: a weights file path, or a state_dict already read.
        partial: load only the matching nodes (``load_matching_weights``).

    Returns:
        ``module``, for chaining; with ``partial``, the ``PartialLoad`` report.

    Raises:
        WeightsError: listing every mismatch by node; ``module`` is then unchanged.
    """
    if partial:
        return load_matching_weights(module, source)
    module.load_state_dict(fitting_weights(module, source), strict=True)
    return module


def fitting_weights(
    module: torch.nn.Module,
    source: str | os.PathLike | Mapping[str, torch.Tensor],
    name: str | None = None,
) -> dict[str, torch.Tensor]:
    """The tensors of ``source`` once checked to fit ``module`` (nothing is loaded).

    ``name`` names tensors already read in the message (default "the weights").

    Raises:
        WeightsError: the file cannot be read, or every mismatch, by node.
    """
    state = read_weights(source) if isinstance(source, str | os.PathLike) else dict(source)
    problems = weight_problems(module.state_dict(), state)
    if problems:
        if isinstance(source, str | os.PathLike):
            name = Path(source).name
        raise WeightsError(describe_problems(problems, name or "the weights"))
    return state


def network_weights(state: Mapping[str, torch.Tensor], name: str) -> dict[str, torch.Tensor]:
    """The tensors of network ``name`` from the weights of several networks (a GAN's run
    keys them ``<network name>.<node id>.<tensor>``), without the prefix. Weights of one
    network alone (no key starts with ``<name>.``) come back as they are."""
    prefix = f"{name}."
    if not any(key.startswith(prefix) for key in state):
        return dict(state)
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


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
