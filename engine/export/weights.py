"""Export of the weights alone: ``.safetensors`` or a ``.pt`` state_dict.

The keys are the compiled module's state_dict keys (``fc1.weight``), so the file loads
into the generated ``model.py`` or back into Deepwire with ``strict=True``. A ``.pt``
file is ``torch.save`` of a plain dict of tensors: ``torch.load(weights_only=True)``
reads it without unpickling any code.
"""

from __future__ import annotations

from pathlib import Path

from engine.export.prepare import Prepared
from engine.project import write_atomic
from engine.weights import weights_bytes


def export_safetensors(prepared: Prepared, path: Path) -> list[Path]:
    """Write the weights as ``.safetensors``; returns the files written."""
    write_atomic(path, weights_bytes(prepared.module, "safetensors"))
    return [path]


def export_pt(prepared: Prepared, path: Path) -> list[Path]:
    """Write the weights as a ``.pt`` plain state_dict; returns the files written."""
    write_atomic(path, weights_bytes(prepared.module, "pt"))
    return [path]
