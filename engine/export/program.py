"""Export as a ``torch.export`` program (``.pt2``): the network and its weights in one file.

TorchScript (``torch.jit``) is deprecated in PyTorch 2.13, so Deepwire exports the
successor format: ``torch.export.export`` with a dynamic batch dimension, saved with
``torch.export.save``. Load it with ``torch.export.load(path).module()``; it runs
without Deepwire and without the network's Python source.
"""

from __future__ import annotations

import io
from pathlib import Path

from engine.export.onnx_export import capture, first_line, quiet
from engine.export.prepare import ExportError, Prepared
from engine.progress import stage
from engine.project import write_atomic


def export_program(prepared: Prepared, path: Path, progress=None) -> list[Path]:
    """Write ``path`` (``.pt2``); returns the files written.

    Raises:
        ExportError: torch.export could not capture the network.
        Cancelled: ``progress`` raised it at the start of a stage.
    """
    import torch

    program = capture(prepared, progress, "a torch.export program")
    stage(progress, f"writing {path.name}")
    buffer = io.BytesIO()
    try:
        with quiet():
            torch.export.save(program, buffer)
    except Exception as error:  # as for capturing: any type means "cannot be saved"
        raise ExportError(
            f"the network cannot be saved as a torch.export program ({type(error).__name__}: "
            f"{first_line(error)})"
        ) from error
    write_atomic(path, buffer.getvalue())
    return [path]
