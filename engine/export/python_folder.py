"""Export as a plain PyTorch folder: model.py, its weights, train.py and a README.

``model.py`` is ``engine.codegen.generate_code``: a standalone torch.nn.Module that
imports only torch, whose state_dict keys are those of ``model.safetensors``. With a
project that has a dataset, ``train.py`` (``engine.export.train_script``) trains it
with the project's settings, alone or under torchrun. The folder is what a user copies
into their own project; it needs no Deepwire.
"""

from __future__ import annotations

from pathlib import Path

from engine.codegen import check_class_name, generate_code
from engine.export.prepare import ExportError, Prepared
from engine.layers.rules import fmt
from engine.naming import literal
from engine.network import Network
from engine.project import write_atomic
from engine.weights import weights_bytes

_README = """# {class_name}: exported from Deepwire

This folder holds the network {name} as plain PyTorch; it needs only `torch` and
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
{training}"""

_TRAINING = """
## Train it

`train.py` trains `{class_name}` on the project's dataset ({dataset}) with its
settings (loss, optimizer, epochs, batch size, seed, validation split, normalisation
fitted on the training part) and writes the best weights to `trained.safetensors`
(`--out FILE` to choose another file). It never writes over `model.safetensors` or
`initial.safetensors`, the weights given at export; load the trained ones with
`load_file("trained.safetensors")`.

```
python train.py                         # --epochs, --batch-size, --device, --out
torchrun --nproc_per_node=2 train.py    # DistributedDataParallel (gloo on CPU, nccl on CUDA)
```

It needs torch, numpy and safetensors. {start} Layers frozen in
Deepwire stay as they are (only trainable parameters go to the optimizer).
{data}{notes}"""


def export_python(
    prepared: Prepared,
    path: Path,
    network: Network,
    class_name: str = "Model",
    project=None,
    base_dir=None,
) -> list[Path]:
    """Write the folder ``path`` (created if needed); returns the files written.

    ``train.py`` is written when ``project`` has a dataset section (``base_dir`` is the
    folder its relative data paths start from).

    Raises:
        ExportError: ``path`` is an existing file, ``class_name`` is not a Python name,
            or the project's dataset and training sections do not fit the network.
    """
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} is a file; the python format writes a folder")
    check_class_name(class_name)
    source = generate_code(network, class_name)
    script = None
    if project is not None and project.dataset is not None:
        from engine.export.train_script import build_train_script

        script = build_train_script(project, network, base_dir, class_name)
    path.mkdir(parents=True, exist_ok=True)
    model, weights, readme = path / "model.py", path / "model.safetensors", path / "README.md"
    write_atomic(model, source.encode("utf-8"))
    write_atomic(weights, weights_bytes(prepared.module, "safetensors"))
    files = [model, weights]
    if script is not None:
        files += _write_script(script, prepared, path)
    text = _readme(prepared, network, class_name) + _training_readme(
        script, project, prepared, class_name
    )
    write_atomic(readme, text.encode("utf-8"))
    return [*files, readme]


def _write_script(script, prepared: Prepared, path: Path) -> list[Path]:
    from engine.export.train_script import DATA_FILE, initial_weights_path

    written = [path / "train.py"]
    write_atomic(written[0], script.source.encode("utf-8"))
    if script.data is not None:
        import io

        import numpy as np

        buffer = io.BytesIO()
        np.savez(buffer, **script.data)
        write_atomic(path / DATA_FILE, buffer.getvalue())
        written.append(path / DATA_FILE)
    initial = initial_weights_path(path)
    if not prepared.fresh:
        write_atomic(initial, weights_bytes(prepared.module, "safetensors"))
        written.append(initial)
    elif initial.exists():
        initial.unlink()  # left from an earlier export with weights
    return written


def _training_readme(script, project, prepared: Prepared, class_name: str) -> str:
    if script is None:
        return (
            "\nThe project has no dataset, so there is no `train.py`; add a dataset in "
            "Deepwire and export again to get one.\n"
        )
    name = project.dataset["name"]
    data = (
        f"\nThe {name} data were prepared at export (split and normalised) and saved as "
        "`data.npz` beside the script, which loads them from there.\n"
        if script.data is not None
        else ""
    )
    start = (
        "It starts from `initial.safetensors`, the weights given at export."
        if not prepared.fresh
        else "It starts from seeded initial weights (`--init-weights FILE` to start elsewhere)."
    )
    notes = "".join(f"\nNote: {note}.\n" for note in script.notes)
    return _TRAINING.format(
        class_name=class_name,
        dataset=name,
        start=start,
        data=data,
        notes=notes,
    )


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
        training="",
        class_name=class_name,
        name=literal(network.name),
        weights_note=weights_note,
        example_args=example,
        inputs=inputs or "none",
        outputs=", ".join(f"`{o}`" for o in prepared.outputs),
    )
