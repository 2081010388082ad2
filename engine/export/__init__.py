"""Export a network: its weights, ONNX, a torch.export program, or a plain PyTorch folder.

One entry point, ``export(network, format, path, weights=None)``. Every format starts
from the same compiled module (``engine.export.prepare``): with ``weights`` (a
``.safetensors`` / ``.pt`` file or a state_dict) it carries them, otherwise fresh
initial weights drawn from a fixed seed. Formats:

- ``safetensors``, ``pt``: the state_dict, keyed ``<node id>.<tensor>``;
- ``onnx``: one checked file with a dynamic batch, inputs/outputs named by node id;
- ``program``: a ``torch.export`` program (``.pt2``), the successor of TorchScript;
- ``python``: a folder with ``model.py``, ``model.safetensors``, a README and, for a
  project with a dataset, ``train.py`` with what it trains from (``training_core/``,
  ``data.npz``, ``initial.safetensors``; a GAN's ``generator.py`` and
  ``discriminator.py``).

Weights of several networks (a GAN's run keys them ``<network name>.<param>``) give the
exported network its part; weights of one network alone are taken as they are.

Files are written atomically: a failed export leaves no half-written file behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.export.prepare import DEFAULT_SEED, ExportError, Prepared, prepare
from engine.file_access import refuse_read_only
from engine.network import Network
from engine.progress import stage

FORMATS = ("safetensors", "pt", "onnx", "program", "python")
SUFFIXES = {"safetensors": ".safetensors", "pt": ".pt", "onnx": ".onnx", "program": ".pt2"}
_RETIRED = {
    "torchscript": (
        "TorchScript is deprecated in PyTorch 2.13; use --format program, a torch.export "
        "program (.pt2) that loads with torch.export.load(path).module()"
    ),
}


@dataclass(frozen=True)
class ExportResult:
    """What ``export`` wrote.

    Attributes:
        format: the format name.
        path: the file (or folder, for ``python``) asked for.
        files: every file written.
        fresh_weights: True when no weights were given and seeded initial ones were used.
        seed: the seed of those fresh weights.
    """

    format: str
    path: Path
    files: tuple[Path, ...]
    fresh_weights: bool
    seed: int


def export(
    network: Network,
    format: str,
    path: str | os.PathLike,
    weights: str | os.PathLike | dict | None = None,
    *,
    seed: int = DEFAULT_SEED,
    class_name: str = "Model",
    project=None,
    base_dir: str | os.PathLike | None = None,
    progress=None,
) -> ExportResult:
    """Export ``network`` in ``format`` to ``path``.

    Args:
        network: the network to export; it must have no errors.
        format: one of ``FORMATS``.
        path: the file to write (a folder for ``python``).
        weights: a weights file or state_dict; None for fresh seeded weights. For a
            project of several networks, a file of them all gives ``network`` its part.
        seed: the seed of fresh weights.
        class_name: the class name in ``python``'s model.py.
        project: the ``Project`` the network belongs to; with a dataset section and a
            training that trains ``network``, ``python`` also writes ``train.py``
            (``base_dir``: its data paths' folder).
        progress: called with ``engine.progress.Progress`` at each stage; raising
            ``engine.progress.Cancelled`` from it stops the export, no file changed.

    Raises:
        ExportError: unknown format or the exporter refused the network.
        CompileError: the network has errors.
        WeightsError: the weights cannot be read or do not fit.
        ProjectError: the file cannot be written, or it is read-only (left unchanged).
    """
    format = check_format(format)
    path = Path(path)
    if format != "python" and path.is_dir():
        raise ExportError(f"{path} is a folder; give a file name such as model{SUFFIXES[format]}")
    for target in targets(format, path):  # before any work, and before any file changes
        refuse_read_only(target)
    if weights is not None:
        stage(progress, "reading the weights")
    given, part, source = _given_weights(network, weights, project)
    stage(progress, "preparing the network")
    prepared = prepare(network, part, seed, source)
    files = _write(format, prepared, path, network, class_name, project, base_dir, given,
                   progress)  # fmt: skip
    return ExportResult(format, path, tuple(files), prepared.fresh, seed)


def _given_weights(network: Network, weights, project):
    """(every tensor given, ``network``'s part of them, the file's name); Nones for none.

    Raises:
        WeightsError: the file cannot be read.
    """
    if weights is None:
        return None, None, None
    from engine.weights import network_weights, read_weights

    if isinstance(weights, str | os.PathLike):
        given, source = read_weights(weights), Path(weights).name
    else:
        given, source = dict(weights), None
    several = project is not None and len(project.networks) > 1
    return given, network_weights(given, network.name) if several else given, source


def targets(format: str, path: Path) -> list[Path]:
    """The files an export to ``path`` may replace."""
    if format != "python":
        return [path]
    from engine.export.train_script import (
        CORE_FOLDER,
        DATA_FILE,
        INITIAL_WEIGHTS,
        ROLE_MODULES,
        core_files,
    )

    names = ["model.py", "model.safetensors", "README.md", "train.py", DATA_FILE, INITIAL_WEIGHTS]
    names += [module for module, _ in ROLE_MODULES.values()]
    names += [f"{CORE_FOLDER}/{name}" for name in core_files()]
    return [path / name for name in names]


def check_format(format: str) -> str:
    """The format name in lower case; raises ExportError with the choices if unknown."""
    format = format.lower()
    if format in _RETIRED:
        raise ExportError(_RETIRED[format])
    if format not in FORMATS:
        raise ExportError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    return format


def _write(format, prepared, path, network, class_name, project=None, base_dir=None,
           given=None, progress=None):  # fmt: skip
    if format in ("safetensors", "pt"):
        stage(progress, f"writing {path.name}")
    if format == "safetensors":
        from engine.export.weights import export_safetensors

        return export_safetensors(prepared, path)
    if format == "pt":
        from engine.export.weights import export_pt

        return export_pt(prepared, path)
    if format == "onnx":
        from engine.export.onnx_export import export_onnx

        return export_onnx(prepared, path, progress)
    if format == "program":
        from engine.export.program import export_program

        return export_program(prepared, path, progress)
    from engine.export.python_folder import export_python

    stage(progress, f"writing the folder {path.name}")
    return export_python(prepared, path, network, class_name, project, base_dir, given)


__all__ = [
    "FORMATS",
    "SUFFIXES",
    "ExportError",
    "ExportResult",
    "Prepared",
    "check_format",
    "export",
    "prepare",
]
