"""Where training runs and in which precision.

``auto`` picks CUDA, then Apple's MPS, then the CPU. Mixed precision runs only on CUDA:
``bf16`` (no loss scaling needed) or ``fp16`` (with a GradScaler); ``auto`` chooses bf16
where the GPU supports it, else fp16, and full precision elsewhere. On CUDA a network
with 2-D convolutions runs channels-last (NHWC), the layout tensor cores are fastest in.
"""

from __future__ import annotations

import contextlib

from .errors import TrainingError


def resolve_device(name: str = "auto"):
    """The ``torch.device`` for ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``."""
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise TrainingError(
                f"device {name!r} was asked for but no CUDA GPU is available here; "
                "use device auto or cpu"
            )
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise TrainingError(f"device {name!r} does not exist: this machine has {count} GPU(s)")
        return device
    if name == "mps" and not _mps_available():
        raise TrainingError("device 'mps' was asked for but Apple's MPS is not available here")
    if name not in ("cpu", "mps"):
        raise TrainingError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps")
    return torch.device(name)


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve_precision(precision: str, device) -> str:
    """``fp32``, ``bf16`` or ``fp16``: what runs on ``device`` for the asked precision."""
    import torch

    if device.type != "cuda":
        if precision in ("bf16", "fp16"):
            raise TrainingError(
                f"precision {precision} needs a CUDA GPU; training here is on {device.type}, "
                "use precision fp32"
            )
        return "fp32"
    if precision == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def autocast(device, precision: str):
    """A context that runs the forward pass in ``precision`` (a no-op for fp32)."""
    import torch

    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def prefers_channels_last(module, device) -> bool:
    """Whether ``module`` should run channels-last on ``device``: CUDA and a 2-D
    convolution in it (channels-last speeds convolutions up on tensor cores and costs
    the CPU a layout change per layer)."""
    import torch

    if device.type != "cuda":
        return False
    return any(isinstance(m, torch.nn.Conv2d | torch.nn.ConvTranspose2d) for m in module.modules())
