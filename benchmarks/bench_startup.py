"""How long ``deepwire FILE`` takes to show its window, and how long opening a file takes.

Run: ``QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_startup.py [FILE]``
or, on a real X server with a window manager (Xvfb + openbox, started here):
``.venv/bin/python benchmarks/bench_startup.py --real-display [FILE]``

Each start-up is a fresh interpreter (cold imports included, as a user sees it) that
does what ``run_app`` does, stops once the window is exposed, and reports its time
since the interpreter started, and whether torch was imported (it must not be). Then,
in one warm process, it times File > Open of the example and of a generated network
of 300 layers. Figures are printed as medians with the ratio to the 1 s budget.

With ``--real-display`` it runs the real ``deepwire FILE`` entry point instead, with a
fresh home (no saved settings), and times it from launching the process until the
window manager shows a window titled with the file (polled with ``xdotool search
--onlyvisible``, every few milliseconds).
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "resources" / "examples" / "digits_mlp.dwire"
BUDGET_S = 1.0
RUNS = 5

CHILD = r"""
import sys, time
from nodeeditor.app import make_application
from nodeeditor import theme
from nodeeditor.document import Document
from nodeeditor.settings import Settings
from nodeeditor.window import MainWindow
from PySide6.QtCore import QSettings
app = make_application()
theme.apply_theme(app, "system")
window = MainWindow(settings=Settings(QSettings(sys.argv[2], QSettings.Format.IniFormat)))
window.set_document(Document.open(sys.argv[1]))
window.show()
while not window.windowHandle() or not window.windowHandle().isExposed():
    app.processEvents()
app.processEvents()
print(time.perf_counter() - float(sys.argv[3]), "torch" in sys.modules)
"""


def start_up_seconds(path: Path) -> tuple[float, bool]:
    """Seconds from launching the interpreter to the window shown, and torch imported."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        # the child measures against our clock: perf_counter is system-wide on Linux
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), f"{folder}/s.ini", repr(started)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")},
        ).stdout.split()
    return float(out[0]), out[1] == "True"


def big_project(path: Path, count: int = 300) -> Path:
    """A chain Input -> (Linear, ReLU) * n -> Output written to ``path``."""
    nodes = [{"id": "input", "type": "Input", "params": {"shape": [32]}, "pos": [0, 0]}]
    for i in range(1, count - 1):
        kind = "Linear" if i % 2 else "ReLU"
        params = {"out_features": 32} if kind == "Linear" else {}
        nodes.append({"id": f"n{i}", "type": kind, "params": params, "pos": [220 * i, 0]})
    nodes.append({"id": "output", "type": "Output", "params": {}, "pos": [220 * count, 0]})
    edges = [
        {"from": [a["id"], "out"], "to": [b["id"], "in"]} for a, b in itertools.pairwise(nodes)
    ]
    data = {
        "format": "deepwire",
        "version": 1,
        "networks": {"model": {"nodes": nodes, "edges": edges}},
    }
    path.write_text(json.dumps(data))
    return path


def open_seconds(paths: list[Path]) -> dict[str, float]:
    """Median seconds of File > Open for each path, in one warm process."""
    from PySide6.QtCore import QSettings

    from nodeeditor.app import make_application
    from nodeeditor.settings import Settings
    from nodeeditor.window import MainWindow

    app = make_application()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        window = MainWindow(
            settings=Settings(QSettings(f"{folder}/s.ini", QSettings.Format.IniFormat))
        )
        window.show()
        for path in paths:
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                window.open_file(path)
                app.processEvents()
                times.append(time.perf_counter() - started)
            results[path.name] = statistics.median(times)
        window.document.undo_stack.setClean()
        window.close()
    return results


def real_display_seconds(path: Path) -> list[float]:
    """Seconds from launching ``deepwire FILE`` to its window mapped on Xvfb + openbox."""
    sys.path.insert(0, str(ROOT))
    from tests.realdisplay.xserver import XDisplay, app_environment, deepwire_command

    display = XDisplay.start()
    times = []
    try:
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as home:
                env = app_environment(display.name, Path(home))
                started = time.perf_counter()
                app = subprocess.Popen(
                    [*deepwire_command(), str(path)], env=env, cwd=ROOT,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                while not display.xdotool("search", "--onlyvisible", "--name", path.name):
                    if app.poll() is not None:
                        raise SystemExit(f"deepwire exited with {app.returncode}")
                times.append(time.perf_counter() - started)
                app.kill()
                app.wait()
    finally:
        display.stop()
    return times


def main_real_display(path: Path) -> None:
    """Print the start-up on a real display."""
    times = real_display_seconds(path)
    median = statistics.median(times)
    print(
        f"real display (Xvfb + openbox): deepwire {path.name} to its window mapped: "
        f"median {median:.3f} s over {RUNS} runs, min {min(times):.3f} s, "
        f"max {max(times):.3f} s, ratio to the {BUDGET_S:.0f} s budget {median / BUDGET_S:.2f}"
    )


def main() -> None:
    """Print the measurements."""
    args = [arg for arg in sys.argv[1:] if arg != "--real-display"]
    path = Path(args[0]).resolve() if args else EXAMPLE
    if "--real-display" in sys.argv:
        main_real_display(path)
        return
    runs = [start_up_seconds(path) for _ in range(RUNS)]
    median = statistics.median(t for t, _ in runs)
    print(
        f"start-up to window shown ({path.name}): median {median:.3f} s over {RUNS} runs, "
        f"min {min(t for t, _ in runs):.3f} s, ratio to the {BUDGET_S:.0f} s budget "
        f"{median / BUDGET_S:.2f}"
    )
    print(f"torch imported at start-up: {any(torch for _, torch in runs)}")
    with tempfile.TemporaryDirectory() as folder:
        big = big_project(Path(folder) / "chain_300.dwire")
        for name, seconds in open_seconds([path, big]).items():
            print(f"open {name}: median {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
