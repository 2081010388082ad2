"""One training run of a project: ``TrainingSession``.

The command line (``deepwire train``, also under torchrun) and the app's worker thread
drive this one object: it loads the project's dataset, checks the settings, builds the
trainer (the recipe, compiled with the run's seed), writes ``metrics.csv``,
``layers.csv``, ``run.json`` (``engine.training.run_record``), TensorBoard event files
(``engine.training.tensorboard``) and the checkpoints into the run folder, and keeps the
run's last good weights. Listeners (``engine.training.callbacks``) hear its events; the
app's only turn them into Qt signals.
"""

from __future__ import annotations

import functools
from pathlib import Path

from engine.errors import DataError
from engine.project import Project
from engine.training.config import TrainingConfig

WEIGHTS_FILE = "weights.safetensors"


class TrainingSession:
    """A project's training run; see the module docstring.

    Args:
        project: the ``Project`` (its networks, ``dataset`` and ``training`` sections).
        base_dir: the folder relative data paths are read from (the project's).
        out_dir: the run folder (``metrics.csv``, ``checkpoints/``, ``weights.safetensors``);
            None to write nothing.
        overrides: settings that replace the project's (``{"epochs": 3}``).
        callbacks: listeners of the run's events.
        distributed: a ``DistributedContext`` under torchrun; only its main process
            writes files.
        init_weights: weights to start from (a path or a state dict): the nodes whose
            ids and shapes match take them, the others keep fresh weights.
        views: send live views (``on_view``) after each epoch (the app's GAN view).

    Attributes:
        start_filters: a ``filters.StartFilters``: the convolutions' filters as the run
            started, to set beside the learned ones.

    Raises:
        DataError, TrainingError, CompileError, WeightsError: the project cannot train
            (checked before anything runs).
    """

    def __init__(self, project: Project, base_dir=None, out_dir=None, *, overrides=None,
                 callbacks=(), distributed=None, init_weights=None, views: bool = False):  # fmt: skip
        from engine.data import load_dataset
        from engine.training.callbacks import LayersCSV, MetricsCSV
        from engine.training.filters import StartFilters
        from engine.training.run_record import RunRecord
        from engine.training.tensorboard import TensorBoardWriter
        from engine.training.trainer import Trainer

        if project.dataset is None:
            raise DataError('the project has no "dataset" section to train on')
        settings = {**(project.training or {}), **(overrides or {})}
        self.config = TrainingConfig.from_dict(settings)
        progress = functools.partial(_tell, callbacks, "on_data_progress", self)
        self.dataset = load_dataset(project.dataset, base_dir, progress=progress)
        _tell(callbacks, "on_data_loaded", self, self.dataset.loading)
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.is_main = distributed is None or distributed.is_main
        self.start_filters = StartFilters()  # the convolutions' filters as the run starts
        listeners = [*callbacks, self.start_filters]
        if self.out_dir is not None and self.is_main:
            listeners.append(MetricsCSV(self.out_dir / "metrics.csv"))
            listeners.append(LayersCSV(self.out_dir / "layers.csv"))
            listeners.append(TensorBoardWriter(self.out_dir / "tensorboard"))
            listeners.append(RunRecord(self.out_dir, project, self.config, overrides))
        self.trainer = Trainer(project.networks, self.dataset, self.config, listeners,
                               out_dir=self.out_dir, distributed=distributed, views=views)  # fmt: skip
        self.start_report = None
        if init_weights is not None:
            from engine.weights import load_matching_weights

            self.start_report = load_matching_weights(self.trainer.model, init_weights)

    # -- control, from any thread ---------------------------------------------------------
    def stop(self) -> None:
        """End the run before its next batch (its best weights are kept)."""
        self.trainer.stop()

    def pause(self) -> None:
        """Pause before the next batch."""
        self.trainer.pause()

    def resume(self) -> None:
        """Go on after ``pause``."""
        self.trainer.resume()

    # -- the run ----------------------------------------------------------------------------
    def fit(self, resume_from=None):
        """Train; returns the ``TrainEnd`` (``TrainingError`` when it failed)."""
        return self.trainer.fit(resume_from=resume_from)

    @property
    def kept_epoch(self) -> int:
        """The epoch whose weights the model holds after the run (0: none completed)."""
        return self.trainer.best_epoch

    def kept_state(self) -> dict | None:
        """The kept weights as CPU tensors, or None when no epoch completed."""
        if not self.kept_epoch:
            return None
        from engine.weights import state_tensors

        return state_tensors(self.trainer.model)

    def write_weights(self, path=None) -> Path:
        """Write the kept weights (default: ``weights.safetensors`` in the run folder).

        Raises:
            OSError: the file cannot be written (nothing half-written is left).
        """
        from engine.training import checkpoint

        target = Path(path) if path is not None else self.out_dir / WEIGHTS_FILE
        checkpoint.save_weights(self.trainer.model, target)
        return target


def _tell(listeners, hook: str, *args) -> None:
    """Call ``hook`` on the listeners that have it (the data is read before the trainer
    exists, so these hooks get the session)."""
    for listener in listeners:
        method = getattr(listener, hook, None)
        if method is not None:
            method(*args)
