"""The reversible edit: the unit of every change a user makes to a network.

An ``Edit`` is a small value object. ``edit.apply(network)`` performs the change on an
``engine.network.Network`` and returns the edit that undoes it (its inverse); applying
the inverse gives back exactly the same network, down to the bytes of the saved file,
and returns an edit that redoes the change. ``edit.text`` is the undo menu's text (the
inverse keeps the same text, so "Undo X" and "Redo X" name one thing).

Edits do not check whether they make sense: the planning functions of
``engine.edits.plans`` (and ``wiring``, ``paste``) do that first, raising NetworkError or
ParamError without changing anything, and only then return an edit. An edit applied to a
network it was planned for does not fail; one that does fail (applied elsewhere) leaves
the network as it was.

Writing a new edit: subclass ``Edit`` (a dataclass with a ``text`` field is simplest),
implement ``apply`` so that it changes the network only through ``Network`` methods and
returns its inverse, and copy nodes only with ``network.node_entry`` / ``add_entry``.
Several steps are one edit with ``Compound``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.network import Network


class Edit(ABC):
    """A reversible change of a network (see the module docstring).

    Attributes:
        text: what the undo menu calls it ("Connect a.out -> b.in").
    """

    text: str

    @abstractmethod
    def apply(self, network: Network) -> Edit:
        """Perform the change on ``network`` and return the edit that undoes it."""


@dataclass
class Compound(Edit):
    """Several edits as one: applied in order; the inverse applies the inverses in
    reverse order. If one of them fails, those already applied are undone and the
    error goes on, so a compound edit is done entirely or not at all."""

    text: str
    edits: list[Edit] = field(default_factory=list)

    def apply(self, network: Network) -> Edit:
        done: list[Edit] = []
        try:
            for edit in self.edits:
                done.append(edit.apply(network))
        except Exception:
            for inverse in reversed(done):
                inverse.apply(network)
            raise
        return Compound(self.text, done[::-1])


def trial_copy(network: Network) -> Network:
    """A copy of ``network`` to try an edit on before planning it: it refuses what the
    network refuses (it shares the block library, and inside a block type it knows its
    owner, so a block cannot be put inside itself)."""
    trial = network.copy()
    trial.owner = network.owner
    return trial


def scratch_copy(network: Network) -> Network:
    """A copy of ``network`` with a copy of its block library, to try an edit that adds
    block types on before planning it (inside a block type it knows its owner)."""
    from engine.network import Network

    library = network.library.copy()
    scratch = Network.from_dict(network.to_dict(), network.name, library=library)
    if network.owner is not None:
        scratch.owner = library.get(network.owner.name)
    return scratch
