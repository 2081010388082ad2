"""What every recipe has: its module, its device, its optimizer state and weights.

A recipe knows how one kind of model learns. The ``Loop`` calls, in order:
``place(device, precision, dist)`` once, then per epoch ``begin_epoch(epoch)``,
``step(batch)`` per batch of ``epoch_batches(epoch)`` (it returns the loss tensor to
report), ``end_epoch()`` (the
training metrics), ``validate()``, ``epoch_extra()``, ``scheduler_epoch_end(row)`` and,
when live views are asked for, ``view(epoch)``. Subclasses set after ``place``:
``batches``, ``train_count``, ``val_count``, ``trainable_count``.
"""

from __future__ import annotations


class Recipe:
    """The base of the recipes (see the module docstring).

    Attributes:
        module: the ``torch.nn.Module`` whose state_dict is the run's weights (the
            model, or a ModuleDict of several networks).
        task: what the loop reports as the task (``classification``, ``generation``...).
        loss_name: the loss, in words, for the start event.
        schedule_on: when the learning-rate schedule steps: ``batch``, ``epoch``,
            ``metric`` or None.
    """

    task = ""
    loss_name = ""

    def __init__(self, module, config):
        self.module, self.config = module, config
        self.device = self.dist = None
        self.precision = "fp32"
        self.schedule_on = None
        self.batches = self.train_count = self.val_count = self.trainable_count = 0
        self.source = None  # the batch source (``batches.make_batches``), set by ``place``
        self.layer_stats = None  # a LayerStats where the recipe records them (a GAN: 2)

    def place(self, device, precision: str, dist=None) -> None:
        """Move to ``device`` and build the optimizers (``dist``: a DistributedContext)."""
        import torch

        from .device import prefers_channels_last

        self.device, self.precision, self.dist = device, precision, dist
        self.module.to(device)
        if prefers_channels_last(self.module, device):
            self.module.to(memory_format=torch.channels_last)

    def weights(self) -> dict:
        """A CPU copy of the module's weights (the best epoch's are kept this way), in
        the standard layout whatever the training one (safetensors needs it)."""
        import torch

        return {
            key: value.detach().to("cpu", copy=True, memory_format=torch.contiguous_format)
            for key, value in self.module.state_dict().items()
        }

    def load_weights(self, state: dict) -> None:
        """Put weights from ``weights()`` back into the module."""
        self.module.load_state_dict(state)

    # -- per epoch (the subclasses fill these in) ----------------------------------------
    def begin_epoch(self, epoch: int) -> None:
        """Before the first batch of ``epoch``."""
        self.module.train()

    def epoch_batches(self, epoch: int):
        """The batches of ``epoch``: ``(samples, targets)`` on the device, in order."""
        return self.source.epoch(epoch)

    def close(self) -> None:
        """After training: end what the batch source runs (its data workers)."""
        if self.source is not None:
            self.source.close()

    def step(self, batch):
        """Train on one batch ``(samples, targets)``; returns the loss tensor to report."""
        raise NotImplementedError

    def end_epoch(self) -> dict:
        """The epoch's training metrics as floats (``loss``...)."""
        raise NotImplementedError

    def validate(self) -> dict:
        """Metrics on the validation part (empty when there is none)."""
        return {}

    def layer_rows(self, epoch: int) -> list[dict]:
        """Per-node weight and gradient statistics of the epoch (``layer_stats``)."""
        return self.layer_stats.end_epoch(epoch) if self.layer_stats is not None else []

    def layer_histograms(self) -> dict:
        """Per node, histograms of its weights and gradient, of the epoch ``layer_rows``
        just ended (``{node: {"weights": Histogram, "gradients": Histogram}}``)."""
        return self.layer_stats.histograms if self.layer_stats is not None else {}

    def epoch_extra(self) -> dict:
        """Measures that are neither training nor validation metrics."""
        return {}

    def view(self, epoch: int):
        """A picture of what the model makes now (an event), or None."""
        return None

    def lr(self) -> float:
        """The learning rate shown (that of the first optimizer's first group)."""
        return float(self.optimizers()[0].param_groups[0]["lr"])

    def scheduler_epoch_end(self, row: dict) -> None:
        """Step an epoch-wise or metric-wise schedule."""

    # -- checkpoints ---------------------------------------------------------------------
    def optimizers(self) -> list:
        """The recipe's optimizers."""
        raise NotImplementedError

    def optimizer_state(self) -> dict:
        """The optimizers' (and schedule's, scalers') state for a checkpoint."""
        raise NotImplementedError

    def load_optimizer_state(self, state: dict, check) -> None:
        """Restore ``optimizer_state()``'s fields; ``check(saved, optimizer)`` raises
        when a saved optimizer state does not fit."""
        raise NotImplementedError
