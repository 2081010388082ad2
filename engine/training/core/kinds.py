"""The recipes by name, and building one from a plain description (a *spec*).

A spec is plain data, so the exported ``train.py`` carries it as a literal::

    {"recipe": "supervised", "networks": ["model"], "loss": {"type": "CrossEntropyLoss"},
     "input_shape": [64], "monitor": ["val_loss", "min"]}
    {"recipe": "adversarial", "networks": ["generator", "discriminator"],
     "adversarial": {...}, "noise_shape": [8], "sample_shape": [2],
     "monitor": ["epoch", "max"]}
"""

from __future__ import annotations

from .adversarial import Adversarial
from .reconstruction import Reconstruction
from .supervised import Supervised

RECIPES = {"supervised": Supervised, "reconstruction": Reconstruction,
           "adversarial": Adversarial}  # fmt: skip


def make_recipe(spec: dict, models: dict, data, config):
    """The recipe ``spec`` describes, for ``models`` (network name -> module)."""
    kind = spec["recipe"]
    if kind == "adversarial":
        generator, discriminator = spec["networks"]
        return Adversarial(
            models[generator], models[discriminator], (generator, discriminator), data,
            config, spec["adversarial"], spec["noise_shape"], spec["sample_shape"],
        )  # fmt: skip
    (name,) = spec["networks"]
    return RECIPES[kind](models[name], data, config, spec["loss"], spec["input_shape"])
