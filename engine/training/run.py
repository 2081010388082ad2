"""One training run on a device: data tensors, optimizer, schedule and the batch loop.

The ``Trainer`` owns the settings, history and control flags; a ``Run`` is what it
builds when ``fit`` starts. The samples are moved to the device once and batches are
taken with an index tensor (``x[idx]``), which is what a hand-written PyTorch loop does.
"""

from __future__ import annotations

import math
import time

from engine.data.augment import apply_augment
from engine.errors import TrainingError
from engine.training import checkpoint as ckpt
from engine.training import setup
from engine.training.device import autocast, grad_scaler
from engine.training.events import BatchEnd
from engine.training.metrics import MetricSums


def _to_device(array, device, shape=None):
    import torch

    tensor = torch.from_numpy(array)
    if shape is not None:
        tensor = tensor.reshape((len(array), *shape))
    if device.type == "cuda":
        tensor = tensor.pin_memory()
    return tensor.to(device, non_blocking=True)


class Run:
    """Everything one ``fit`` needs on the device (see the module docstring)."""

    def __init__(self, trainer, device, precision: str):
        import torch

        self.trainer, self.device, self.precision = trainer, device, precision
        config, data = trainer.config, trainer.dataset
        self.config, self.task = config, data.task
        self.dist = trainer.distributed
        self.model = trainer.model.to(device)
        self.x = _to_device(data.x_train, device, trainer.input_shape)
        self.x_val = _to_device(data.x_val, device, trainer.input_shape)
        reconstruct = data.task == "reconstruction"
        self.y = self.x if reconstruct else _to_device(data.y_train, device)
        self.y_val = self.x_val if reconstruct else _to_device(data.y_val, device)
        self.train_count, self.val_count = len(self.x), len(self.x_val)
        per_rank = self.train_count // (self.dist.world_size if self.dist else 1)
        if per_rank == 0:
            raise TrainingError("there are fewer training samples than processes")
        self.batches = math.ceil(per_rank / config.batch_size)
        params = setup.trainable_parameters(self.model)
        self.trainable_count = sum(p.numel() for p in params)
        self.loss_fn, self.target_for = setup.build_loss(trainer.loss_settings, data.num_classes)
        self.optimizer = setup.build_optimizer(config.optimizer, params)
        self.scheduler, self.schedule_on = setup.build_scheduler(
            config.scheduler, self.optimizer, config.epochs, self.batches
        )
        self.scaler = grad_scaler(device, precision)
        self.forward = self.dist.wrap(self.model) if self.dist else self.model
        if config.compile:
            self.forward = torch.compile(self.forward)
        self.start_epoch = 0
        self.best_state = None
        self.checkpoint_epoch = 0  # the last epoch whose checkpoint is on disk
        self._l1_params = params if config.l1 else []

    # -- one epoch -------------------------------------------------------------------
    def _order(self, epoch: int):
        import torch

        generator = torch.Generator().manual_seed(self.config.seed * 100_003 + epoch)
        order = torch.randperm(self.train_count, generator=generator)
        if self.dist:
            order = self.dist.shard(order)
        return order.to(self.device, non_blocking=True)

    def _loss(self, xb, yb):
        if self.precision == "fp32":
            output = self.forward(xb)
            loss = self.loss_fn(output, self.target_for(yb, output))
        else:
            with autocast(self.device, self.precision):
                output = self.forward(xb)
                loss = self.loss_fn(output, self.target_for(yb, output))
        if self._l1_params:
            loss = loss + self.config.l1 * sum(p.abs().sum() for p in self._l1_params)
        return output, loss

    def _step(self, loss) -> None:
        optimizer, scaler, clip = self.optimizer, self.scaler, self.config.grad_clip
        if scaler is not None:
            scaler.scale(loss).backward()
            if clip:
                scaler.unscale_(optimizer)
                _clip(optimizer, clip)
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            if clip:
                _clip(optimizer, clip)
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if self.schedule_on == "batch":
            self.scheduler.step()

    def train_epoch(self, epoch: int) -> dict | None:
        """Train one epoch; the epoch's metrics, or None when stopped by the user."""
        import torch

        trainer, config = self.trainer, self.config
        torch.manual_seed(config.seed * 1_000 + epoch)
        self.model.train()
        sums = MetricSums(self.task, self.device, trainer.dataset.target_std)
        order, size = self._order(epoch), config.batch_size
        started, paused_for, seen, lr = time.perf_counter(), 0.0, 0, self.lr()
        for batch in range(self.batches):
            if not trainer._running.is_set():
                paused_for += self._wait(trainer)
            if trainer._stop.is_set():
                return None
            idx = order[batch * size : (batch + 1) * size]
            xb, yb = self.batch(idx)
            output, loss = self._loss(xb, yb)
            report = (batch + 1) % config.log_every == 0 or batch + 1 == self.batches
            if report:
                value = loss.item()
                if not self.dist and not math.isfinite(value):
                    raise TrainingError(_nan(value, epoch, batch + 1))
            sums.update(loss, output, yb)
            self._step(loss)
            trainer.step += 1
            seen += len(idx)
            if report:
                rate = seen / max(time.perf_counter() - started - paused_for, 1e-9)
                if self.schedule_on == "batch":
                    lr = self.lr()
                trainer._emit("on_batch_end", BatchEnd(
                    epoch, batch + 1, self.batches, trainer.step, value, lr, rate))  # fmt: skip
        totals = sums.totals()
        if self.dist:
            totals = self.dist.all_reduce(totals.clone())
        result = sums.compute(totals)
        if not math.isfinite(result.get("loss", 0.0)):
            raise TrainingError(_nan(result["loss"], epoch, "(end)"))
        return result

    def batch(self, idx):
        """The training samples and targets at ``idx``, augmented as the dataset asks."""
        xb, yb = self.x[idx], self.y[idx]
        augment = self.trainer.dataset.augment
        if augment:
            xb = apply_augment(xb, augment)
        return xb, yb

    def _wait(self, trainer) -> float:
        began = time.perf_counter()
        trainer._emit("on_pause", True)
        while not trainer._running.wait(0.05):
            pass
        trainer._emit("on_pause", False)
        return time.perf_counter() - began

    def validate(self) -> dict:
        """Metrics on the validation part (empty when there is none)."""
        import torch

        if not self.val_count:
            return {}
        self.model.eval()
        sums = MetricSums(self.task, self.device, self.trainer.dataset.target_std)
        size = max(self.config.batch_size, 256)
        with torch.no_grad():
            for start in range(0, self.val_count, size):
                xb, yb = self.x_val[start : start + size], self.y_val[start : start + size]
                with autocast(self.device, self.precision):
                    output = self.model(xb)
                    loss = self.loss_fn(output, self.target_for(yb, output))
                sums.update(loss.float(), output.float(), yb)
        return sums.compute()

    # -- resuming ----------------------------------------------------------------------
    def resume(self, path) -> None:
        """Continue from the checkpoint at ``path``: weights, optimizer, schedule, history.

        The whole checkpoint is read and checked first (``checkpoint.read_checkpoint``),
        so a damaged or crafted one ends in a TrainingError naming its file before the
        model or the trainer's best epoch change.
        """
        trainer = self.trainer
        saved = ckpt.read_checkpoint(path, self.model, self.device)
        state = saved.state
        ckpt.check_optimizer_state(state.get("optimizer"), self.optimizer, saved.path)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            if self.scheduler is not None and state.get("scheduler"):
                self.scheduler.load_state_dict(state["scheduler"])
            if self.scaler is not None and state.get("scaler"):
                self.scaler.load_state_dict(state["scaler"])
        except (KeyError, ValueError, TypeError) as error:
            raise TrainingError(
                f"{saved.path.name}: the checkpoint does not fit these settings (was the "
                f"optimizer or scheduler changed?): {error}"
            ) from None
        self.model.load_state_dict(saved.weights)
        trainer.history = [dict(row) for row in state["history"]]
        trainer.best_epoch, trainer.best_value = state["best_epoch"], state.get("best_value")
        trainer.best_row, trainer.step = dict(state["best_row"]), state["step"]
        self.start_epoch = self.checkpoint_epoch = state["epoch"]
        self.best_state = saved.best

    # -- between epochs ----------------------------------------------------------------
    def lr(self) -> float:
        """The learning rate of the first parameter group."""
        return float(self.optimizer.param_groups[0]["lr"])

    def scheduler_epoch_end(self, row: dict) -> None:
        """Step an epoch-wise or metric-wise scheduler."""
        if self.schedule_on == "epoch":
            self.scheduler.step()
        elif self.schedule_on == "metric":
            monitor = self.config.scheduler["monitor"]
            value = row.get(monitor, row.get("train_loss"))
            self.scheduler.step(value)

    def remember_start(self) -> None:
        """Keep the weights the run starts with, unless a resumed best is already kept.

        They are the run's "last good" weights until an epoch completes: a stop or a
        failure before that puts them back.
        """
        if self.best_state is None:
            self.remember_best()

    def remember_best(self) -> None:
        """Keep a CPU copy of the current weights as the best ones."""
        self.best_state = ckpt.state_tensors(self.model)

    def restore_best(self) -> None:
        """Put the best weights (or those the run started with) back into the model."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def save_checkpoints(self, epoch: int, is_best: bool) -> None:
        """Write ``last`` (and ``best``) under ``out_dir/checkpoints`` on the main process.

        A checkpoint that cannot be written is a warning, not the end of training: the
        previous checkpoint stays whole and the weights stay in memory.
        """
        trainer = self.trainer
        if trainer.out_dir is None or (self.dist and not self.dist.is_main):
            return
        state = trainer.checkpoint_state(epoch)
        state["optimizer"] = self.optimizer.state_dict()
        state["scheduler"] = self.scheduler.state_dict() if self.scheduler else None
        state["scaler"] = self.scaler.state_dict() if self.scaler else None
        folder = trainer.out_dir / "checkpoints"
        try:
            ckpt.save_checkpoint(folder, "last", self.model, state)
            if is_best:
                ckpt.save_checkpoint(folder, "best", self.model, state)
        except OSError as error:
            trainer.warn(checkpoint_warning(folder, error, self.checkpoint_epoch))
            return
        self.checkpoint_epoch = epoch


def checkpoint_warning(folder, error: OSError, written_epoch: int) -> str:
    """The sentence for a checkpoint that could not be written."""
    reason = error.strerror or str(error)
    kept = (
        f"the checkpoint of epoch {written_epoch} there is kept"
        if written_epoch
        else "no checkpoint has been written yet"
    )
    return (
        f"cannot write checkpoints to {folder} ({reason}); training goes on with the "
        f"weights in memory, and {kept}"
    )


def _clip(optimizer, max_norm: float) -> None:
    import torch

    params = [p for group in optimizer.param_groups for p in group["params"]]
    torch.nn.utils.clip_grad_norm_(params, max_norm)


def _nan(value, epoch, batch) -> str:
    from engine.training.trainer import NAN_MESSAGE

    return NAN_MESSAGE.format(value=value, epoch=epoch, batch=batch)
