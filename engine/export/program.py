"""Export as a ``torch.export`` program (``.pt2``): the network and its weights in one file.

TorchScript (``torch.jit``) is deprecated in PyTorch 2.13, so Deepwire exports the
successor format: ``torch.export.export`` with a dynamic batch dimension, saved with
``torch.export.save``. Load it with ``torch.export.load(path).module()``; it runs
without Deepwire and without the network's Python source.
"""

from __future__ import annotations

import io
from pathlib import Path

from engine.export.onnx_export import quiet
from engine.export.prepare import ExportError, Prepared
from engine.project import write_atomic


def export_program(prepared: Prepared, path: Path) -> list[Path]:
    """Write ``path`` (``.pt2``); returns the files written.

    Raises:
        ExportError: torch.export could not capture the network.
    """
    import torch

    try:
        with quiet():
            program = torch.export.export(
                prepared.module,
                prepared.example_inputs(),
                dynamic_shapes=prepared.dynamic_batch(),
            )
            buffer = io.BytesIO()
            torch.export.save(program, buffer)
    except Exception as error:  # torch.export raises many types; all mean "cannot export"
        first = (str(error).strip().splitlines() or ["no details"])[0][:300]
        raise ExportError(
            f"the network cannot be exported as a torch.export program "
            f"({type(error).__name__}: {first})"
        ) from error
    write_atomic(path, buffer.getvalue())
    return [path]
