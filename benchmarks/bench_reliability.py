"""Reliability report: the property tests at a larger scale, plus repeated kill -9s.

Runs the fuzz, undo and training-fault property tests with ``DEEPWIRE_PROPERTY_SCALE``
times their stated example counts, the recovery, hostile-file and app training-fault
tests once, then kills a real app process ``--kills`` times right after its autosave
(checking each time that the recovery copy holds the edit and the user's file is
untouched) and ``--kills`` times while it trains (checking that the run's last
checkpoint is whole and loads). It tries every writer of a user's file against
read-only targets, and kills ``deepwire train`` ``--kills`` times before resuming it
(checking that metrics.csv keeps every epoch once). Prints the Markdown table that
docs/reliability.md keeps.

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
    "tests/engine/test_data_fuzz.py",
    "tests/engine/test_weights_fuzz.py",
    "tests/nodeeditor/test_termination.py",
    "tests/engine/test_training_faults.py",
    "tests/nodeeditor/test_training_faults.py",
    "tests/engine/test_hostile_strings.py",
    "tests/engine/test_numeric_bounds.py",
    "tests/engine/test_project_text.py",
    "tests/engine/test_read_only_targets.py",
    "tests/engine/test_resume.py",
    "tests/engine/test_data_hostile.py",
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
                restored = recovery.restored_document(copy, copy.info())
                ok = restored.network.node("fc1").params["out_features"] == 20 + round_
                ok = ok and restored.path == user_file and restored.modified
                lock.close()
            intact += ok
            lost += not ok
    return intact, lost


def training_kill_rounds(kills: int) -> tuple[int, int]:
    """Kill a training app ``kills`` times; returns (runs whose checkpoint loads, lost)."""
    from engine import project as project_file
    from engine.compile import compile_network
    from engine.training import checkpoint as ckpt
    from tests.nodeeditor.app_helpers import EXAMPLE
    from tests.nodeeditor.test_training_faults import kill_while_training, long_training_copy

    intact = lost = 0
    for round_ in range(kills):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            project = tmp / EXAMPLE.name
            shutil.copy(EXAMPLE, project)
            kill_while_training(long_training_copy(project), tmp, epochs_first=1 + round_ % 3)
            try:
                [run] = sorted((tmp / f"{project.stem}_runs").iterdir())
                weights, state = ckpt.resolve(run)
                ckpt.load_weights(compile_network(project_file.load(project).network), weights)
                ok = ckpt.load_state(state, "cpu")["epoch"] >= 1
            except Exception as error:
                print(f"round {round_}: {error}", file=sys.stderr)
                ok = False
            intact += ok
            lost += not ok
    return intact, lost


def strings_into_code_row(counts: Counter) -> tuple[str, str]:
    """Hostile strings in every field that reaches model.py, train.py or their README."""
    tried = counts["strings into generated code: tried"]
    executed = counts["strings into generated code: executed"]
    return (
        "Strings into generated code (quotes, triple quotes, backslashes, CR, U+2028, "
        "U+0085, NUL, #, braces around a payload, in network names, node ids, ports, layer "
        "types, choices, dataset and training strings; generated files imported in a fresh "
        "interpreter)",
        f"{tried}: refused or written as inert literals; {executed} executed",
    )


def numeric_extremes_row(counts: Counter) -> tuple[str, str]:
    """Numbers no machine holds in layer params, training settings and dataset params."""
    refused = counts["numeric extremes: refused"]
    return (
        "Numeric extremes (5000-digit integers, 1e308, 2^62, NaN, Infinity, 900-deep "
        "nesting in every layer parameter, training setting and dataset param; every "
        "command and the app)",
        f"{refused}: all refused with one sentence naming the node and parameter or setting",
    )


def read_only_rounds() -> tuple[int, int]:
    """Every writer of a user's file against a target in every mode without the owner's
    write bit; returns (refused with the file unchanged, anything else)."""
    from tests.engine import test_read_only_targets as cases

    refused = other = 0
    for writer, (argv, name) in sorted(cases.WRITERS.items()):
        for mode in cases.NO_OWNER_WRITE:
            problem = _read_only_case(argv, name, mode)
            if problem:
                print(f"{writer} onto mode {mode:o}: {problem}", file=sys.stderr)
            refused += not problem
            other += bool(problem)
    return refused, other


def _read_only_case(argv: list[str], name: str, mode: int) -> str:
    """Run one writer onto a read-only ``name``; what went wrong ('' when refused)."""
    import contextlib
    import io

    from engine import cli
    from tests.engine import test_read_only_targets as cases

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        target = cases.prepared_folder(tmp, name, mode)
        before = cases.snapshot(tmp)
        fields = {"project": tmp / "moons.dwire", "target": target, "folder": tmp}
        err = io.StringIO()
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(err),
            contextlib.chdir(tmp),
        ):
            status = cli.main([part.format(**fields) for part in argv])
        if status != cli.EXIT_BAD_INPUT or "read-only" not in err.getvalue():
            return f"exit {status}: {err.getvalue().strip()}"
        return "" if cases.snapshot(tmp) == before else "a file changed"


RESUME_SCRIPT = """
import sys
from engine import cli
from tests.faults import checkpoints_fill_the_disk
with checkpoints_fill_the_disk(after=int(sys.argv[1])):
    sys.exit(cli.main(sys.argv[2:]))
