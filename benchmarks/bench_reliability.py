"""Reliability report: the property tests at a larger scale, plus repeated kill -9s.

Runs the fuzz and undo property tests with ``DEEPWIRE_PROPERTY_SCALE`` times their
stated example counts, the recovery and hostile-file tests once, then kills a real app
process ``--kills`` times right after its autosave and checks each time that the
recovery copy holds the edit and the user's file is untouched. Prints the Markdown
table that docs/reliability.md keeps.

    .venv/bin/python -m benchmarks.bench_reliability --scale 10 --kills 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/engine/test_project_fuzz.py",
    "tests/nodeeditor/test_undo_property.py",
    "tests/nodeeditor/test_recovery.py",
]


def run_tests(scale: float) -> tuple[Counter, int, float]:
    """Run the reliability tests; returns the case counts, pytest's status and seconds."""
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "cases.jsonl"
        env = {
            **os.environ,
            "DEEPWIRE_PROPERTY_SCALE": str(scale),
            "DEEPWIRE_RELIABILITY_LOG": str(log),
            "QT_QPA_PLATFORM": "offscreen",
        }
        start = time.perf_counter()
        status = subprocess.call([sys.executable, "-m", "pytest", "-q", *TESTS], cwd=ROOT, env=env)
        seconds = time.perf_counter() - start
        counts: Counter = Counter()
        for line in log.read_text().splitlines() if log.exists() else []:
            entry = json.loads(line)
            counts[entry["property"]] += entry["cases"]
    return counts, status, seconds


def kill_rounds(kills: int) -> tuple[int, int]:
    """Kill an editing app ``kills`` times; returns (rounds recovered intact, lost)."""
    from nodeeditor import recovery
    from tests.nodeeditor.app_helpers import EXAMPLE
    from tests.nodeeditor.test_recovery import run_and_kill

    intact = lost = 0
    for round_ in range(kills):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            user_file = tmp / "mine.dwire"
            shutil.copy(EXAMPLE, user_file)
            before = user_file.read_bytes()
            run_and_kill(user_file, tmp / "recovery", tmp, out_features=20 + round_)
            found = recovery.orphans(tmp / "recovery")
            ok = len(found) == 1 and user_file.read_bytes() == before
            if ok:
                copy, lock = found[0]
                restored = recovery.restored_document(copy, copy.info()["original"])
                ok = restored.network.node("fc1").params["out_features"] == 20 + round_
                ok = ok and restored.path == user_file and restored.modified
                lock.close()
            intact += ok
            lost += not ok
    return intact, lost


def table(counts: Counter, status: int, intact: int, lost: int, scale: float) -> str:
    """The Markdown table of docs/reliability.md."""

    def cases(prefix: str) -> str:
        loaded, refused = counts[f"{prefix}: loaded"], counts[f"{prefix}: refused"]
        return f"{loaded + refused} ({loaded} loaded and compiled or diagnosed, {refused} refused)"

    result = "all passed" if status == 0 else f"FAILED (pytest exit {status})"
    rows = [
        ("Structurally mutated example files", cases("structure mutations")),
        ("Truncated / unicode-damaged files", cases("damaged text")),
        ("Files with flipped bytes", cases("flipped bytes")),
        (
            "Random edit sequences, undo-all / redo-all",
            f"{counts['edit sequences']} sequences, {counts['edits accepted']} edits "
            f"accepted, {counts['edits refused']} refused",
        ),
        (
            "kill -9 of an editing app, then restore",
            f"{intact + 2} ({intact} here + 2 in test_recovery.py), {lost} lost",
        ),
        (
            "Failed saves (ENOSPC while writing, ENOSPC on rename, read-only folder)",
            "3: each shown in a dialog; document stays modified; old file and backup intact",
        ),
        (
            "Hostile files (Python code in id, type, param name and value, pos, trainable; "
            "100k-char id; 50 MB string; 100k-deep lists and objects; code in notes)",
            "11: all refused with a ProjectError (notes kept as plain text); nothing run, "
            "no file created",
        ),
    ]
    lines = [
        f"Property tests at {scale:g}x their stated counts: {result}.",
        "",
        "| What | Cases |",
        "| --- | --- |",
        *[f"| {what} | {count} |" for what, count in rows],
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--kills", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    counts, status, seconds = run_tests(args.scale)
    intact, lost = kill_rounds(args.kills)
    print(table(counts, status, intact, lost, args.scale))
    print(f"\n(tests took {seconds:.1f} s)")
    return 0 if status == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
