"""View > Colour Nodes by Gradient: each weighted node filled by how large its gradient is.

The rows are the per-layer statistics of the last epoch (``EpochEnd.layers``, one per
top-level node with weights: a block gets the value of everything inside it). Each
node's gradient norm is placed on a log scale from ``10**LOW`` (faded: the layer barely
learns) to ``10**HIGH`` (hot), the same for every network, so that an over-deep Sigmoid
MLP shows its first layers fading and a healthy network sits in the middle; the node
shows the number (``∇ 1.4e-08``) and its tooltip says what it is. Nodes without weights
are drawn in a quiet neutral.

The values come from the run in progress, epoch by epoch; before any run of this
session, from the ``layers.csv`` of the project's newest run (the folder whose weights
the Training panel keeps), so that a trained project opens with its colours. A new run
or another project clears them.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QObject

from engine.run_files import read_last_layers

LOW, HIGH = -8.0, 2.0  # log10 of the gradient norms at the faded and the hot end


def level(norm: float) -> float:
    """Where a gradient norm sits on the colour scale, 0 (faded) to 1 (hot)."""
    if not math.isfinite(norm):
        return 1.0 if norm > 0 else 0.0  # an overflowed gradient is as hot as it gets
    if norm <= 0:
        return 0.0
    return min(max((math.log10(norm) - LOW) / (HIGH - LOW), 0.0), 1.0)


def format_norm(norm: float) -> str:
    """A norm as people read it: ``0.023``, ``1.4e-08``, ``3.2e+04``."""
    if not math.isfinite(norm) or norm == 0:
        return str(norm)
    return f"{norm:.2g}" if 1e-3 <= abs(norm) < 1e4 else f"{norm:.1e}"


def heat_of(rows: list[dict]) -> dict[str, dict[str, tuple[float, str]]]:
    """``{network name or "": {node: (level, text)}}`` from per-layer rows: a node
    named ``generator.fc1`` belongs to the network ``generator`` (a GAN's rows), any
    other to the network that was trained (key ``""``)."""
    found: dict[str, dict[str, tuple[float, str]]] = {}
    for row in rows:
        try:
            node, norm = str(row["node"]), float(row["grad_norm"])
        except (KeyError, TypeError, ValueError):
            continue  # a damaged row of a file: no colour for it
        network, _, inner = node.partition(".")
        key, name = (network, inner) if inner else ("", node)
        found.setdefault(key, {})[name] = (level(norm), format_norm(norm))
    return found


class GradientColours(QObject):
    """Colours the window's canvases by gradient size while ``enabled``.

    Args:
        window: the MainWindow (its ``training_panel``, ``network_tabs``, documents).
    """

    def __init__(self, window):
        super().__init__(window)
        self.window_ = window
        self.enabled = False
        self.rows: list[dict] | None = None  # None: not read yet for this project
        self.trained = ""  # the network the rows belong to
        panel = window.training_panel
        panel.training_started.connect(self._on_training_started)
        panel.epoch_ended.connect(self._on_epoch)
        window.document_changed.connect(self._on_document)
        window.network_tabs.view_created.connect(self._on_view_created)

    def set_enabled(self, enabled: bool) -> None:
        """Colour the nodes (True) or give them their family colours back."""
        self.enabled = enabled
        if enabled and self.rows is None:
            self.rows = self._stored_rows()
        self.apply()

    def apply(self) -> None:
        """Show the current values (or none) on every network's canvas."""
        found = heat_of(self.rows or []) if self.enabled else {}
        for page, scene in self._scenes():
            if not self.enabled:
                scene.set_heat(None)
                continue
            heat = dict(found.get(page.name, {}))
            if page.name == self.trained:
                heat.update(found.get("", {}))
            scene.set_heat(heat)

    def _scenes(self) -> list:
        """(page, top-level scene) of each network: an entered block's scene is not it."""
        document = self.window_.document
        tabs = self.window_.network_tabs
        pairs = []
        for page in document.pages if document is not None else []:
            view = tabs.view_of(page)
            if view is not None:
                navigator = getattr(view, "navigator", None)
                pairs.append((page, navigator.levels[0].scene if navigator else view.scene()))
        return pairs

    def _stored_rows(self) -> list[dict]:
        """The last epoch of the layers.csv beside the weights the panel keeps."""
        kept = self.window_.training_panel.kept
        self.trained = self.window_.document.current.name
        if kept is None or kept.path is None:
            return []
        return read_last_layers(Path(kept.path).parent / "layers.csv", [])

    def _on_training_started(self) -> None:
        self.rows, self.trained = [], self.window_.document.current.name
        self.apply()

    def _on_epoch(self, event) -> None:
        self.rows = list(event.layers)
        if self.enabled:
            self.apply()

    def _on_document(self, document) -> None:
        self.rows, self.trained = None, ""
        if self.enabled:
            self.set_enabled(True)

    def _on_view_created(self, view) -> None:
        if self.enabled:
            self.apply()
