"""Export as a plain PyTorch folder: model.py, its weights, train.py and a README.

``model.py`` is ``engine.codegen.generate_code``: a standalone torch.nn.Module that
imports only torch, whose state_dict keys are those of ``model.safetensors``. With a
project whose dataset is set and whose training trains the exported network,
``train.py`` (``engine.export.train_script``) trains the project's recipe with Deepwire's
own training code, copied beside it, alone or under torchrun; a GAN's folder holds both
networks for it. The folder is what a user copies into their own project; it needs no
Deepwire.
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

`train.py` trains {what}
on the project's dataset ({dataset}) with its settings and with Deepwire's own training
code: `training_core/` is the loop and recipes that `deepwire train` runs, copied, and
`data.npz` holds the data as Deepwire prepared them (split, normalised). It starts from
`initial.safetensors`: {start}.
From the same weights and seed it trains as `deepwire train` does, epoch by epoch. It
writes the best weights to `trained.safetensors` (`--out FILE` for another file) and
`metrics.csv` beside them, and never writes over `model.safetensors` or
`initial.safetensors`.

```
python train.py                         # --epochs, --batch-size, --device, --init-weights, --out
torchrun --nproc_per_node=2 train.py    # DistributedDataParallel (gloo on CPU, nccl on CUDA)
```

It needs torch, numpy and safetensors. Layers frozen in Deepwire stay as they are.
{gan}"""

_GAN = """
### The GAN's files

- `generator.py` (class `Generator`, the network {generator}) and `discriminator.py`
  (class `Discriminator`, the network {discriminator}): the two networks `train.py`
  trains against each other.
- `model.py` (class `{class_name}`) with `model.safetensors`: the exported network,
  {name}, alone; it loads as shown above.
- `initial.safetensors` and `trained.safetensors` hold both networks' weights, keyed
  `<network name>.<parameter>`. To take one network's part, the generator's say:

```python
from safetensors.torch import load_file

from generator import Generator

prefix = {prefix}
state = load_file("trained.safetensors")
generator = Generator()
generator.load_state_dict({{k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}})
```
"""


def export_python(
    prepared: Prepared,
    path: Path,
    network: Network,
    class_name: str = "Model",
    project=None,
    base_dir=None,
    given: dict | None = None,
) -> list[Path]:
    """Write the folder ``path`` (created if needed); returns the files written.

    With a ``project`` whose dataset section is set and whose recipe trains ``network``,
    the folder also gets ``train.py``, ``training_core/``, ``data.npz`` and
    ``initial.safetensors`` (``engine.export.train_script``; ``base_dir`` is the folder
    the data paths start from), and for a GAN ``generator.py`` and ``discriminator.py``.

    Args:
        given: every tensor of the weights given at export (a GAN run's file holds both
            networks'); the other network of a GAN starts from its part.

    Raises:
        ExportError: ``path`` is an existing file, ``class_name`` is not a Python name,
            or the project's dataset and training sections do not fit the networks.
    """
    if path.exists() and not path.is_dir():
        raise ExportError(f"{path} is a file; the python format writes a folder")
    check_class_name(class_name)
    source = generate_code(network, class_name)
    script = None
    if project is not None and project.dataset is not None:
        from engine.export.train_script import build_train_script

        start = None if prepared.fresh else prepared.module.state_dict()
        script = build_train_script(project, network, base_dir, class_name, start, given)
    path.mkdir(parents=True, exist_ok=True)
    model, weights, readme = path / "model.py", path / "model.safetensors", path / "README.md"
    write_atomic(model, source.encode("utf-8"))
    write_atomic(weights, weights_bytes(prepared.module, "safetensors"))
    files = [model, weights]
    if script is not None:
        files += _write_script(script, path)
    text = _readme(prepared, network, class_name) + _training_readme(
        script, project, prepared, network, class_name
    )
    write_atomic(readme, text.encode("utf-8"))
    return [*files, readme]


def _write_script(script, path: Path) -> list[Path]:
    """``train.py``, its model modules, ``training_core/``, the data and the start."""
    import io

    import numpy as np

    from engine.export.train_script import CORE_FOLDER, DATA_FILE, INITIAL_WEIGHTS, core_files

    written = [path / "train.py"]
    write_atomic(written[0], script.source.encode("utf-8"))
    for name, text in script.modules.items():
        write_atomic(path / name, text.encode("utf-8"))
        written.append(path / name)
    (path / CORE_FOLDER).mkdir(exist_ok=True)
    for name, content in core_files().items():
        write_atomic(path / CORE_FOLDER / name, content)
        written.append(path / CORE_FOLDER / name)
    buffer = io.BytesIO()
    np.savez(buffer, **script.data)
    write_atomic(path / DATA_FILE, buffer.getvalue())
    write_atomic(path / INITIAL_WEIGHTS, weights_bytes(script.initial, "safetensors"))
    return [*written, path / DATA_FILE, path / INITIAL_WEIGHTS]


def _training_readme(script, project, prepared: Prepared, network, class_name: str) -> str:
    if project is None or project.dataset is None:
        return (
            "\nThe project has no dataset, so there is no `train.py`; add a dataset in "
            "Deepwire and export again to get one.\n"
        )
    if script is None:
        return (
            f"\nThe project's training does not train this network, so there is no "
            f"`train.py`; export {_trained_names(project)} to get one.\n"
        )
    names = script.spec["networks"]
    gan = script.spec["recipe"] == "adversarial"
    what = (f"the GAN ({literal(names[0])} against {literal(names[1])})" if gan
            else f"`{class_name}`")  # fmt: skip
    if prepared.fresh:
        start = "the seeded initial weights `deepwire train` starts from"
    elif gan:
        start = ("the weights given at export, for the other network the seeded ones\n"
                 "`deepwire train` starts from unless those weights hold its part too")  # fmt: skip
    else:
        start = "the weights given at export"
    extra = ""
    if gan:
        extra = _GAN.format(generator=literal(names[0]), discriminator=literal(names[1]),
                            class_name=class_name, name=literal(network.name),
                            prefix=literal(f"{names[0]}."))  # fmt: skip
    return _TRAINING.format(what=what, dataset=script.dataset, start=start, gan=extra)


def _trained_names(project) -> str:
    """The network(s) the project's training trains, in words, for the README."""
    from engine.project import adversarial_networks
    from engine.training.recipes import main_network

    roles = adversarial_networks(project.training)
    names = list(roles.values()) if roles else [main_network(project.networks).name]
    return " or ".join(literal(name) for name in names)


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
