"""The supervised recipe: a network learns targets (classes or values) from samples.

One loss on the network's output, one optimizer, an optional learning-rate schedule,
optional L1 penalty and gradient clipping, mixed precision on CUDA.
"""

from __future__ import annotations

from .batches import make_batches
from .build import (
    build_loss,
    build_optimizer,
    build_scheduler,
    grad_scaler,
    trainable_parameters,
    update,
)
from .data import batches_per_epoch
from .device import autocast
from .layer_stats import LayerStats
from .metrics import MetricSums
from .recipe import Recipe


class Supervised(Recipe):
    """Classification and regression (see the module docstring).

    Args:
        model: the network's ``torch.nn.Module`` (one input, one output).
        data: ``data.Arrays`` (or an ``engine.data.Dataset``, whose samples may be
            streamed: ``batches.make_batches`` gives the batches either way).
        config: the training settings (``optimizer``, ``scheduler``, ``l1``...).
        loss: the loss settings, ``{"type": "CrossEntropyLoss", ...}``.
        input_shape: the network input's shape; samples are reshaped to it.
    """

    targets = "data"  # what the batches' targets are (``batches.make_batches``)

    def __init__(self, model, data, config, loss: dict, input_shape):
        super().__init__(model, config)
        self.model, self.data, self.loss = model, data, loss
        self.input_shape = tuple(input_shape)
        self.task, self.loss_name = data.task, loss["type"]

    def place(self, device, precision: str, dist=None) -> None:
        """Move the model (and in-memory data) to ``device``; build optimizer and schedule."""
        import torch

        super().place(device, precision, dist)
        config, data = self.config, self.data
        self.source = make_batches(data, device, self.input_shape, config.batch_size,
                                   config.seed, dist, targets=self.targets,
                                   augment=getattr(data, "augment", None))  # fmt: skip
        self.train_count, self.val_count = self.source.train_count, self.source.val_count
        self.batches = batches_per_epoch(self.train_count, config.batch_size, dist)
        params = trainable_parameters(self.model)
        self.trainable_count = sum(p.numel() for p in params)
        self.loss_fn, self.target_for = build_loss(self.loss, data.num_classes)
        self.optimizer = build_optimizer(config.optimizer, params)
        self.scheduler, self.schedule_on = build_scheduler(
            config.scheduler, self.optimizer, config.epochs, self.batches
        )
        self.scaler = grad_scaler(device, precision)
        self.forward = dist.wrap(self.model) if dist else self.model
        if getattr(config, "compile", False):
            self.forward = torch.compile(self.forward)
        self.l1_params = params if config.l1 else []
        self.layer_stats = LayerStats(self.model.named_parameters(), self.batches)

    def begin_epoch(self, epoch: int) -> None:
        """Training mode and fresh metric sums."""
        self.model.train()
        self.sums = MetricSums(self.task, self.device, self.data.target_std)
        if self.layer_stats is not None:
            self.layer_stats.begin_epoch()

    def loss_of(self, xb, yb):
        """The network's output on ``xb`` and its loss against ``yb`` (L1 included)."""
        with autocast(self.device, self.precision):
            output = self.forward(xb)
            loss = self.loss_fn(output, self.target_for(yb, output))
        if self.l1_params:
            loss = loss + self.config.l1 * sum(p.abs().sum() for p in self.l1_params)
        return output, loss

    def step(self, batch):
        """One optimisation step on a batch ``(samples, targets)``, augmented already."""
        xb, yb = batch
        output, loss = self.loss_of(xb, yb)
        self.sums.update(loss, output, yb)
        observe = self.layer_stats.observer() if self.layer_stats is not None else None
        update(loss, self.optimizer, self.scaler, self.config.grad_clip, observe)
        if self.schedule_on == "batch":
            self.scheduler.step()
        return loss

    def end_epoch(self) -> dict:
        """Loss and accuracy (or MAE, R²) over the epoch, summed over processes."""
        totals = self.sums.totals()
        if self.dist:
            totals = self.dist.all_reduce(totals.clone())
        return self.sums.compute(totals)

    def validate(self) -> dict:
        """Metrics on the validation part (empty when there is none)."""
        import torch

        if not self.val_count:
            return {}
        self.model.eval()
        sums = MetricSums(self.task, self.device, self.data.target_std)
        size = max(self.config.batch_size, 256)
        with torch.no_grad():
            for xb, yb in self.source.validation(size):
                with autocast(self.device, self.precision):
                    output = self.model(xb)
                    loss = self.loss_fn(output, self.target_for(yb, output))
                sums.update(loss.float(), output.float(), yb)
        return sums.compute()

    def scheduler_epoch_end(self, row: dict) -> None:
        """Step an epoch-wise or metric-wise schedule."""
        if self.schedule_on == "epoch":
            self.scheduler.step()
        elif self.schedule_on == "metric":
            monitor = self.config.scheduler["monitor"]
            self.scheduler.step(row.get(monitor, row.get("train_loss")))

    def optimizers(self) -> list:
        """The one optimizer."""
        return [self.optimizer]

    def optimizer_state(self) -> dict:
        """Optimizer, schedule and loss-scaler state."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler else None,
            "scaler": self.scaler.state_dict() if self.scaler else None,
        }

    def load_optimizer_state(self, state: dict, check) -> None:
        """Restore ``optimizer_state()``'s fields (checked by ``check`` first)."""
        check(state.get("optimizer"), self.optimizer)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
