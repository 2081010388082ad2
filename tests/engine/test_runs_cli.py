"""``deepwire runs FILE``: the runs of real trainings side by side, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine import project as project_file
from engine.cli import main
from tests.engine.test_runs import RECORDS, iris

ROOT = Path(__file__).resolve().parents[2]


def deepwire(*args: str) -> subprocess.CompletedProcess:
    """The command as a user runs it."""
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True,
                          text=True)  # fmt: skip


def test_runs_lists_each_run_with_the_learning_rate_that_differs(tmp_path):
    path = tmp_path / "iris.dwire"
    for lr, out in (
        (0.01, "iris_runs/2026-11-30_12-00-00"),
        (0.05, "iris_runs/2026-11-30_12-05-00"),
    ):
        project_file.save(iris(lr=lr), path)  # the user edits the learning rate, trains again
        assert main(["train", str(path), "--out", str(tmp_path / out), "--no-progress"]) == 0
    result = deepwire("runs", str(path))
    assert result.returncode == 0, result.stderr
    header, first, second = result.stdout.splitlines()
    assert header.split() == ["run", "status", "epochs", "best", "duration", "Learning", "rate"]
    assert first.startswith("2026-11-30_12-00-00  finished  2") and first.endswith("0.01")
    assert second.startswith("2026-11-30_12-05-00  finished  2") and second.endswith("0.05")
    assert "val_loss" in first and "(epoch " in first
    data = json.loads(deepwire("runs", str(path), "--json").stdout)
    assert data["differences"] == ["optimizer.lr"]
    assert [run["settings"]["optimizer.lr"] for run in data["runs"]] == [0.01, 0.05]
    assert [len(run["history"]) for run in data["runs"]] == [2, 2]


def test_damaged_runs_are_listed_with_notes(tmp_path):
    for index, content in enumerate(RECORDS.values()):
        folder = tmp_path / f"run{index}"
        folder.mkdir()
        (folder / "run.json").write_bytes(content)
    result = deepwire("runs", str(tmp_path))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stdout.count("note: run.json") == len(RECORDS)
    assert json.loads(deepwire("runs", str(tmp_path), "--json").stdout)["runs"]


def test_bad_input_is_one_sentence_and_a_non_zero_exit(tmp_path):
    result = deepwire("runs", str(tmp_path / "missing.dwire"))
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr
        == f"deepwire: {tmp_path / 'missing.dwire'} is neither a project file nor a folder of runs\n"
    )
    empty = deepwire("runs", str(tmp_path))
    assert empty.returncode == 0 and empty.stderr == f"{tmp_path} holds no runs yet\n"


def test_a_read_only_run_json_is_refused_before_training(tmp_path, capsys):
    path = tmp_path / "iris.dwire"
    project_file.save(iris(), path)
    record = tmp_path / "run" / "run.json"
    record.parent.mkdir()
    record.write_text('{"status": "finished"}')
    record.chmod(0o444)
    assert main(["train", str(path), "--out", str(record.parent), "--no-progress"]) == 2
    assert "run.json there is read-only" in capsys.readouterr().err
    assert (
        record.read_text() == '{"status": "finished"}'
        and not (record.parent / "metrics.csv").exists()
    )
