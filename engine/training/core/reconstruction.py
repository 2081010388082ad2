"""The reconstruction recipe: an autoencoder learns to give back its input.

It is the supervised recipe with the samples as their own targets.
"""

from __future__ import annotations

from .supervised import Supervised


class Reconstruction(Supervised):
    """Trains the network to reproduce its input (the loss compares output and input:
    the sample before augmentation, so augmenting makes a denoising autoencoder)."""

    targets = "samples"
