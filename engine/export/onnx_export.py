"""Export to ONNX: one self-contained file for onnxruntime and other runtimes.

The file holds the graph and its weights (no ``.onnx.data`` beside it), the inputs and
outputs are named after the Input and Output node ids, and the batch dimension is
dynamic. The graph is captured with ``torch.export`` (``capture``, shared with the
``program`` format), translated by torch's dynamo exporter (``torch.onnx.export``),
optimized and checked with ``onnx.checker`` before it replaces the target, so a failed or
cancelled export leaves nothing half written. Each of those steps is a progress stage:
on a big network each takes seconds.
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
from engine.progress import stage

_NOISY_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "onnxscript")


def export_onnx(prepared: Prepared, path: Path, progress=None) -> list[Path]:
    """Write ``path`` (``.onnx``); returns the files written.

    Raises:
        ExportError: the exporter or the ONNX checker refused the network.
        Cancelled: ``progress`` raised it at the start of a stage.
    """
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's ONNX exporter needs it)
    except ImportError as error:
        raise ExportError(
            f"exporting to ONNX needs the {error.name} package, which this Python "
            f"lacks; install it (pip install onnx onnxscript) or choose another format"
        ) from None
    import torch

    program = capture(prepared, progress, "ONNX")
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".onnx", dir=folder)
    os.close(handle)
    try:
        stage(progress, "translating the graph to ONNX")
        with quiet():
            translated = torch.onnx.export(
                program,
                prepared.example_inputs(),
                input_names=[node_id for node_id, _, _ in prepared.inputs],
                output_names=prepared.outputs,
                dynamic_shapes=prepared.dynamic_batch(),  # names the batch dimension
                dynamo=True,
                optimize=False,
                verbose=False,
            )
            stage(progress, "optimizing the ONNX graph")
            translated.optimize()
            translated.save(temporary, external_data=False)
        stage(progress, "checking the ONNX file")
        onnx.checker.check_model(temporary, full_check=True)
        os.chmod(temporary, mode_for(path))
        os.replace(temporary, path)
    except DeepwireError:
        raise
    except Exception as error:  # the exporter raises many types; all mean "cannot export"
        raise ExportError(
            f"the network cannot be exported to ONNX ({type(error).__name__}: {first_line(error)})"
        ) from error
    finally:
        Path(temporary).unlink(missing_ok=True)
    return [path]


def capture(prepared: Prepared, progress, target: str):
    """The network's graph as a ``torch.export`` program with a dynamic batch.

    Raises:
        ExportError: torch.export could not capture the network (``target`` names the
            format asked for, for the sentence).
    """
    import torch

    stage(progress, "capturing the graph with torch.export")
    try:
        with quiet():
            return torch.export.export(
                prepared.module, prepared.example_inputs(), dynamic_shapes=prepared.dynamic_batch()
            )
    except Exception as error:  # torch.export raises many types; all mean "cannot export"
        raise ExportError(
            f"the network cannot be exported to {target} "
            f"({type(error).__name__}: {first_line(error)})"
        ) from error


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


def first_line(error: Exception) -> str:
    """The error's first line, at most 300 characters."""
    text = str(error).strip().splitlines()
    return text[0][:300] if text else "no details"
