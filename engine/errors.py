"""The engine's error types.

Every error the engine raises on bad input is a ``DeepwireError`` whose message is a
sentence a user can act on. The command line prints it and exits non-zero; the
application shows it in a dialog or on the node. Anything else escaping the engine is a
bug.
"""

from engine.training.core.errors import DeepwireError, TrainingError


class ParamError(DeepwireError, ValueError):
    """A layer parameter has a wrong type or a value out of its range."""


class NetworkError(DeepwireError):
    """An edit of the network was refused (unknown node, invalid id, bad wire...)."""


class ShapeError(DeepwireError):
    """A layer cannot accept the shapes that flow into it."""


class ProjectError(DeepwireError):
    """A project file cannot be read or written."""


class CompileError(DeepwireError):
    """The network has errors and cannot be turned into a PyTorch module.

    Attributes:
        diagnostics: the error diagnostics that prevented compilation.
    """

    def __init__(self, message: str, diagnostics=()):
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class DataError(DeepwireError):
    """A dataset cannot be loaded or does not fit the network (names the file, row, column)."""


__all__ = ["CompileError", "DataError", "DeepwireError", "NetworkError", "ParamError",
           "ProjectError", "ShapeError", "TrainingError"]  # fmt: skip
