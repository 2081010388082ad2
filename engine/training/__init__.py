"""Training, without Qt: config, trainer, events and listeners, metrics, checkpoints.

Importing this package is cheap: torch is imported when a ``Trainer`` is built, so the
app can read and check settings (``TrainingConfig``) at start-up. Typical use::

    from engine.data import load_dataset
    from engine.training import Trainer, TrainingConfig, ConsoleReporter
    dataset = load_dataset(project.dataset, base_dir)
    trainer = Trainer(project.network, dataset, TrainingConfig.from_dict(project.training),
                      [ConsoleReporter()], out_dir="run")
    end = trainer.fit()          # in a worker thread; trainer.stop() from another
"""

from engine.training.callbacks import Callback, ConsoleReporter, MetricsCSV
from engine.training.config import TrainingConfig
from engine.training.doctor import Note, diagnose
from engine.training.events import BatchEnd, EpochEnd, TrainEnd, TrainFailed, TrainStart
from engine.training.trainer import Trainer

__all__ = [
    "BatchEnd",
    "Callback",
    "ConsoleReporter",
    "EpochEnd",
    "MetricsCSV",
    "Note",
    "TrainEnd",
    "TrainFailed",
    "TrainStart",
    "Trainer",
    "TrainingConfig",
    "diagnose",
]
