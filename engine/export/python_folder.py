"""Export as a plain PyTorch folder: ``model.py``, ``model.safetensors``, ``README.md``.

``model.py`` is ``engine.codegen.generate_code``: a standalone torch.nn.Module that
imports only torch, whose state_dict keys are those of ``model.safetensors``. The
folder is what a user copies into their own project; it needs no Deepwire.
"""

from __future__ import annotations

from pathlib import Path

from engine.codegen import generate_code
from engine.export.prepare import ExportError, Prepared
from engine.layers.rules import fmt
from engine.network import Network
from engine.project import write_atomic
from engine.weights import weights_bytes

_README = """# {class_name}: exported from Deepwire

This folder holds the network {name!r} as plain PyTorch; it needs only `torch` and
`safetensors`, not Deepwire.

- `model.py`: the network as a `torch.nn.Module` class, `{class_name}`.
- `model.safetensors`: its weights ({weights_note}).

## Use it

```python
import torch
from safetensors.torch import load_file

from model import {class_name}

model = {class_name}()
model.load_state_dict(load_file("model.safetensors"), strict=True)
model.eval()
with torch.no_grad():
    result = model({example_args})
```

Inputs (shapes leave out the batch dimension): {inputs}.
Output(s): {outputs}.

To fine-tune it, train `model` like any PyTorch module; to freeze a layer, call
`model.<node id>.requires_grad_(False)`.
"""


def export_python(
    prepared: Prepared, path: Path, network: Network, class_name: str = "Model"
) -> list[Path]:
    """Write the folder ``path`` (created if needed); returns the files written.

    Raises:
        ExportError: ``path`` is an existing file, or ``class_name`` is not a Python name.
    """
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} is a file; the python format writes a folder")
    if not class_name.isidentifier():
        raise ExportError(f"class name {class_name!r} is not a valid Python class name")
    source = generate_code(network, class_name)
    path.mkdir(parents=True, exist_ok=True)
    model, weights, readme = path / "model.py", path / "model.safetensors", path / "README.md"
    write_atomic(model, source.encode("utf-8"))
    write_atomic(weights, weights_bytes(prepared.module, "safetensors"))
    write_atomic(readme, _readme(prepared, network, class_name).encode("utf-8"))
    return [model, weights, readme]


def _readme(prepared: Prepared, network: Network, class_name: str) -> str:
    example = ", ".join(
        f"torch.randn(1, {', '.join(map(str, shape))})"
        if dtype != "long"
        else f"torch.zeros(1, {', '.join(map(str, shape))}, dtype=torch.long)"
        for _, shape, dtype in prepared.inputs
    )
    inputs = ", ".join(
        f"`{node_id}` {fmt(shape)}{' int64' if dtype == 'long' else ''}"
        for node_id, shape, dtype in prepared.inputs
    )
    weights_note = (
        f"fresh initial weights, seed {prepared.seed}: train before use"
        if prepared.fresh
        else "the weights given at export"
    )
    return _README.format(
        class_name=class_name,
        name=network.name,
        weights_note=weights_note,
        example_args=example,
        inputs=inputs or "none",
        outputs=", ".join(f"`{o}`" for o in prepared.outputs),
    )
