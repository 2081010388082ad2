"""Training, without Qt: config, session, trainer, recipes, listeners, checkpoints.

The loop and the recipes are the portable ``engine.training.core`` (also copied into the
python export); this package adds what Deepwire puts around them: checked settings,
projects and datasets, compilation, checkpoints, metrics files and the doctor.

Importing this package is cheap (its names load on first use, and torch is imported
when a ``Trainer`` is built), so the app can read and check settings at start-up.
Typical use::

    from engine.training import TrainingSession
    session = TrainingSession(project, base_dir, out_dir="run")
    end = session.fit()          # in a worker thread; session.stop() from another
"""

from importlib import import_module

_EXPORTS = {
    "BatchEnd": "engine.training.core.events",
    "EpochEnd": "engine.training.core.events",
    "GanView": "engine.training.core.events",
    "TrainEnd": "engine.training.core.events",
    "TrainFailed": "engine.training.core.events",
    "TrainStart": "engine.training.core.events",
    "Callback": "engine.training.callbacks",
    "ConsoleReporter": "engine.training.callbacks",
    "MetricsCSV": "engine.training.callbacks",
    "TrainingConfig": "engine.training.config",
    "Note": "engine.training.doctor",
    "diagnose": "engine.training.doctor",
    "Trainer": "engine.training.trainer",
    "TrainingSession": "engine.training.session",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
