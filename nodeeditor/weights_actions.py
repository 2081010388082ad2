"""File > Load Weights…: make a weights file the network's kept weights.

The file (``.safetensors``, or a ``.pt`` state_dict read without unpickling code) is
checked against the compiled network. When every node fits, its tensors are kept as
they are; when only some nodes fit (a network grown from the one the weights came
from: a new head, an extra layer), those are taken and the others keep fresh seeded
weights, and the user is told which and why. The kept weights are what File > Export
offers first and what Train starts from when "Start from kept weights" is ticked.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.errors import DeepwireError
from nodeeditor import dialogs

WEIGHTS_FILTER = "Weights (*.safetensors *.pt *.pth);;All files (*)"


def ask_weights_path(parent) -> Path | None:
    """Ask for a weights file; None when cancelled."""
    path, _ = QFileDialog.getOpenFileName(parent, "Load weights", "", WEIGHTS_FILTER)
    return Path(path) if path else None


def read_into_network(network, path: Path):
    """The network's weights taken from ``path``: (state, report or None when all fit).

    Raises:
        DeepwireError: the file cannot be read, the network does not compile, or not
            one node matches.
    """
    import torch

    from engine.compile import compile_network
    from engine.weights import check_weights, load_matching_weights, read_weights, state_tensors

    state = read_weights(path)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # the nodes that do not match get the same fresh weights each time
        module = compile_network(network)
    if not check_weights(module, state):
        module.load_state_dict(state, strict=True)
        return state_tensors(module), None
    report = load_matching_weights(module, state)
    return state_tensors(module), report


def load_weights_from_window(window, path: Path | None = None):
    """Ask for a weights file and keep its weights for the window's network.

    Returns:
        The ``KeptWeights`` now kept, or None (cancelled, or the file did not fit: the
        reason is shown and the weights kept before are untouched).
    """
    if window.training_panel.is_training():
        dialogs.show_error(window, "Cannot load weights", "stop training first")
        return None
    path = path or ask_weights_path(window)
    if path is None:
        return None
    try:
        state, report = read_into_network(window.document.network, path)
    except DeepwireError as error:
        dialogs.show_error(window, "Cannot load weights", str(error))
        return None
    return keep_read_weights(window, path, state, report)


def keep_read_weights(window, path: Path, state, report):
    """Keep ``state`` and ``report``, which ``read_into_network`` read from ``path`` for
    the window's network, and say so; returns the ``KeptWeights``."""
    from nodeeditor.training_thread import KeptWeights

    source = f"loaded from {path.name}"
    if report is not None:
        source += f" ({len(report.loaded)} node(s); fresh weights for {len(report.skipped)})"
    kept = KeptWeights(state, 0, {}, path, source)
    window.training_panel.set_kept(kept)
    if report is None:
        window.show_message(f"Loaded the weights of every node from {path.name}")
    else:
        QMessageBox.information(
            window, "Weights loaded in part", f"{path.name}:\n{report.summary()}"
        )
    return kept
