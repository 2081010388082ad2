"""Progress of long work on the command line: stages of unknown length and counted ones.

``ConsoleProgress`` is what ``deepwire import``, ``export`` and ``train`` draw on stderr;
``Progress`` events also cross from the import's child process as JSON lines.
"""

import io
import json
import time

import pytest

from engine import progress as progress_module
from engine import progress_console
from engine.commands.importing import ChildProgress
from engine.progress import Progress
from engine.progress_console import ConsoleProgress


@pytest.fixture
def at_once(monkeypatch):
    """Report a stage as soon as it starts, and tick often."""
    monkeypatch.setattr(progress_module, "AFTER_S", 0.0)
    monkeypatch.setattr(progress_console, "TICK_S", 0.01)


def wait_for(condition) -> None:
    """Wait until ``condition()`` holds (the ticker thread draws in its own time)."""
    for _ in range(500):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the progress display never drew what was expected")


def test_a_log_gets_one_line_per_long_stage_and_nothing_when_closed(at_once):
    err = io.StringIO()
    display = ConsoleProgress(err, bar=False)
    display(Progress("tracing the model with torch.fx"))
    wait_for(lambda: "tracing" in err.getvalue())
    time.sleep(0.05)  # more ticks do not repeat the line
    display(Progress("checking the outputs against the model"))
    wait_for(lambda: "checking" in err.getvalue())
    display.close()
    assert err.getvalue() == (
        "tracing the model with torch.fx...\nchecking the outputs against the model...\n"
    )


def test_quick_stages_say_nothing(monkeypatch):
    monkeypatch.setattr(progress_console, "TICK_S", 0.01)
    monkeypatch.setattr(progress_module, "AFTER_S", 60.0)
    err = io.StringIO()
    display = ConsoleProgress(err, bar=False)
    for name in ("reading the weights", "preparing the network", "writing model.onnx"):
        display(Progress(name))
        time.sleep(0.03)
    display.close()
    assert err.getvalue() == ""


def test_a_terminal_shows_the_stage_with_its_seconds_and_clears_it(at_once):
    err = io.StringIO()
    display = ConsoleProgress(err, bar=True)
    display(Progress("translating the graph to ONNX"))
    wait_for(lambda: "translating the graph to ONNX... 0 s" in err.getvalue())
    display.close()
    drawn = err.getvalue()
    assert drawn.startswith("\rtranslating the graph to ONNX... 0 s\033[K")
    assert drawn.count("... 0 s") == 1  # redrawn only when the text changes
    assert drawn.endswith("\r\033[K")  # the line is gone when the work is done


def test_counted_stages_are_a_bar_on_a_terminal_and_quarters_in_a_log():
    err = io.StringIO()
    display = ConsoleProgress(err, bar=False)
    for done in range(0, 101, 5):
        display(Progress("reading images", done, 100))
    display.close()
    assert err.getvalue().splitlines() == [f"reading images {n}/100" for n in (0, 25, 50, 75, 100)]
    err = io.StringIO()
    display = ConsoleProgress(err, bar=True)
    display(Progress("reading images", 12_000, 50_000))
    assert err.getvalue() == "\rreading images [#####...................] 12,000/50,000 "


def test_events_from_the_child_are_read_whole_and_anything_else_is_skipped(tmp_path):
    path = tmp_path / "progress.jsonl"
    seen = []
    relay = ChildProgress(path, seen.append)
    relay.read()  # not written yet: nothing, no error
    write = ChildProgress.writer(path)
    write(Progress("running the model's code"))
    with open(path, "a", encoding="utf-8") as events:  # the model's code shares the child
        events.write('print("hello")\n{"stage": 3, "done": 0, "total": 0}\n[1, 2]\n')
        events.write('{"stage": "x", "done": true, "total": 0}\n')
        events.write(json.dumps({"stage": "tracing the model", "done": 0, "total": 0})[:20])
    relay.read()
    assert seen == [Progress("running the model's code")]
    with open(path, "a", encoding="utf-8") as events:  # the line is ended later
        events.write(json.dumps({"stage": "tracing the model", "done": 0, "total": 0})[20:])
        events.write("\n")
    relay.read()
    assert seen[-1] == Progress("tracing the model")
