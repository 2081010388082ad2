"""What a recipe builds its training from: loss, optimizer, schedule, one update step.

Settings arrive as the plain dicts of the project's ``training`` section, already
checked (``engine.training.config``): ``{"type": "Adam", "lr": 0.001, ...}``.
"""

from __future__ import annotations

from .errors import TrainingError

# losses that take class indices as targets; the others compare values
CLASS_LOSSES = ("CrossEntropyLoss", "NLLLoss")


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


def trainable_parameters(module, what: str = "layer") -> list:
    """Parameters that training updates (frozen nodes are left out)."""
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise TrainingError(
            f"nothing to train: every {what} with weights is frozen; make at least one trainable"
        )
    return params


def grad_scaler(device, precision: str):
    """A GradScaler for fp16, else None."""
    import torch

    if precision != "fp16":
        return None
    return torch.amp.GradScaler(device.type)


def update(loss, optimizer, scaler=None, clip: float | None = None, observe=None) -> None:
    """Backward, clip, step and clear: one optimisation step (scaled under fp16).
    ``observe()``, when given, reads the gradients (unscaled) before the step."""
    if scaler is not None:
        scaler.scale(loss).backward()
        if clip or observe:
            scaler.unscale_(optimizer)
        if observe:
            observe()
        if clip:
            clip_gradients(optimizer, clip)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        if observe:
            observe()
        if clip:
            clip_gradients(optimizer, clip)
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def clip_gradients(optimizer, max_norm: float):
    """Scale the gradients of the optimizer's parameters to a total norm of ``max_norm``."""
    import torch

    params = [p for group in optimizer.param_groups for p in group["params"]]
    return torch.nn.utils.clip_grad_norm_(params, max_norm)
