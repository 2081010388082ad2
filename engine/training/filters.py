"""The filters of a network's convolutions as a run starts, to set the learned ones beside.

A convolution's filters start random; training shapes them (the first layer's into
edge and stroke detectors). ``StartFilters`` is a listener that keeps a CPU copy of
each convolution's weights when the run starts: only the filters a picture shows
(``engine.insight.render.filters_picture``: the first ``MAX_FILTERS`` filters, their
first ``MAX_CHANNELS`` input channels), so the copy stays small whatever the network.
The run's kept weights give the learned ones, sliced alike by ``shown``.
"""

from __future__ import annotations

from engine.training.callbacks import Callback

MAX_FILTERS, MAX_CHANNELS = 64, 16


def shown(weight):
    """The part of a convolution's weight tensor that a picture of it shows, as a
    float32 NumPy copy."""
    return weight.detach()[:MAX_FILTERS, :MAX_CHANNELS].float().cpu().numpy().copy()


def conv_filters(module) -> dict:
    """``{state_dict key: shown(weight)}`` for every convolution in ``module``, in the
    module's order (``conv1.weight``, ``generator.deconv1.weight``...)."""
    import torch

    return {
        f"{name}.weight" if name else "weight": shown(layer.weight)
        for name, layer in module.named_modules()
        if isinstance(layer, torch.nn.modules.conv._ConvNd)
    }


class StartFilters(Callback):
    """Keeps ``filters``: ``conv_filters`` of the trained model as training starts."""

    def __init__(self):
        self.filters: dict = {}

    def on_train_start(self, trainer, event) -> None:
        self.filters = conv_filters(trainer.model)
