"""Plain-Python events, so that views can follow the engine without polling.

A ``Signal`` keeps a list of callbacks and calls each with the emitted arguments, in
the order they were connected. Modelled on napari's ``EmitterGroup`` and ryvencore's
flow events, but without Qt: the editor connects its own slots to these.
"""

from collections.abc import Callable
from typing import Any


class Signal:
    """A list of callbacks, called in order by ``emit``."""

    def __init__(self, name: str):
        self.name = name
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> Callable[..., Any]:
        """Call ``callback`` on every emit; returns it, so it can be used as a decorator."""
        self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback``; unknown callbacks are ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        """Call every connected callback with ``args``."""
        for callback in list(self._callbacks):
            callback(*args)

    def __repr__(self) -> str:
        return f"<Signal {self.name} ({len(self._callbacks)} connected)>"


class EventGroup:
    """A named set of signals: ``group.node_added.connect(fn)``."""

    def __init__(self, *names: str):
        for name in names:
            setattr(self, name, Signal(name))
        self._names = names

    def signals(self) -> list[Signal]:
        """All the signals of the group, in declaration order."""
        return [getattr(self, name) for name in self._names]
