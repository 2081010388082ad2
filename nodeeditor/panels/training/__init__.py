"""The Training dock: dataset, settings, live curves, results (``TrainingPanel``)."""

from nodeeditor.panels.training.panel import TrainingPanel
from nodeeditor.panels.training.run_control import ask_stop_training

__all__ = ["TrainingPanel", "ask_stop_training"]
