"""Export to ONNX: one self-contained file for onnxruntime and other runtimes.

The file holds the graph and its weights (no ``.onnx.data`` beside it), the inputs and
outputs are named after the Input and Output node ids, and the batch dimension is
dynamic. It uses torch's dynamo exporter (``torch.onnx.export(dynamo=True)``) and is
checked with ``onnx.checker`` before it replaces the target, so a failed export leaves
nothing half written.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path

from engine.errors import DeepwireError
from engine.export.prepare import ExportError, Prepared
from engine.file_access import mode_for

_NOISY_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "onnxscript")


def export_onnx(prepared: Prepared, path: Path) -> list[Path]:
    """Write ``path`` (``.onnx``); returns the files written.

    Raises:
        ExportError: the exporter or the ONNX checker refused the network.
    """
    import onnx
    import torch

    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".onnx", dir=folder)
    os.close(handle)
    try:
        with quiet():
            torch.onnx.export(
                prepared.module,
                prepared.example_inputs(),
                temporary,
                input_names=[node_id for node_id, _, _ in prepared.inputs],
                output_names=prepared.outputs,
                dynamic_shapes=prepared.dynamic_batch(),
                external_data=False,
                dynamo=True,
                verbose=False,
            )
        onnx.checker.check_model(temporary, full_check=True)
        os.chmod(temporary, mode_for(path))
        os.replace(temporary, path)
    except DeepwireError:
        raise
    except Exception as error:  # the exporter raises many types; all mean "cannot export"
        raise ExportError(
            f"the network cannot be exported to ONNX ({type(error).__name__}: {_first_line(error)})"
        ) from error
    finally:
        Path(temporary).unlink(missing_ok=True)
    return [path]


@contextlib.contextmanager
def quiet():
    """Silence the exporters' progress prints, warnings and log lines."""
    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else "no details"
