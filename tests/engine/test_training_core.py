"""The training core is portable: the python export copies it beside train.py, where
Deepwire is not installed, so its modules may import only the standard library, numpy,
torch, safetensors and each other."""

import ast
import sys
from pathlib import Path

import pytest

import engine.training.core as core

ALLOWED = {"numpy", "torch", "safetensors"} | set(sys.stdlib_module_names)
MODULES = sorted(Path(core.__file__).parent.glob("*.py"))


def imported(path: Path):
    """(module name, level) of every import in the file, nested ones included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_core_module_imports_only_what_an_exported_folder_has(path):
    for name, level in imported(path):
        if level:  # a sibling: relative imports travel with the folder
            assert level == 1, f"{path.name} reaches outside the core: {'.' * level}{name}"
            continue
        assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_the_rule_catches_an_engine_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from engine.errors import TrainingError\n")
    with pytest.raises(AssertionError, match=r"imports engine\.errors"):
        test_a_core_module_imports_only_what_an_exported_folder_has(bad)


def test_engine_errors_are_the_cores_own():
    from engine import errors
    from engine.training.core import errors as core_errors

    assert errors.TrainingError is core_errors.TrainingError
    assert errors.DeepwireError is core_errors.DeepwireError
