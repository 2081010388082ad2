"""Why a classifier answered as it did for one sample: gradient saliency and Grad-CAM.

- Gradient saliency (Simonyan et al., 2014): how strongly the explained class's score
  (the network's output before softmax) reacts to each input number,
  ``|d score / d input|``; for an image, the largest over its channels per pixel. Scaled
  so that the largest value is 1.
- Grad-CAM (Selvaraju et al., 2017), for images through a network with a ``Conv2d``:
  the last convolution's feature maps, each weighted by the mean gradient of the score
  over it, summed, negatives dropped, stretched to the image's size and scaled to 1.
  Coarser than the gradient, but it shows the regions the class's evidence came from.

A few lines of autograd and one forward hook; no attribution library (Captum would
bring matplotlib along). The model's weights and its parameters' gradients are left as
they were. ``Explainer`` keeps one network compiled with its weights for many samples
(the app's Mistakes tab, from a background thread); ``overlay`` lays a map over its
image.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass

import numpy as np

from engine.errors import DataError

HEAT = np.array([(90, 0, 0), (220, 30, 0), (255, 170, 0), (255, 255, 150)], np.float32)


@dataclass
class Explanation:
    """Why ``model`` gave ``target`` for one sample.

    Attributes:
        target: the class explained (the predicted one unless another was asked for).
        probabilities: the model's probability per class for the sample.
        saliency: ``(H, W)`` for an image sample ``(C, H, W)``, else one number per
            number of the sample (its shape); from 0 to 1.
        gradcam: ``(H, W)`` from 0 to 1 for an image through a convolution, else None.
        gradcam_layer: the module (node id) Grad-CAM read, or "".
    """

    target: int
    probabilities: np.ndarray
    saliency: np.ndarray
    gradcam: np.ndarray | None = None
    gradcam_layer: str = ""


def explain(model, sample, input_shape, target: int | None = None) -> Explanation:
    """Gradient saliency and, for images, Grad-CAM of one sample.

    Args:
        model: the compiled classifier (its device is used; left in its mode).
        sample: one sample as the dataset holds it (``(C, H, W)`` for an image).
        input_shape: the network Input's shape; the sample is reshaped to it.
        target: the class to explain; default the predicted one.

    Raises:
        DataError: the sample holds token ids (whole numbers have no gradient).
    """
    import torch

    sample = np.asarray(sample)
    if not np.issubdtype(sample.dtype, np.floating):
        raise DataError("saliency needs float inputs; token ids (whole numbers) have no "
                        "gradient to follow")  # fmt: skip
    image = sample.ndim == 3
    parameter = next(iter(model.parameters()), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    x = torch.tensor(sample, dtype=torch.float32, device=device).reshape(1, *input_shape)
    x.requires_grad_(True)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad(), _last_conv_output(model, image) as conv:
            output = model(x).float().reshape(1, -1)
            probabilities = _probabilities(output)
            target = int(probabilities.argmax()) if target is None else int(target)
            wanted = [x] + ([conv.output] if conv.output is not None else [])
            grads = torch.autograd.grad(_score(output, target), wanted, allow_unused=True)
    finally:
        model.train(was_training)
    saliency = _saliency(grads[0], sample.shape, image)
    gradcam = None
    if conv.output is not None and grads[1] is not None:
        gradcam = _grad_cam(conv.output.detach(), grads[1], sample.shape[1:])
    layer = conv.name if gradcam is not None else ""
    return Explanation(target, probabilities, saliency, gradcam, layer)


class Explainer:
    """``explain`` for one network with its weights, compiled on first use; calls from
    several threads take turns (the forward hooks must see one pass at a time).

    Args:
        network: the engine network (``engine.network.Network``).
        state: its weights, keyed like the compiled module's state_dict.
        input_shape: the network Input's shape.

    Raises (from ``explain``):
        WeightsError: the weights do not fit the network.
    """

    def __init__(self, network, state: dict, input_shape):
        self.network, self.state, self.input_shape = network, state, tuple(input_shape)
        self.model = None
        self.lock = threading.Lock()

    def explain(self, sample, target: int | None = None) -> Explanation:
        """``explain(model, sample, input_shape, target)`` on this network."""
        with self.lock:
            if self.model is None:
                from engine.compile import compile_network
                from engine.weights import fitting_weights

                model = compile_network(self.network)
                model.load_state_dict(fitting_weights(model, self.state), strict=True)
                self.model = model
            return explain(self.model, sample, self.input_shape, target)


def overlay(sample, heat: np.ndarray, strength: float = 0.75) -> np.ndarray:
    """An image sample ``(C, H, W)`` in grey (or colour) with ``heat`` ``(H, W)`` (0 to 1)
    laid over it, dark red to yellow, the more opaque the hotter: ``(H, W, 3)`` uint8."""
    from engine.insight.render import colour, image

    base = image(np.asarray(sample, np.float32)).astype(np.float32)
    heat = np.clip(np.asarray(heat, np.float32), 0, 1)
    alpha = (heat * strength)[..., None]
    mixed = base * (1 - alpha) + colour(heat, HEAT).astype(np.float32) * alpha
    return np.round(mixed).astype(np.uint8)


def _probabilities(output) -> np.ndarray:
    from engine.training.evaluate import class_probabilities

    return class_probabilities(output.detach().cpu().numpy())[0]


def _score(output, target: int):
    """The explained class's score: its output, or for one logit (class 1) its sign."""
    if output.shape[1] == 1:
        return output[0, 0] if target == 1 else -output[0, 0]
    return output[0, target]


def _saliency(grad, shape, image: bool) -> np.ndarray:
    if grad is None:  # the output does not depend on the input at all
        values = np.zeros(shape, np.float32)
    else:
        values = grad.detach().abs().float().cpu().numpy().reshape(shape)
    if image:
        values = values.max(axis=0)
    return _unit(values)


def _grad_cam(activation, grad, size) -> np.ndarray:
    """Grad-CAM of one sample from the convolution's ``(1, K, h, w)`` output and gradient."""
    import torch.nn.functional as F

    weights = grad.float().mean(dim=(2, 3), keepdim=True)
    cam = (weights * activation.float()).sum(dim=1, keepdim=True).clamp(min=0)
    cam = F.interpolate(cam, size=tuple(size), mode="bilinear", align_corners=False)
    return _unit(cam[0, 0].cpu().numpy())


def _unit(values: np.ndarray) -> np.ndarray:
    """``values`` scaled so that the largest is 1 (all zeros stay zeros), float32."""
    values = np.nan_to_num(np.asarray(values, np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


class _ConvProbe:
    """The output of the last ``Conv2d`` that ran, and its module's name."""

    def __init__(self):
        self.name, self.output = "", None

    def hook(self, name: str):
        def record(_module, _inputs, output) -> None:
            self.name, self.output = name, output

        return record


@contextlib.contextmanager
def _last_conv_output(model, active: bool):
    """For one pass, a ``_ConvProbe`` fed by every ``Conv2d`` of ``model`` (when ``active``)."""
    import torch

    probe = _ConvProbe()
    convolutions = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    handles = [m.register_forward_hook(probe.hook(n)) for n, m in convolutions if active]
    try:
        yield probe
    finally:
        for handle in handles:
            handle.remove()


__all__ = ["HEAT", "Explainer", "Explanation", "explain", "overlay"]
