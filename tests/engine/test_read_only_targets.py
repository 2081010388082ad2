"""Read-only files are never replaced, and new files follow the user's umask.

Tests run as root, whom permissions do not stop, and an atomic save renames over a
file whatever its mode: so a read-only target must be refused by Deepwire itself. Every
command that writes a file the user names is tried against a target without its
owner's write bit: each refuses in one sentence, before doing the work, and no file
changes (bytes, mode, no temporary left). Files Deepwire creates (weights, checkpoints,
metrics, projects, exports) all get ``0o666 & ~umask``.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import cli
from engine import project as project_file
from tests.engine.test_training_faults import moons_project
from tests.reliability_log import scaled, write_case_counts

CASES: Counter = Counter()
PYTHON_FILES = ("model.py", "model.safetensors", "README.md", "train.py")
RUN_FILES = ("weights.safetensors", "metrics.csv", "checkpoints/last.state.pt")
# each writer: (command line with {project} and {target}, the file made read-only)
WRITERS = {
    "code -o": (["code", "{project}", "-o", "{target}"], "model.py"),
    "import -o": (["import", "m.py:M", "--input-shape", "2", "-o", "{target}"], "net.dwire"),
    "import --weights-out": (
        ["import", "m.py:M", "--input-shape", "2", "-o", "new.dwire", "--weights-out",
         "{target}"],
        "w.safetensors",
    ),
    **{f"export {fmt} -o": (["export", "{project}", "-f", fmt, "-o", "{target}"], name)
       for fmt, name in [("safetensors", "w.safetensors"), ("pt", "w.pt"),
                         ("onnx", "m.onnx"), ("program", "m.pt2")]},
    **{f"export python -o (its {name})": (
        ["export", "{project}", "-f", "python", "-o", "{folder}/out"], f"out/{name}")
       for name in PYTHON_FILES},
    **{f"train --out (its {name})": (
        ["train", "{project}", "--out", "{folder}/run", "--no-progress"], f"run/{name}")
       for name in RUN_FILES},
}  # fmt: skip
NO_OWNER_WRITE = [0o444, 0o400, 0o555, 0o040, 0o000, 0o464, 0o077]


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts({f"read-only targets: {k}": n for k, n in CASES.items()})


def snapshot(folder: Path) -> dict:
    """Every file under ``folder``: its bytes and mode."""
    return {
        p.relative_to(folder): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def prepared_folder(folder: Path, target_name: str, mode: int) -> Path:
    """A project, a model file and the user's read-only ``target_name`` in ``folder``."""
    moons_project(folder)
    (folder / "m.py").write_text(
        "import torch\nclass M(torch.nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.fc = torch.nn.Linear(2, 2)\n"
        "    def forward(self, x):\n        return self.fc(x)\n"
    )
    target = folder / target_name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"the user's own file")
    target.chmod(mode)
    return target


@settings(max_examples=scaled(40), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(writer=st.sampled_from(sorted(WRITERS)), mode=st.sampled_from(NO_OWNER_WRITE))
def test_every_writer_refuses_a_read_only_target_and_changes_nothing(
    tmp_path_factory, monkeypatch, capsys, writer, mode
):
    folder = tmp_path_factory.mktemp("ro")
    argv, name = WRITERS[writer]
    target = prepared_folder(folder, name, mode)
    before = snapshot(folder)
    monkeypatch.chdir(folder)
    fields = {"project": folder / "moons.dwire", "target": target, "folder": folder}
    status = cli.main([part.format(**fields) for part in argv])
    err = capsys.readouterr().err
    assert status == cli.EXIT_BAD_INPUT, err
    assert err.startswith("deepwire: ") and err.count("\n") == 1 and "read-only" in err
    assert snapshot(folder) == before  # no file written, replaced or left half-done
    CASES[writer] += 1


def test_save_refuses_a_read_only_project_and_keeps_its_backup(tmp_path):
    path = moons_project(tmp_path)
    project_file.save(project_file.load(path), path, backup=True)
    path.chmod(0o444)
    before = snapshot(tmp_path)
    with pytest.raises(project_file.ProjectError, match="is read-only, so it was not replaced"):
        project_file.save(project_file.load(path), path, backup=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o027])
def test_every_new_file_gets_the_users_umask(tmp_path, capsys, mask):
    previous = os.umask(mask)
    try:
        path = moons_project(tmp_path)
        commands = [
            ["train", str(path), "--out", str(tmp_path / "run"), "--epochs", "1", "--no-progress"],
            ["code", str(path), "-o", str(tmp_path / "model.py")],
            ["export", str(path), "-f", "safetensors", "-o", str(tmp_path / "w.safetensors")],
        ]
        for argv in commands:
            assert cli.main(argv) == cli.EXIT_OK, capsys.readouterr().err
    finally:
        os.umask(previous)
    modes = {str(p): mode for p, (_, mode) in snapshot(tmp_path).items()}
    assert set(modes.values()) == {0o666 & ~mask}, modes
    assert {"run/weights.safetensors", "run/metrics.csv", "run/checkpoints/best.state.pt"} <= set(
        modes
    )
