"""The portable training core: the loop and the recipes, in plain PyTorch.

Every module here imports only the standard library, numpy, torch and its siblings (by
relative import), so that the python export copies this folder verbatim beside the
exported ``train.py`` (as ``training_core/``): the same code trains in the app, in
``deepwire train``, under torchrun and in the exported script. ``tests/engine/
test_training_core.py`` holds that rule.

- ``loop.Loop``: epochs, shuffled order, pause/stop, events, best epoch, early stopping.
- recipes, one module each: ``supervised`` (classification, regression),
  ``reconstruction`` (autoencoders), ``adversarial`` (GANs). A recipe knows how one kind
  of model learns: its batches, losses, optimizers and metrics.
"""
