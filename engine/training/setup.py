"""Whether a project can train: the fit between its networks and its data, and the loss.

``check_fit`` (one network) and ``check_gan`` (a generator and a discriminator) work on
shapes alone (no torch) and raise TrainingError or DataError with a sentence that names
the layer setting to change, so that the app can say what is wrong before anything
runs. The loss, optimizer and schedule are built by ``engine.training.core.build``.
"""

from __future__ import annotations

import math

from engine import data_fit as fit
from engine.analysis import ERROR, analyze
from engine.compile import input_specs, output_ids
from engine.data.base import Dataset
from engine.errors import CompileError, TrainingError
from engine.training.config import TrainingConfig


def resolve_loss(config: TrainingConfig, dataset: Dataset) -> dict:
    """The loss settings, with ``auto`` replaced by the dataset's suggestion."""
    if config.loss["type"] != "auto":
        return dict(config.loss)
    from engine.training.config import LOSSES

    name = dataset.suggest().loss
    return {"type": name, **LOSSES[name]}


def check_fit(network, dataset: Dataset, loss_name: str):
    """Check that ``network`` can train on ``dataset`` with ``loss_name``.

    Returns:
        (input shape, output shape) of the network, without the batch.
    """
    analysis = analyze(network)
    if analysis.errors:
        first = analysis.errors[0].message
        raise CompileError(f"the network cannot be built: {first}", analysis.errors)
    inputs, outputs = input_specs(network, analysis), output_ids(network)
    if len(inputs) != 1 or len(outputs) != 1:
        raise TrainingError(
            f"training needs a network with one Input and one Output; this one has "
            f"{len(inputs)} Input(s) and {len(outputs)} Output(s)"
        )
    _, in_shape, in_dtype = inputs[0]
    dataset.check_input(in_shape, "int64" if in_dtype == "long" else "float32")
    refused = [d for d in fit.check_fit(analysis, dataset.info(), loss_name) if d.severity == ERROR]
    if refused:
        raise TrainingError(refused[0].message)
    return tuple(in_shape), tuple(analysis.shapes[outputs[0]])


def _one_in_one_out(network, role: str):
    """The analysis, Input (id, shape, dtype) and Output id of a network of a GAN."""
    analysis = analyze(network)
    if analysis.errors:
        raise CompileError(
            f"the {role} network {network.name!r} cannot be built: {analysis.errors[0].message}",
            analysis.errors,
        )
    inputs, outputs = input_specs(network, analysis), output_ids(network)
    if len(inputs) != 1 or len(outputs) != 1:
        raise TrainingError(
            f"the {role} network {network.name!r} needs one Input and one Output; it has "
            f"{len(inputs)} Input(s) and {len(outputs)} Output(s)"
        )
    return analysis, inputs[0], outputs[0]


def role_problems(networks: dict, settings: dict) -> list[str]:
    """A sentence for each GAN role (``adversarial.generator``...) that names a network
    the project does not have."""
    names = ", ".join(networks)
    return [
        f"adversarial.{role}: the project has no network {settings[role]!r} (it has: "
        f"{names}); name the {role} network there"
        for role in ("generator", "discriminator")
        if settings[role] not in networks
    ]


def check_gan(networks: dict, dataset: Dataset, settings: dict):
    """Check that a generator and a discriminator can train against ``dataset``.

    Args:
        networks: the project's networks by name.
        settings: the checked ``adversarial`` section (``TrainingConfig.adversarial``).

    Returns:
        (noise shape, sample shape): the generator's Input shape and the
        discriminator's Input shape (both without the batch).
    """
    from engine.data.base import fmt_shape

    missing = role_problems(networks, settings)
    if missing:
        raise TrainingError(missing[0])
    g_analysis, (_, noise_shape, noise_dtype), g_out = _one_in_one_out(
        networks[settings["generator"]], "generator"
    )
    d_analysis, (_, sample_shape, sample_dtype), d_out = _one_in_one_out(
        networks[settings["discriminator"]], "discriminator"
    )
    if noise_dtype == "long" or sample_dtype == "long":
        which = "generator" if noise_dtype == "long" else "discriminator"
        raise TrainingError(f"the {which}'s Input must take float32 numbers, not int64 tokens")
    logit = tuple(d_analysis.shapes[d_out])
    if math.prod(logit) != 1:
        raise TrainingError(
            f"the discriminator must end in one logit (an Output of shape (1,)); its Output "
            f"has shape {fmt_shape(logit)}: set its last layer's out_features to 1"
        )
    made = tuple(g_analysis.shapes[g_out])
    wanted = math.prod(sample_shape)
    if math.prod(made) != wanted:
        raise TrainingError(
            f"the generator's Output has shape {fmt_shape(made)} ({math.prod(made)} numbers) "
            f"but the discriminator's Input takes {fmt_shape(sample_shape)} ({wanted} numbers): "
            f"make the generator's last layer give {wanted} numbers"
        )
    dataset.check_input(sample_shape, "float32")
    return tuple(noise_shape), tuple(sample_shape)
