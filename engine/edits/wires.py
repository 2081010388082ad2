"""Edits of single wires: ``Connect`` makes one, ``Disconnect`` removes one; each is
the other's inverse. The checks (free input, existing ports, no loop onto itself) are
the network's own (``Network.check_connection``); ``engine.edits.wiring`` plans wires,
including replacing the wire already on an input."""

from __future__ import annotations

from dataclasses import dataclass

from engine.edits.base import Edit
from engine.network import Network, Wire


@dataclass
class Connect(Edit):
    """Make ``wire``."""

    wire: Wire
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Connect {self.wire}"

    def apply(self, network: Network) -> Edit:
        w = self.wire
        network.connect(w.src, w.src_port, w.dst, w.dst_port, restoring=True)
        return Disconnect(w, self.text)


@dataclass
class Disconnect(Edit):
    """Remove ``wire``."""

    wire: Wire
    text: str = ""

    def __post_init__(self):
        self.text = self.text or f"Disconnect {self.wire}"

    def apply(self, network: Network) -> Edit:
        network.disconnect(self.wire)
        return Connect(self.wire, self.text)


def connect_all(network: Network, wires) -> None:
    """Make each of ``wires`` (used to put wires back after nodes return)."""
    for w in wires:
        network.connect(w.src, w.src_port, w.dst, w.dst_port, restoring=True)
