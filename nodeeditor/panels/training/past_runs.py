"""The weights an earlier run of a project kept, found again when the project is opened.

A run started from the app writes ``NAME_runs/STAMP/weights.safetensors`` beside
``NAME.dwire`` (``nodeeditor.run_folder``). When a project is shown, the newest of
those becomes the Training panel's kept weights, so that the panel speaks of this
project's training and not of the project shown before. The file is read only when the
weights are used (Start from kept weights, Export): opening a project never imports
torch.
"""

from __future__ import annotations

from pathlib import Path

from engine.runs import project_runs_dir
from engine.training.core.adversarial import is_gan_row
from engine.training.session import WEIGHTS_FILE
from nodeeditor.training_thread import KeptWeights


class StoredWeights(KeptWeights):
    """Kept weights in a file, read on first use of ``state``.

    Raises:
        DeepwireError: on reading ``state``, when the file is damaged or gone.
    """

    @property
    def state(self) -> dict:
        if self._state is None:
            from engine.weights import read_weights

            self._state = read_weights(self.path)
        return self._state

    @state.setter
    def state(self, value: dict | None) -> None:
        self._state = value


def _epochs(folder: Path) -> tuple[int, bool]:
    """How many epochs ``folder``'s ``metrics.csv`` records (0 when unreadable), and
    whether they are a GAN's (its run keeps its last epoch: no loss says which is best)."""
    try:
        lines = (folder / "metrics.csv").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0, False
    lines = [line for line in lines if line.strip()]
    gan = bool(lines) and is_gan_row(lines[0].split(","))
    return max(len(lines) - 1, 0), gan


def _newest_weights(runs: Path) -> Path | None:
    """The most recently written weights file among the run folders in ``runs``."""
    try:
        files = [folder / WEIGHTS_FILE for folder in runs.iterdir()]
        found = [(path.stat().st_mtime, path) for path in files if path.is_file()]
    except OSError:  # no runs folder, or one that cannot be read
        return None
    return max(found)[1] if found else None


def latest_kept(project_path: Path | None) -> StoredWeights | None:
    """The weights the project's newest run kept, or None (unsaved, or never trained)."""
    if project_path is None:
        return None
    path = _newest_weights(project_runs_dir(Path(project_path)))
    if path is None:
        return None
    epochs, gan = _epochs(path.parent)
    of = f" of {epochs} epoch(s)" if epochs else ""
    which = "the last" if gan else "the best"
    return StoredWeights(None, 0, {}, path, f"{which}{of} of the run {path.parent.name}")
