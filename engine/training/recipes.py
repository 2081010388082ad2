"""Which recipe trains a project, and building it from the project's networks.

The recipes themselves (how each kind of model learns) are the portable modules of
``engine.training.core``; this module adds what needs the engine: checking that the
networks fit the data (``engine.training.setup``), compiling them with the run's seed,
and choosing what decides the best epoch. A new recipe is a module in
``engine.training.core`` plus its builder in ``BUILDERS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import TrainingError
from engine.training import setup
from engine.training.core.kinds import make_recipe
from engine.training.core.loop import LATEST, choose_monitor


@dataclass
class Built:
    """A recipe ready to place on a device, and what the trainer reports of it.

    Attributes:
        recipe: the ``engine.training.core`` recipe.
        monitor: ``(row key, "min" | "max")``: what decides the best epoch.
        input_shape, output_shape: of the trained network (the generator's for a GAN).
        loss: the loss settings (``{"type": ...}``).
        spec: the plain description the recipe was made from (``core.kinds``).
    """

    recipe: object
    monitor: tuple
    input_shape: tuple
    output_shape: tuple
    loss: dict
    spec: dict


def recipe_name(config, dataset) -> str:
    """The recipe the settings ask for; ``auto`` follows the data's task."""
    if config.recipe != "auto":
        return config.recipe
    return "reconstruction" if dataset.task == "reconstruction" else "supervised"


def main_network(networks):
    """The network a one-network recipe trains: ``model``, or the first."""
    if not isinstance(networks, dict):
        return networks
    return networks.get("model") or next(iter(networks.values()))


def compile_seeded(networks: list, seed: int) -> list:
    """Compile ``networks`` in order with the run's seed, leaving torch's RNG as it was."""
    import torch

    from engine.compile import compile_network

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return [compile_network(network) for network in networks]


def build_supervised(networks, dataset, config) -> Built:
    """Classification or regression (or, for the reconstruction recipe, an autoencoder)."""
    network = main_network(networks)
    kind = recipe_name(config, dataset)
    reconstruct = kind == "reconstruction"
    if reconstruct and dataset.task != "reconstruction":
        dataset = _as_reconstruction(dataset)
    loss = setup.resolve_loss(config, dataset)
    input_shape, output_shape = setup.check_fit(network, dataset, loss["type"])
    (model,) = compile_seeded([network], config.seed)
    monitor = choose_monitor(config.early_stopping, len(dataset.x_val) > 0, dataset.task)
    spec = {"recipe": kind, "networks": [network.name], "loss": loss,
            "input_shape": list(input_shape), "monitor": list(monitor)}  # fmt: skip
    recipe = make_recipe(spec, {network.name: model}, dataset, config)
    return Built(recipe, monitor, input_shape, output_shape, loss, spec)


def _as_reconstruction(dataset):
    """The dataset with its samples as targets (an autoencoder on labelled data)."""
    import dataclasses

    return dataclasses.replace(dataset, task="reconstruction", y_train=dataset.x_train,
                               y_val=dataset.x_val, num_classes=0)  # fmt: skip


def build_adversarial(networks, dataset, config) -> Built:
    """A GAN: the generator and discriminator named in ``config.adversarial``."""
    if not isinstance(networks, dict):
        networks = {networks.name: networks}
    settings = config.adversarial
    noise_shape, sample_shape = setup.check_gan(networks, dataset, settings)
    names = (settings["generator"], settings["discriminator"])
    models = dict(zip(names, compile_seeded([networks[n] for n in names], config.seed)))
    spec = {"recipe": "adversarial", "networks": list(names), "adversarial": settings,
            "noise_shape": list(noise_shape), "sample_shape": list(sample_shape),
            "monitor": list(LATEST)}  # fmt: skip
    recipe = make_recipe(spec, models, dataset, config)
    loss = {"type": "BCEWithLogitsLoss"}
    return Built(recipe, LATEST, noise_shape, sample_shape, loss, spec)


BUILDERS = {
    "supervised": build_supervised,
    "reconstruction": build_supervised,
    "adversarial": build_adversarial,
}


def build(networks, dataset, config) -> Built:
    """The recipe for ``config.recipe`` (or the data's task), checked and compiled.

    Args:
        networks: a ``Network``, or the project's networks by name.

    Raises:
        CompileError, DataError, TrainingError: the networks, the data and the settings
            do not fit together.
    """
    name = recipe_name(config, dataset)
    if name != "adversarial" and config.adversarial:
        raise TrainingError('training: "adversarial" settings need "recipe": "adversarial"')
    return BUILDERS[name](networks, dataset, config)
