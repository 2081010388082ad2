"""``train.py`` for the python export folder: the project's training, without Deepwire.

The folder trains with Deepwire's own code: ``training_core/`` is every module of
``engine.training.core`` copied verbatim (the loop and the recipes ``deepwire train``
runs), and ``train.py`` is a few lines: the model class(es), the recipe's description
(``SPEC``, ``recipes.Built.spec``), the checked training settings (``TRAINING``), what
the data mean (``META``) and a call of ``training_core.script.main``. ``data.npz``
holds the data exactly as ``engine.data.load_dataset`` gives them (split and
normalised), and ``initial.safetensors`` the weights the run starts from: those given
at export, else the seeded compile ``deepwire train`` starts from. So the exported
script and ``deepwire train`` run the same code on the same data from the same weights.

A GAN project's folder also holds ``generator.py`` (class ``Generator``) and
``discriminator.py`` (class ``Discriminator``), the two networks ``train.py`` trains;
``model.py`` stays the one network exported.

Nothing derived from user text is executed: names and settings enter ``train.py``
through ``engine.naming.literal`` (a Python literal no text can break out of).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.codegen import generate_code
from engine.data.registry import load_dataset
from engine.errors import DeepwireError
from engine.export.prepare import ExportError
from engine.naming import literal
from engine.training import recipes
from engine.training.config import TrainingConfig

DATA_FILE = "data.npz"
INITIAL_WEIGHTS = "initial.safetensors"
EXPORTED_WEIGHTS = "model.safetensors"
TRAINED_WEIGHTS = "trained.safetensors"
CORE_FOLDER = "training_core"
# a GAN's networks by role: (module file, class name); fixed, so no user text names a file
ROLE_MODULES = {"generator": ("generator.py", "Generator"),
                "discriminator": ("discriminator.py", "Discriminator")}  # fmt: skip


@dataclass
class TrainScript:
    """What ``build_train_script`` made.

    Attributes:
        source: the text of ``train.py``.
        data: the arrays of ``data.npz``.
        initial: the weights of ``initial.safetensors`` (the recipe module's state dict).
        modules: extra model files for ``train.py`` (a GAN's ``generator.py`` and
            ``discriminator.py``): file name -> source.
        spec: the recipe's description (``recipes.Built.spec``).
        dataset: the dataset's name.
    """

    source: str
    data: dict
    initial: dict
    modules: dict
    spec: dict
    dataset: str


def core_files() -> dict[str, bytes]:
    """The portable training core's modules by file name, read verbatim."""
    from engine.training import core

    folder = Path(core.__file__).parent
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.py"))}


def trained_networks(project, spec: dict) -> dict:
    """The networks the project's recipe trains, by the names ``spec`` gives them."""
    if spec["recipe"] == "adversarial":
        return {name: project.networks[name] for name in spec["networks"]}
    (name,) = spec["networks"]
    return {name: recipes.main_network(project.networks)}


def build_train_script(project, network, base_dir=None, class_name: str = "Model",
                       start: dict | None = None, given: dict | None = None):  # fmt: skip
    """The ``train.py`` that trains the project's recipe, or None when ``network`` is not
    one of the networks it trains.

    Args:
        project: the ``Project`` (its ``dataset`` and ``training`` sections).
        network: the exported network.
        base_dir: the folder the dataset's relative paths start from.
        class_name: ``model.py``'s class.
        start: the exported network's weights to start from (those given at export);
            None to start from the seeded compile, as ``deepwire train`` does.
        given: every tensor of the weights given at export, keyed ``<network>.<param>``
            for a GAN's run: the other network of a GAN starts from its part when there.

    Raises:
        ExportError: the project has no dataset, or its sections do not fit the networks.
        WeightsError: ``given`` holds weights of the other network that do not fit it.
    """
    if project is None or project.dataset is None:
        raise ExportError(
            'train.py needs the project\'s "dataset" section; add a dataset to the project'
        )
    try:
        config = TrainingConfig.from_dict(project.training)
        dataset = load_dataset(project.dataset, base_dir)
        built = recipes.build(project.networks, dataset, config)
    except DeepwireError as error:
        raise ExportError(f"cannot write train.py: {error}") from None
    networks = trained_networks(project, built.spec)
    if not any(net is network for net in networks.values()):
        return None
    module = built.recipe.module
    initial = _initial_weights(module, networks, network, start, given)
    data = {key: getattr(dataset, key) for key in ("x_train", "y_train", "x_val", "y_val")}
    if built.spec["recipe"] == "adversarial":
        roles = dict(zip(ROLE_MODULES, networks))
        modules = {ROLE_MODULES[role][0]: generate_code(networks[name], ROLE_MODULES[role][1])
                   for role, name in roles.items()}  # fmt: skip
        classes = [(ROLE_MODULES[role][0][:-3], ROLE_MODULES[role][1], name)
                   for role, name in roles.items()]  # fmt: skip
    else:
        modules = {}
        classes = [("model", class_name, next(iter(networks)))]
    source = _source(built.spec, config.to_dict(), _meta(built.recipe.data), classes)
    compile(source, "train.py", "exec")  # a bug here must never reach a user's folder
    return TrainScript(source, data, initial, modules, built.spec, project.dataset["name"])


def _initial_weights(module, networks: dict, network, start, given) -> dict:
    """The recipe module's state: the seeded compile, with the weights given at export."""
    from engine.weights import fitting_weights, network_weights, state_tensors

    if start is not None and len(networks) == 1:
        module.load_state_dict(start, strict=True)
    elif start is not None:
        for name, net in networks.items():
            if net is network:
                module[name].load_state_dict(start, strict=True)
            elif given is not None and any(key.startswith(f"{name}.") for key in given):
                part = network_weights(given, name)
                checked = fitting_weights(module[name], part, f"the weights of {name!r}")
                module[name].load_state_dict(checked, strict=True)
    return state_tensors(module)


def _meta(data) -> dict:
    """What the data mean, as the recipe sees them (an autoencoder's task is
    ``reconstruction`` even on labelled data)."""
    return {"task": str(data.task), "num_classes": int(data.num_classes),
            "target_std": float(data.target_std), "augment": dict(data.augment or {})}  # fmt: skip


def _block(value: dict) -> str:
    """A dict literal with one key per line."""
    lines = "".join(f"    {literal(key)}: {literal(item)},\n" for key, item in value.items())
    return "{\n" + lines + "}"


def _source(spec: dict, training: dict, meta: dict, classes: list) -> str:
    """The text of ``train.py``; ``classes`` is ``[(module, class, network name)]``."""
    imports = "".join(f"from {module} import {cls}  # noqa: E402\n" for module, cls, _ in classes)
    mapping = ", ".join(f"{literal(name)}: {cls}" for _, cls, name in classes)
    try:
        constants = "\n\n".join(
            f"{key} = {_block(value)}"
            for key, value in (("SPEC", spec), ("TRAINING", training), ("META", meta))
        )
    except ValueError as error:  # a number with no literal (a NaN statistic)
        raise ExportError(f"cannot write train.py: {error}") from None
    return _TEMPLATE.format(imports=imports, constants=constants, classes=mapping,
                            initial=INITIAL_WEIGHTS, exported=EXPORTED_WEIGHTS,
                            trained=TRAINED_WEIGHTS, core=CORE_FOLDER, data=DATA_FILE)  # fmt: skip


_TEMPLATE = '''"""Train the network(s) of this folder with the settings of the Deepwire project.

    python train.py [--epochs N] [--batch-size N] [--device cpu|cuda] [--out {trained}]
    torchrun --nproc_per_node=N train.py      # DistributedDataParallel on N processes

Needs torch, numpy and safetensors, not Deepwire: {core}/ is Deepwire's
training loop and recipes (what `deepwire train` runs), copied, and {data} holds the
project's data, split and normalised. It starts from {initial} (--init-weights
FILE to start from others), writes the best weights to {trained} and metrics.csv
beside them, and never writes over {exported} or {initial}.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

{imports}from {core}.script import main  # noqa: E402

{constants}

if __name__ == "__main__":
    sys.exit(main(SPEC, TRAINING, META, {{{classes}}}, HERE))
'''
