"""The Trainer: a project's network(s), a dataset, the settings and a list of listeners.

It builds the recipe (``engine.training.recipes``: checked against the data and
compiled with the run's seed), places it on the training device and runs the portable
``engine.training.core.loop.Loop``. Around the loop it adds what needs the engine:
checkpoints under ``out_dir/checkpoints`` (``best`` and ``last``), resuming from one,
and the training doctor's notes. ``pause``, ``resume`` and ``stop`` may be called from
any thread; they are seen at the start of the next batch.

Failures end in ``TrainingError`` with a sentence for the user (NaN loss with its
likely causes, CUDA out of memory with a smaller batch size to try), after
``on_exception`` has been called. Whatever ends a run, the model is left holding its
last good weights: those of the best completed epoch, or, when no epoch completed, the
weights it started with. A checkpoint that cannot be written is reported through
``on_warning`` and training goes on.
"""

from __future__ import annotations

from pathlib import Path

from engine.data.base import Dataset
from engine.training import checkpoint as ckpt
from engine.training import recipes
from engine.training.config import TrainingConfig
from engine.training.core.device import resolve_device, resolve_precision
from engine.training.core.loop import Loop
from engine.training.doctor import diagnose


class Trainer:
    """Trains a project's network(s) on a dataset; see the module docstring.

    Args:
        network: the ``engine.network.Network`` to train, or the project's networks by
            name (a GAN's generator and discriminator).
        dataset: the loaded ``Dataset``.
        config: a ``TrainingConfig`` or a ``training`` section dict.
        callbacks: listeners (``Callback`` subclasses).
        out_dir: where checkpoints go (``out_dir/checkpoints/best|last``); None for none.
        distributed: a ``DistributedContext`` under torchrun, else None.
        views: send live views (``on_view``) after each epoch, for recipes that have one.

    Attributes:
        model: the trained module (a ``ModuleDict`` by network name for a GAN).

    Raises:
        CompileError, DataError, TrainingError: the network, the data and the settings
            do not fit together (checked before anything runs).
    """

    def __init__(self, network, dataset: Dataset, config=None, callbacks=(), *, out_dir=None,
                 distributed=None, views: bool = False):  # fmt: skip
        self.network = network
        self.dataset = dataset
        if not isinstance(config, TrainingConfig):
            config = TrainingConfig.from_dict(config)
        self.config = config
        self.callbacks = list(callbacks)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.distributed = distributed
        built = recipes.build(network, dataset, config)
        self.recipe = built.recipe
        self.loss_settings = built.loss
        self.input_shape, self.output_shape = built.input_shape, built.output_shape
        self.monitor = built.monitor
        self.model = self.recipe.module
        self.device = None
        self.loop = Loop(self.recipe, config, monitor=self.monitor, owner=self,
                         diagnose=diagnose, checkpoint=self._save_checkpoints, views=views)  # fmt: skip
        self.loop.callbacks = self.callbacks  # one list: listeners added later are heard
        self._checkpoint_epoch = 0  # the last epoch whose checkpoint is on disk

    # -- the loop's state and control ----------------------------------------------------
    history = property(lambda self: self.loop.history, doc="Per-epoch rows so far.")
    best_epoch = property(lambda self: self.loop.best_epoch, doc="The best epoch (0: none).")
    best_value = property(lambda self: self.loop.best_value, doc="Its monitored value.")
    best_row = property(lambda self: self.loop.best_row, doc="Its row.")
    step = property(lambda self: self.loop.step, doc="Optimisation steps so far.")
    state = property(lambda self: self.loop.state, doc="ready, running, finished, failed...")
    paused = property(lambda self: self.loop.paused, doc="Whether a pause was asked for.")

    def pause(self) -> None:
        """Pause before the next batch."""
        self.loop.pause()

    def resume(self) -> None:
        """Go on after ``pause``."""
        self.loop.resume()

    def stop(self) -> None:
        """End training before the next batch; ``fit`` returns with reason ``stopped``."""
        self.loop.stop()

    def emit(self, hook: str, *args) -> None:
        """Call ``hook`` on the listeners."""
        self.loop.emit(hook, *args)

    def warn(self, message: str) -> None:
        """Tell the listeners (``on_warning``) of a problem that does not end training."""
        self.loop.warn(message)

    # -- the run -------------------------------------------------------------------------
    def fit(self, resume_from: str | Path | None = None) -> object:
        """Train; returns the ``TrainEnd``. ``resume_from`` continues from a checkpoint.

        Raises:
            TrainingError: training failed (``on_exception`` was called first).
        """

        def prepare():
            if self.distributed is not None:
                self.device = self.distributed.device(self.config.device)
            else:
                self.device = resolve_device(self.config.device)
            precision = resolve_precision(self.config.precision, self.device)
            self.recipe.place(self.device, precision, self.distributed)
            if resume_from is not None:
                self._resume(resume_from)

        try:
            return self.loop.fit(prepare)
        finally:
            self.recipe.close()  # a streamed dataset's workers end with the run

    def _resume(self, path) -> None:
        """Continue from the checkpoint at ``path``: weights, optimizer, schedule, history.

        The whole checkpoint is read and checked first (``checkpoint.read_checkpoint``),
        so a damaged or crafted one ends in a TrainingError naming its file before the
        model or the trainer's best epoch change.
        """
        saved = ckpt.read_checkpoint(path, self.model, self.device)

        def check(state, optimizer):
            ckpt.check_optimizer_state(state, optimizer, saved.path)

        ckpt.restore_optimizer(
            lambda: self.recipe.load_optimizer_state(saved.state, check), saved.path
        )
        self.model.load_state_dict(saved.weights)
        self.loop.restore(saved.state, saved.best)
        self._checkpoint_epoch = saved.state["epoch"]

    def _save_checkpoints(self, epoch: int, is_best: bool) -> None:
        """Write ``last`` (and ``best``) under ``out_dir/checkpoints`` on the main process.

        A checkpoint that cannot be written is a warning, not the end of training: the
        previous checkpoint stays whole and the weights stay in memory.
        """
        if self.out_dir is None or (self.distributed and not self.distributed.is_main):
            return
        state = {**self.loop.checkpoint_state(epoch), **self.recipe.optimizer_state()}
        folder = self.out_dir / "checkpoints"
        try:
            ckpt.save_checkpoint(folder, "last", self.model, state)
            if is_best:
                ckpt.save_checkpoint(folder, "best", self.model, state)
        except OSError as error:
            self.warn(checkpoint_warning(folder, error, self._checkpoint_epoch))
            return
        self._checkpoint_epoch = epoch

    def checkpoint_state(self, epoch: int) -> dict:
        """The plain (torch.save-able, weights_only-loadable) part of the trainer's state."""
        return self.loop.checkpoint_state(epoch)

    def save_weights(self, path: str | Path) -> None:
        """Write the model's current weights (the best ones after ``fit``) as safetensors."""
        ckpt.save_weights(self.model, path)


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
