"""Render docs/training.png: two moons trained in the app, dark theme, results shown.

QT_QPA_PLATFORM=offscreen .venv/bin/python docs/render_training.py docs/training.png
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(png: str) -> int:
    from nodeeditor import theme
    from nodeeditor.app import make_application
    from nodeeditor.document import Document
    from nodeeditor.settings import Settings
    from nodeeditor.window import MainWindow

    app = make_application()
    folder = Path(tempfile.mkdtemp(prefix="deepwire-shot-"))
    data = json.loads((ROOT / "resources/examples/digits_mlp.dwire").read_text())
    nodes = data["networks"]["model"]["nodes"]
    nodes[0]["params"]["shape"] = [2]
    nodes[1]["params"]["out_features"] = 32
    nodes[3]["params"]["out_features"] = 2
    data["dataset"] = {"name": "moons", "params": {"n_samples": 600}}
    data["training"] = {"epochs": 40, "batch_size": 32, "optimizer": {"type": "Adam", "lr": 0.02}}
    project = folder / "moons.dwire"
    project.write_text(json.dumps(data))
    settings = Settings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
    theme.apply_theme(app, "dark")
    window = MainWindow(Document.open(project), settings)
    window.resize(1600, 1000)
    window.show()
    window.docks["training"].raise_()
    window.resizeDocks([window.docks["training"]], [560], Qt.Orientation.Vertical)
    panel = window.training_panel
    while panel.dataset is None:
        app.processEvents()
    panel.train_button.click()
    while not panel.is_training():
        app.processEvents()
    while panel.is_training():
        app.processEvents()
    for _ in range(20):
        app.processEvents()
    window.view.fit()
    QApplication.processEvents()
    ok = window.grab().save(png, "PNG")
    window.document.undo_stack.setClean()
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/training.png"))
