"""The training loop: epochs of a recipe, with events, pauses, stops and the best epoch.

The ``Loop`` knows nothing of what is trained: a recipe (``supervised``,
``reconstruction``, ``adversarial``) gives the epoch's batches (``batches``: from the
device's memory or streamed from files) and makes its optimisation step on each. The loop shuffles, batches, pauses, stops, checks for NaN, keeps the
history, the best epoch and its weights, stops early, and tells its listeners.

Listeners are objects with any of the hooks ``on_train_start``, ``on_epoch_start``,
``on_batch_end``, ``on_epoch_end``, ``on_view``, ``on_pause``, ``on_train_end``,
``on_exception`` and ``on_warning``; each is called with the loop's owner (the engine's
``Trainer``, or the loop itself) and one event of ``events``. ``pause``, ``resume`` and
``stop`` may be called from any thread; they are seen at the start of the next batch.

Whatever ends a run, the recipe's module is left holding its last good weights: those
of the best completed epoch or, when no epoch completed, the weights it started with.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time

from .errors import DeepwireError, TrainingError
from .events import BatchEnd, EpochEnd, TrainEnd, TrainFailed, TrainStart

# what early stopping and the best epoch can watch, and which way is better
MONITORS = {"val_loss": "min", "val_accuracy": "max", "val_mae": "min", "val_r2": "max",
            "train_loss": "min", "train_accuracy": "max"}  # fmt: skip
# the metrics each task measures besides its loss
TASK_METRICS = {"classification": ("accuracy",), "regression": ("mae", "r2")}
# a recipe whose losses say nothing of quality (a GAN) keeps its latest epoch
LATEST = ("epoch", "max")

NAN_MESSAGE = (
    "the loss became {value} at epoch {epoch}, batch {batch}: training diverged. Likely "
    "causes: the learning rate is too high (lower optimizer.lr), the data is not "
    "normalised (dataset normalize), or exploding gradients (set grad_clip)"
)


def choose_monitor(early_stopping: dict | None, has_val: bool, task: str) -> tuple[str, str]:
    """What decides the best epoch: ``(name, "min" | "max")``; raises TrainingError."""
    default = "val_loss" if has_val else "train_loss"
    name = early_stopping["monitor"] if early_stopping else default
    if name.startswith("val_") and not has_val:
        raise TrainingError(
            f"early_stopping watches {name} but there is no validation data; set the "
            "dataset's validation_split above 0"
        )
    metric = name.split("_", 1)[1]
    if metric != "loss" and metric not in TASK_METRICS.get(task, ()):
        raise TrainingError(f"{name} is not measured for a {task} task")
    return name, MONITORS[name]


class Loop:
    """Runs a recipe's epochs; see the module docstring.

    Args:
        recipe: a recipe (``recipe.Recipe``), placed on its device before ``fit`` runs.
        config: the settings: ``epochs``, ``batch_size``, ``seed``, ``log_every``,
            ``early_stopping`` (attributes, as ``engine.training.TrainingConfig`` has).
        callbacks: listeners.
        monitor: ``(row key, "min" | "max")``: what makes an epoch the best.
        owner: what the hooks receive as their first argument (default: the loop).
        diagnose: ``f(history, task, layers=...) -> notes`` for ``TrainEnd.notes``, or
            None; ``layers`` are the last epoch's per-layer statistics.
        checkpoint: ``f(epoch, is_best)`` called after each epoch is recorded, or None.
        views: send the recipe's live views (``on_view``) after each epoch.
    """

    def __init__(self, recipe, config, callbacks=(), *, monitor, owner=None, diagnose=None,
                 checkpoint=None, views: bool = False):  # fmt: skip
        self.recipe, self.config = recipe, config
        self.callbacks = list(callbacks)
        self.monitor = monitor
        self.owner = self if owner is None else owner
        self.diagnose, self.checkpoint, self.views = diagnose, checkpoint, views
        self.last_layers: list[dict] = []  # the last epoch's per-layer statistics
        self.history: list[dict] = []
        self.best_epoch, self.best_value, self.best_row = 0, None, {}
        self.best_state = None  # CPU tensors of the best epoch (or of the start)
        self.start_epoch = 0
        self.step = 0
        self.state = "ready"
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

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for."""
        return self._stop.is_set()

    def emit(self, hook: str, *args) -> None:
        """Call ``hook`` on every listener that has it."""
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(self.owner, *args)

    def warn(self, message: str) -> None:
        """Tell the listeners (``on_warning``) of a problem that does not end training;
        the same message is passed on once per run."""
        if message not in self._warned:
            self._warned.add(message)
            self.emit("on_warning", message)

    # -- state carried over from a checkpoint --------------------------------------------
    def checkpoint_state(self, epoch: int) -> dict:
        """The loop's part of a checkpoint (plain values, weights_only-loadable)."""
        return {
            "epoch": epoch,
            "step": self.step,
            "history": [dict(r) for r in self.history],
            "best_epoch": self.best_epoch,
            "best_value": self.best_value,
            "best_row": dict(self.best_row),
        }

    def restore(self, state: dict, best_state=None) -> None:
        """Continue after the checkpoint ``state`` (``checkpoint_state``'s fields)."""
        self.history = [dict(row) for row in state["history"]]
        self.best_epoch, self.best_value = state["best_epoch"], state.get("best_value")
        self.best_row, self.step = dict(state["best_row"]), state["step"]
        self.start_epoch = state["epoch"]
        self.best_state = best_state

    # -- the run -------------------------------------------------------------------------
    def fit(self, prepare=None) -> TrainEnd:
        """Train; ``prepare()`` runs first (placing the recipe, resuming). Returns how it
        ended.

        Raises:
            TrainingError: training failed (``on_exception`` was called first).
        """
        self._warned.clear()
        placed = False
        try:
            self.state = "running"
            if prepare is not None:
                prepare()
            placed = True
            if self.best_state is None:  # the last good weights until an epoch completes
                self.best_state = self.recipe.weights()
            end = self._epochs()
        except DeepwireError as error:
            self._fail(placed, str(error), error)
            raise
        except Exception as error:
            message = explain(error, self.config.batch_size)
            self._fail(placed, message, error)
            raise TrainingError(message) from error
        self.state = end.reason
        self.emit("on_train_end", end)
        return end

    def restore_best(self) -> None:
        """Put the best weights (or those the run started with) back into the module."""
        if self.best_state is not None:
            self.recipe.load_weights(self.best_state)

    def _fail(self, placed: bool, message: str, error: BaseException) -> None:
        """Put the last good weights back, then tell the listeners."""
        self.state = "failed"
        if placed:
            with contextlib.suppress(Exception):  # the user's sentence is the first error
                self.restore_best()
        epoch = self.history[-1]["epoch"] if self.history else 0
        self.emit("on_exception", TrainFailed(message, epoch, error, self.best_epoch))

    def _epochs(self) -> TrainEnd:
        recipe, config = self.recipe, self.config
        self.emit("on_train_start", TrainStart(
            config.epochs, self.start_epoch + 1, recipe.batches, recipe.train_count,
            recipe.val_count, str(recipe.device), recipe.precision, recipe.trainable_count,
            recipe.task, recipe.loss_name,
        ))  # fmt: skip
        reason, waited = "finished", 0
        for epoch in range(self.start_epoch + 1, config.epochs + 1):
            self.emit("on_epoch_start", epoch)
            started = time.perf_counter()
            train = self._train_epoch(epoch)
            if train is None:
                reason = "stopped"
                break
            val = recipe.validate()
            extra = recipe.epoch_extra()
            seconds = time.perf_counter() - started
            event = self._finish_epoch(epoch, train, val, extra, seconds)
            self.emit("on_epoch_end", event)
            if self.views:
                view = recipe.view(epoch)
                if view is not None:
                    self.emit("on_view", view)
            waited = 0 if event.is_best else waited + 1
            if self._stop.is_set():
                reason = "stopped"
                break
            stopping = config.early_stopping
            if stopping and waited >= stopping["patience"]:
                reason = "early_stopping"
                break
        self.restore_best()
        done = self.history[-1]["epoch"] if self.history else 0
        notes = []
        if self.diagnose:
            notes = self.diagnose(self.history, recipe.task, layers=self.last_layers)
        return TrainEnd(reason, done, self.best_epoch, dict(self.best_row), notes)

    def _train_epoch(self, epoch: int) -> dict | None:
        """One epoch of the recipe's steps; its metrics, or None when stopped."""
        import torch

        recipe, config = self.recipe, self.config
        torch.manual_seed(config.seed * 1_000 + epoch)
        recipe.begin_epoch(epoch)
        batches_in = recipe.epoch_batches(epoch)
        batches, log_every = recipe.batches, config.log_every
        started, paused_for, seen, lr = time.perf_counter(), 0.0, 0, recipe.lr()
        for batch, data in enumerate(batches_in):
            if not self._running.is_set():
                paused_for += self._wait()
            if self._stop.is_set():
                return None
            loss = recipe.step(data)
            self.step += 1
            seen += len(data[0])
            if (batch + 1) % log_every == 0 or batch + 1 == batches:
                value = loss.item()
                if recipe.dist is None and not math.isfinite(value):
                    raise TrainingError(NAN_MESSAGE.format(value=value, epoch=epoch,
                                                           batch=batch + 1))  # fmt: skip
                rate = seen / max(time.perf_counter() - started - paused_for, 1e-9)
                if recipe.schedule_on == "batch":
                    lr = recipe.lr()
                self.emit("on_batch_end", BatchEnd(
                    epoch, batch + 1, batches, self.step, value, lr, rate))  # fmt: skip
        result = recipe.end_epoch()
        for name, value in result.items():
            if not math.isfinite(value):
                raise TrainingError(NAN_MESSAGE.format(value=value, epoch=epoch,
                                                       batch=f"(end, {name})"))  # fmt: skip
        return result

    def _wait(self) -> float:
        began = time.perf_counter()
        self.emit("on_pause", True)
        while not self._running.wait(0.05):
            pass
        self.emit("on_pause", False)
        return time.perf_counter() - began

    def _finish_epoch(self, epoch, train, val, extra, seconds) -> EpochEnd:
        recipe = self.recipe
        lr = recipe.lr()
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in train.items()},
               **{f"val_{k}": v for k, v in val.items()}, **extra, "lr": lr}  # fmt: skip
        value = row.get(self.monitor[0])
        if value is None or not math.isfinite(value):
            raise TrainingError(NAN_MESSAGE.format(value=value, epoch=epoch, batch="(end)"))
        recipe.scheduler_epoch_end(row)
        is_best = self._improved(value)
        if is_best:
            self.best_epoch, self.best_value, self.best_row = epoch, value, row
            self.best_state = recipe.weights()
        self.history.append(row)
        if self.checkpoint is not None:
            self.checkpoint(epoch, is_best)
        rate = recipe.train_count / max(seconds, 1e-9)
        layers = self.last_layers = recipe.layer_rows(epoch)
        return EpochEnd(epoch, self.config.epochs, train, val, lr, seconds, rate, is_best,
                        extra, layers, recipe.layer_histograms())  # fmt: skip

    def _improved(self, value: float) -> bool:
        if self.best_value is None:
            return True
        stopping = self.config.early_stopping
        delta = stopping["min_delta"] if stopping else 0.0
        if self.monitor[1] == "min":
            return value < self.best_value - delta
        return value > self.best_value + delta


def explain(error: Exception, batch_size: int) -> str:
    """A sentence for an unexpected error from torch."""
    import os

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
        where = f" ({os.path.basename(error.filename)})" if error.filename else ""
        return f"training failed: {error.strerror}{where}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"training failed: {first}"
