"""What a training run is built from: the fit between network and data, the loss, the
optimizer and the learning-rate schedule.

``check_fit`` works on shapes alone (no torch) and raises TrainingError or DataError
with a sentence that names the layer setting to change, so that the app can say what
is wrong before anything runs.
"""

from __future__ import annotations

from engine import data_fit as fit
from engine.analysis import ERROR, analyze
from engine.compile import input_specs, output_ids
from engine.data.base import Dataset
from engine.errors import CompileError, TrainingError
from engine.training.config import TrainingConfig

CLASS_LOSSES = fit.CLASS_LOSSES


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


def build_loss(loss: dict, num_classes: int):
    """The torch loss module and a function that shapes the targets for it."""
    import torch

    settings = {k: v for k, v in loss.items() if k != "type"}
    module = getattr(torch.nn, loss["type"])(**settings)
    name = loss["type"]

    def target_for(target, output):
        if name in CLASS_LOSSES:
            return target
        if target.dtype == torch.long:  # classes for a loss that compares values
            if output.dim() == 2 and output.shape[1] == 1:
                return target.to(output.dtype).view(-1, 1)
            return torch.nn.functional.one_hot(target, output.shape[1]).to(output.dtype)
        return target.reshape(output.shape)

    return module, target_for


def build_optimizer(settings: dict, parameters):
    """The torch optimizer for ``settings`` (``{"type": "Adam", "lr": ...}``)."""
    import torch

    kwargs = {k: v for k, v in settings.items() if k != "type"}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    return getattr(torch.optim, settings["type"])(parameters, **kwargs)


def build_scheduler(settings: dict | None, optimizer, epochs: int, steps_per_epoch: int):
    """The LR scheduler and when it steps (``batch``, ``epoch`` or ``metric``), or None."""
    import torch.optim.lr_scheduler as sched

    if settings is None:
        return None, None
    kind = settings["type"]
    if kind == "StepLR":
        return sched.StepLR(optimizer, settings["step_size"], settings["gamma"]), "epoch"
    if kind == "CosineAnnealingLR":
        return sched.CosineAnnealingLR(optimizer, epochs, settings["eta_min"]), "epoch"
    if kind == "OneCycleLR":
        base = optimizer.param_groups[0]["lr"]
        max_lr = settings["max_lr"] or base * 10
        scheduler = sched.OneCycleLR(
            optimizer, max_lr, total_steps=max(1, epochs * steps_per_epoch),
            pct_start=settings["pct_start"],
        )  # fmt: skip
        return scheduler, "batch"
    plateau = sched.ReduceLROnPlateau(
        optimizer, mode="max" if settings["monitor"] in ("val_accuracy", "val_r2") else "min",
        factor=settings["factor"], patience=settings["patience"],
    )  # fmt: skip
    return plateau, "metric"


def trainable_parameters(module) -> list:
    """Parameters that training updates (frozen nodes are left out)."""
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise TrainingError(
            "nothing to train: every layer with weights is frozen; make at least one trainable"
        )
    return params