"""


def resume_kill_rounds(kills: int) -> tuple[int, int]:
    """``kill -9`` of ``deepwire train`` (at epoch 3-6, its checkpoints stopped by a full
    disk after epoch 1-3), then ``--resume``; returns (runs whose metrics.csv holds every
    epoch once with the rows before the checkpoint kept, others)."""
    import contextlib
    import io

    from engine import cli
    from engine.training import checkpoint as ckpt
    from tests.engine.test_resume import rows
    from tests.engine.test_training_faults import moons_project

    kept = lost = 0
    for round_ in range(kills):
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            path, out = moons_project(tmp, epochs=100_000), tmp / "run"
            after, kill_at = 2 * (1 + round_ % 3), 3 + round_ % 4
            _train_until(path, out, after, kill_at)
            before = rows(out / "metrics.csv")
            # rows of epochs the checkpoint holds (the kill may have come before the last
            # one reached metrics.csv: the resumed run writes it from the checkpoint)
            written = ckpt.load_state(out / "checkpoints/last.state.pt", "cpu")["epoch"]
            written = min(written, len(before))
            with (
                contextlib.redirect_stdout(io.StringIO()),
                contextlib.redirect_stderr(io.StringIO()),
            ):
                status = cli.main(["train", str(path), "--out", str(out), "--resume", str(out),
                                   "--epochs", "8", "--no-progress"])  # fmt: skip
            after_rows = rows(out / "metrics.csv")
            ok = status == cli.EXIT_OK and after_rows[:written] == before[:written]
            ok = ok and [int(r["epoch"]) for r in after_rows] == list(range(1, 9))
            kept += ok
            lost += not ok
    return kept, lost


def _train_until(path: Path, out: Path, after: int, epoch: int) -> None:
    """Run ``deepwire train`` (checkpoints fill the disk after ``after`` writes) and
    kill -9 it once it reports ``epoch``."""
    import signal

    process = subprocess.Popen(
        [sys.executable, "-c", RESUME_SCRIPT, str(after), "train", str(path), "--out",
         str(out), "--no-progress"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        for line in process.stdout:
            if line.startswith(f"epoch {epoch}/"):
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate()


def special_files_row(counts: Counter) -> tuple[str, str]:
    tried, refused = counts["special files: tried"], counts["special files: refused"]
    return (
        "Special files as data (FIFO, socket, character and block device, symlink loop, "
        "link to a FIFO, folder) in every reader: CSV, NPZ, NPY targets, IDX file and "
        "folder, image folder and image file; loaded in a child process",
        f"{tried}: {refused} refused at once with one sentence naming the file, "
        f"{counts['special files: hung']} hung",
    )


def size_bombs_row(counts: Counter) -> tuple[str, str]:
    drawn = counts["size bombs: refused"] + counts["size bombs: loaded"]
    written = counts["size bombs (hand-written): refused"]
    return (
        "Size bombs: labels of any size, sign and type (NPZ, IDX, CSV), one-hot widths, "
        "headers declaring any dimensions over a few bytes (NPZ stored and deflated, NPY, "
        "IDX plain and gzipped), deflate bombs, PNGs declaring huge pictures",
        f"{drawn + written}: {written} hand-written, all refused; {drawn} drawn, "
        f"{counts['size bombs: refused']} refused with one sentence, "
        f"{counts['size bombs: loaded']} loaded with bounded classes and memory; none hung",
    )


def read_only_row(result: tuple[int, int]) -> tuple[str, str]:
    refused, other = result
    return (
        "Read-only targets: every writer (code -o, import -o and --weights-out, export -o "
        "in each format, each file of a python export folder, each file train writes into "
        "--out) onto a file without its owner's write bit, in 7 modes, as root",
        f"{refused + other}: {refused} refused with one sentence before any work, no file "
        f"changed; {other} otherwise",
    )


def resume_row(result: tuple[int, int], counts: Counter) -> tuple[str, str]:
    kept, lost = result
    crashes = counts["resume: crash at any epoch, checkpoints lagging, then resume"]
    crafted = sum(v for k, v in counts.items() if k.startswith("resume: crafted checkpoint"))
    hostile = sum(v for k, v in counts.items() if k.startswith("resume: hostile checkpoint"))
    return (
        "Resume after kill -9 (rows kept): `deepwire train` killed at epoch 3-6 with its "
        "checkpoints stopped (full disk) after epoch 1-3, then `--resume`; in-process "
        "crashes at any epoch; crafted checkpoints",
        f"{kept + lost} kills here ({lost} lost) + {crashes} crashes in test_resume.py: "
        "metrics.csv holds every epoch once, rows before the checkpoint kept; "
        f"{crafted + hostile} crafted or hostile checkpoints refused naming the file or "
        "resumed whole",
    )


def table(counts: Counter, status: int, intact: int, lost: int, scale: float,
          training: tuple[int, int] = (0, 0), more_rows: tuple = ()) -> str:  # fmt: skip
    """The Markdown table of docs/reliability.md."""

    def cases(prefix: str) -> str:
        loaded, refused = counts[f"{prefix}: loaded"], counts[f"{prefix}: refused"]
        return f"{loaded + refused} ({loaded} loaded and compiled or diagnosed, {refused} refused)"

    def faults(counts: Counter, prefix: str) -> str:
        kinds = {k.removeprefix(prefix): v for k, v in counts.items() if k.startswith(prefix)}
        listed = ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        return f"{sum(kinds.values())} ({listed})"

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
            "Damaged data files (CSV, NPZ, IDX, PNG in an image folder: truncated, flipped "
            "bits, spliced random bytes, gzipped fragments)",
            f"{counts['damaged data files: loaded'] + counts['damaged data files: refused']} "
            f"({counts['damaged data files: loaded']} loaded, "
            f"{counts['damaged data files: refused']} refused with one DataError sentence)",
        ),
        (
            "Damaged weights and checkpoint files (.safetensors, .pt state_dict, checkpoint "
            ".state.pt: truncated, flipped bits, spliced random bytes)",
            f"{counts['damaged weights files: loaded'] + counts['damaged weights files: refused']} "
            f"({counts['damaged weights files: loaded']} loaded, "
            f"{counts['damaged weights files: refused']} refused with one sentence naming the "
            "file; nothing half-loaded)",
        ),
        (
            "SIGTERM / SIGINT to a real app process (editing, training)",
            f"{sum(v for k, v in counts.items() if k.startswith('signal '))}: exit 128 + "
            "signal; the unsaved edit restored at the next start; the run's best weights "
            "written",
        ),
        (
            "Training faults in the Trainer at a random epoch, batch and seed: NaN loss, an "
            "exception fetching a batch, Stop mid-batch, disk full for checkpoints",
            faults(counts, "training fault: ")
            + "; each: a sentence, model holds the best epoch's weights, checkpoints whole",
        ),
        (
            "Training faults in `deepwire train`: failure after an epoch, NaN in epoch 1, "
            "unwritable --out, full disk mid-run, Ctrl-C",
            faults(counts, "training fault (command line): ")
            + "; each: exit status and one sentence; best weights written or earlier ones "
            "untouched",
        ),
        (
            "Training faults in the app: loader exception, exception in the batches, NaN "
            "(epoch 1 and later), Stop in the first batch and before it, closing and opening "
            "another project mid-run, no writable run folder, fallback folder, full disk",
            faults(counts, "training fault in the app: ")
            + "; each: a message, the app edits and trains again, last good weights kept",
        ),
        (
            "kill -9 of a training app, then load its last checkpoint",
            f"{training[0] + 1} ({training[0]} here + 1 in test_training_faults.py, which "
            f"also resumes), {training[1]} lost",
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
        strings_into_code_row(counts),
        numeric_extremes_row(counts),
        *more_rows,
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
    training = training_kill_rounds(args.kills)
    read_only, resumed = read_only_rounds(), resume_kill_rounds(args.kills)
    more = (read_only_row(read_only), resume_row(resumed, counts), special_files_row(counts),
            size_bombs_row(counts))  # fmt: skip
    print(table(counts, status, intact, lost, args.scale, training, more))
    print(f"\n(tests took {seconds:.1f} s)")
    failed = lost or training[1] or read_only[1] or resumed[1]
    return 0 if status == 0 and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
