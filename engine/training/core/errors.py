"""The errors of training, each with a sentence for the user.

``engine.errors`` re-exports these two classes, so inside Deepwire they are the engine's
own ``DeepwireError`` and ``TrainingError``; in an exported folder they stand alone.
"""


class DeepwireError(Exception):
    """Base class of every error raised for bad input, with a sentence for the user."""


class TrainingError(DeepwireError):
    """Training was set up wrongly or failed (bad settings, NaN loss, out of memory)."""
