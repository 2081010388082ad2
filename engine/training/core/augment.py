"""Image augmentation of whole training batches on the training device.

The settings come checked from ``engine.data.augment.check_augment``: ``hflip``,
``vflip`` (mirror half of the images), ``shift`` (move by up to this many pixels, zero
fill) and ``noise`` (Gaussian noise of this standard deviation).
"""

from __future__ import annotations


def apply_augment(batch, settings: dict):
    """Return an augmented copy of a batch: images ``(N, C, H, W)``, or noisy samples.

    Random numbers come from the device's generator, which the trainer seeds each epoch.
    """
    import torch

    if not settings:
        return batch
    out = batch
    n, device = batch.shape[0], batch.device
    view = (n,) + (1,) * (batch.dim() - 1)
    if settings["hflip"]:
        out = torch.where(torch.rand(view, device=device) < 0.5, out.flip(-1), out)
    if settings["vflip"]:
        out = torch.where(torch.rand(view, device=device) < 0.5, out.flip(-2), out)
    if settings["shift"]:
        out = _shift(out, settings["shift"])
    if settings["noise"]:
        out = out + settings["noise"] * torch.randn_like(out)
    return out


def _shift(batch, limit: int):
    """Move the images by up to ``limit`` pixels (one random shift per batch, zero fill)."""
    import torch

    h, w = batch.shape[-2], batch.shape[-1]
    padded = torch.nn.functional.pad(batch, (limit, limit, limit, limit))
    dy, dx = torch.randint(0, 2 * limit + 1, (2,)).tolist()
    return padded[..., dy : dy + h, dx : dx + w]
