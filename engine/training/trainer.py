"""The Trainer: one network, one dataset, one config, a list of listeners.

It compiles the network, moves the whole dataset to the training device as tensors and
batches it by index (no DataLoader, no per-sample Python work), then runs epochs of
optimisation and validation. It only calls hooks (``engine.training.callbacks``);
progress bars, plots, files and early stopping decisions are made visible through
them. ``pause``, ``resume`` and ``stop`` may be called from any thread; they are seen at
the start of the next batch.

Failures end in ``TrainingError`` with a sentence for the user (NaN loss with its
likely causes, CUDA out of memory with a smaller batch size to try), after
``on_exception`` has been called.

Whatever ends a run, the model is left holding its last good weights: those of the
best completed epoch, or, when no epoch completed (a stop or a failure in the first
epoch), the weights it started with. A checkpoint that cannot be written is reported
through ``on_warning`` and training goes on.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from pathlib import Path

from engine.data.base import Dataset
from engine.errors import DeepwireError, TrainingError
from engine.training import checkpoint as ckpt
from engine.training import setup
from engine.training.config import MONITORS, TrainingConfig
from engine.training.device import resolve_device, resolve_precision
from engine.training.doctor import diagnose
from engine.training.events import EpochEnd, TrainEnd, TrainFailed, TrainStart

NAN_MESSAGE = (
    "the loss became {value} at epoch {epoch}, batch {batch}: training diverged. Likely "
    "causes: the learning rate is too high (lower optimizer.lr), the data is not "
    "normalised (dataset normalize), or exploding gradients (set grad_clip)"
)


class Trainer:
    """Trains a network on a dataset; see the module docstring.

    Args:
        network: the ``engine.network.Network`` to train (one Input, one Output).
        dataset: the loaded ``Dataset``.
        config: a ``TrainingConfig`` or a ``training`` section dict.
        callbacks: listeners (``Callback`` subclasses).
        out_dir: where checkpoints go (``out_dir/checkpoints/best|last``); None for none.
        distributed: a ``DistributedContext`` under torchrun, else None.

    Raises:
        CompileError, DataError, TrainingError: the network, the data and the settings
            do not fit together (checked before anything runs).
    """

    def __init__(self, network, dataset: Dataset, config=None, callbacks=(), *, out_dir=None,
                 distributed=None):  # fmt: skip
        self.network = network
        self.dataset = dataset
        if not isinstance(config, TrainingConfig):
            config = TrainingConfig.from_dict(config)
        self.config = config
        self.callbacks = list(callbacks)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.distributed = distributed
        self.loss_settings = setup.resolve_loss(config, dataset)
        self.input_shape, self.output_shape = setup.check_fit(
            network, dataset, self.loss_settings["type"]
        )
        self.monitor = self._monitor()
        self.history: list[dict] = []
        self.best_epoch, self.best_value, self.best_row = 0, None, {}
        self.step = 0
        self.state = "ready"
        self.model = self._compile()
        self.device = None
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._warned: set[str] = set()

    # -- control, from any thread -------------------------------------------------------
    def pause(self) -> None:
        """Pause before the next batch (the loop waits, holding no lock)."""
        self._running.clear()

    def resume(self) -> None:
        """Go on after ``pause``."""
        self._running.set()

    def stop(self) -> None:
        """End training before the next batch; ``fit`` returns with reason ``stopped``."""
        self._stop.set()
        self._running.set()

    @property
    def paused(self) -> bool:
        """Whether a pause was asked for."""
        return not self._running.is_set()

    # -- setup ---------------------------------------------------------------------------
    def _monitor(self) -> tuple[str, str]:
        stopping = self.config.early_stopping
        if stopping:
            name = stopping["monitor"]
        else:
            name = "val_loss" if len(self.dataset.x_val) else "train_loss"
        if name.startswith("val_") and not len(self.dataset.x_val):
            raise TrainingError(
                f"early_stopping watches {name} but there is no validation data; set the "
                "dataset's validation_split above 0"
            )
        task_metrics = {"classification": "accuracy", "regression": ("mae", "r2")}
        metric = name.split("_", 1)[1]
        if metric != "loss" and metric not in task_metrics.get(self.dataset.task, ()):
            raise TrainingError(f"{name} is not measured for a {self.dataset.task} task")
        return name, MONITORS[name]

    def _compile(self):
        import torch

        from engine.compile import compile_network

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)
            return compile_network(self.network)

    def _emit(self, hook: str, *args) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def warn(self, message: str) -> None:
        """Tell the listeners (``on_warning``) of a problem that does not end training.

        The same message is passed on once per run.
        """
        if message not in self._warned:
            self._warned.add(message)
            self._emit("on_warning", message)

    # -- the run -------------------------------------------------------------------------
    def fit(self, resume_from: str | Path | None = None) -> TrainEnd:
        """Train; returns how it ended. ``resume_from`` continues from a checkpoint.

        Raises:
            TrainingError: training failed (``on_exception`` was called first).
        """
        run = None
        self._warned.clear()
        try:
            self.state = "running"
            run = self._prepare(resume_from)
            run.remember_start()
            end = self._loop(run)
        except DeepwireError as error:
            self._fail(run, str(error), error)
            raise
        except Exception as error:
            message = _explain(error, self.config.batch_size)
            self._fail(run, message, error)
            raise TrainingError(message) from error
        self.state = end.reason
        self._emit("on_train_end", end)
        return end

    def _fail(self, run, message: str, error: BaseException) -> None:
        """Put the last good weights back, then tell the listeners."""
        self.state = "failed"
        if run is not None:
            with contextlib.suppress(Exception):  # the user's sentence is the first error
                run.restore_best()
        epoch = self.history[-1]["epoch"] if self.history else 0
        self._emit("on_exception", TrainFailed(message, epoch, error, self.best_epoch))

    def _prepare(self, resume_from):
        from engine.training.run import Run

        if self.distributed is not None:
            self.device = self.distributed.device(self.config.device)
        else:
            self.device = resolve_device(self.config.device)
        precision = resolve_precision(self.config.precision, self.device)
        run = Run(self, self.device, precision)
        if resume_from is not None:
            run.resume(resume_from)
        return run

    def _loop(self, run) -> TrainEnd:
        config = self.config
        self._emit("on_train_start", TrainStart(
            config.epochs, run.start_epoch + 1, run.batches, run.train_count, run.val_count,
            str(self.device), run.precision, run.trainable_count, self.dataset.task,
            self.loss_settings["type"],
        ))  # fmt: skip
        reason, waited = "finished", 0
        for epoch in range(run.start_epoch + 1, config.epochs + 1):
            self._emit("on_epoch_start", epoch)
            started = time.perf_counter()
            train = run.train_epoch(epoch)
            if train is None:
                reason = "stopped"
                break
            val = run.validate()
            event = self._finish_epoch(run, epoch, train, val, time.perf_counter() - started)
            self._emit("on_epoch_end", event)
            waited = 0 if event.is_best else waited + 1
            if self._stop.is_set():
                reason = "stopped"
                break
            stopping = config.early_stopping
            if stopping and waited >= stopping["patience"]:
                reason = "early_stopping"
                break
        run.restore_best()
        done = self.history[-1]["epoch"] if self.history else 0
        notes = diagnose(self.history, self.dataset.task)
        return TrainEnd(reason, done, self.best_epoch, dict(self.best_row), notes)

    def _finish_epoch(self, run, epoch, train, val, seconds) -> EpochEnd:
        lr = run.lr()
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in train.items()},
               **{f"val_{k}": v for k, v in val.items()}, "lr": lr}  # fmt: skip
        value = row.get(self.monitor[0])
        if value is None or not math.isfinite(value):
            raise TrainingError(NAN_MESSAGE.format(value=value, epoch=epoch, batch="(end)"))
        run.scheduler_epoch_end(row)
        is_best = self._improved(value)
        if is_best:
            self.best_epoch, self.best_value, self.best_row = epoch, value, row
            run.remember_best()
        self.history.append(row)
        run.save_checkpoints(epoch, is_best)
        rate = run.train_count / max(seconds, 1e-9)
        return EpochEnd(epoch, self.config.epochs, train, val, lr, seconds, rate, is_best)

    def _improved(self, value: float) -> bool:
        if self.best_value is None:
            return True
        delta = self.config.early_stopping["min_delta"] if self.config.early_stopping else 0.0
        if self.monitor[1] == "min":
            return value < self.best_value - delta
        return value > self.best_value + delta

    def checkpoint_state(self, epoch: int) -> dict:
        """The plain (torch.save-able, weights_only-loadable) part of the trainer's state."""
        return {
            "epoch": epoch,
            "step": self.step,
            "history": [dict(r) for r in self.history],
            "best_epoch": self.best_epoch,
            "best_value": self.best_value,
            "best_row": dict(self.best_row),
        }

    def save_weights(self, path: str | Path) -> None:
        """Write the model's current weights (the best ones after ``fit``) as safetensors."""
        ckpt.save_weights(self.model, path)


def _explain(error: Exception, batch_size: int) -> str:
    """A sentence for an unexpected error from torch."""
    import torch

    if isinstance(error, torch.cuda.OutOfMemoryError) or "out of memory" in str(error):
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        smaller = max(1, batch_size // 2)
        return (
            f"the GPU ran out of memory at batch_size {batch_size}; try batch_size {smaller}, "
            "a smaller network, or precision bf16/fp16"
        )
    if isinstance(error, OSError) and error.strerror:
        where = f" ({Path(error.filename).name})" if error.filename else ""
        return f"training failed: {error.strerror}{where}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"training failed: {first}"
