"""The engine is importable and usable where Qt cannot be imported (servers, torchrun).

make test also runs import-linter's contract (pyproject.toml) over the static imports;
this test catches what a static check cannot: imports made at run time.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]

SCRIPT = r"""
import importlib, pkgutil, sys

class NoQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "nodeeditor"):
            raise ImportError(f"{name} is blocked: the engine must not need it")
        return None

sys.meta_path.insert(0, NoQt())
import engine
for module in pkgutil.walk_packages(engine.__path__, "engine."):
    if module.name != "engine.__main__":
        importlib.import_module(module.name)
from engine.cli import main
for command in ("validate", "summary", "code"):
    assert main([command, sys.argv[1]]) == 0, command
print("engine ok without Qt")
"""


def test_engine_imports_and_runs_with_qt_blocked():
    example = ROOT / "resources" / "examples" / "digits_mlp.dwire"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(example)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("engine ok without Qt")
