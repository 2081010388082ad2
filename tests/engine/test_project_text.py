"""The text of a project file: a byte-order mark is accepted, repeated keys and zero bytes
are refused with the right sentence.

Each case is written the way an editor, an attacker or a crash leaves the file, and a
property test covers the class: every example with a BOM, a repeated key in any object,
and zero bytes after any prefix.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import cli
from engine import project as project_file
from engine.errors import ProjectError
from tests.reliability_log import scaled, write_case_counts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.dwire"))
EXAMPLE = ROOT / "resources" / "examples" / "digits_mlp.dwire"
BOM = b"\xef\xbb\xbf"
CASES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts({f"project text: {k}": n for k, n in CASES.items()})


def fuzz(count: int):
    return settings(max_examples=scaled(count), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip


def test_a_file_saved_with_a_byte_order_mark_opens(tmp_path, capsys):
    path = tmp_path / "notepad.dwire"
    path.write_bytes(BOM + EXAMPLE.read_bytes())  # what Notepad's "UTF-8 with BOM" writes
    assert project_file.dumps(project_file.load(path)) == EXAMPLE.read_text(encoding="utf-8")
    assert cli.main(["validate", str(path)]) == cli.EXIT_OK
    assert "ok:" in capsys.readouterr().out


def test_a_repeated_key_is_refused_not_guessed(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8")
    # a reviewer sees 64 in the diff; a last-wins reader would build 100000
    crafted = text.replace('"out_features": 64', '"out_features": 64, "out_features": 100000', 1)
    path = tmp_path / "crafted.dwire"
    path.write_text(crafted, encoding="utf-8")
    with pytest.raises(ProjectError) as caught:
        project_file.load(path)
    assert str(caught.value).startswith("crafted.dwire: not a valid project file: the key ")
    assert "'out_features' appears twice in one object" in str(caught.value)


def test_zero_bytes_at_the_end_are_named_as_such(tmp_path):
    path = tmp_path / "crashed.dwire"
    # a crash after the size was updated but before the data reached the disk
    path.write_bytes(EXAMPLE.read_bytes() + bytes(4096))
    with pytest.raises(ProjectError) as caught:
        project_file.load(path)
    message = str(caught.value)
    assert "ends in 4096 zero bytes" in message and "truncated" not in message


@fuzz(40)
@given(example=st.sampled_from(EXAMPLES))
def test_every_project_with_a_byte_order_mark_loads_as_without(example):
    text = example.read_text(encoding="utf-8")
    with_bom = (BOM + text.encode("utf-8")).decode("utf-8")
    assert project_file.dumps(project_file.loads(with_bom)) == project_file.dumps(
        project_file.loads(text)
    )
    CASES["byte-order mark, loaded"] += 1


def objects(data, found=None) -> list[dict]:
    """Every JSON object in ``data``, outermost first."""
    found = [] if found is None else found
    if isinstance(data, dict):
        found.append(data)
        values = data.values()
    elif isinstance(data, list):
        values = data
    else:
        return found
    for value in values:
        objects(value, found)
    return found


def dump_with_repeat(data, target: dict, key: str, value) -> str:
    """JSON text of ``data`` where object ``target`` names ``key`` a second time."""
    if isinstance(data, dict):
        pairs = [(k, dump_with_repeat(v, target, key, value)) for k, v in data.items()]
        if data is target:
            pairs.append((key, json.dumps(value)))
        return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"
    if isinstance(data, list):
        return "[" + ", ".join(dump_with_repeat(v, target, key, value) for v in data) + "]"
    return json.dumps(data)


@fuzz(150)
@given(example=st.sampled_from(EXAMPLES), data=st.data())
def test_a_repeated_key_in_any_object_is_refused(example, data):
    parsed = json.loads(example.read_text(encoding="utf-8"))
    target = data.draw(st.sampled_from([o for o in objects(parsed) if o]))
    key = data.draw(st.sampled_from(sorted(target)))
    value = data.draw(st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=8))
    text = dump_with_repeat(parsed, target, key, value)
    with pytest.raises(ProjectError, match="appears twice in one object"):
        project_file.loads(text, "x.dwire")
    CASES["repeated key, refused"] += 1


@fuzz(150)
@given(example=st.sampled_from(EXAMPLES), data=st.data())
def test_zero_bytes_after_any_prefix_are_named(example, data):
    raw = example.read_bytes()
    cut = data.draw(st.integers(1, len(raw)))
    text = raw[:cut].decode("utf-8", errors="ignore") + "\x00" * data.draw(st.integers(1, 8192))
    with pytest.raises(ProjectError) as caught:
        project_file.loads(text, "x.dwire")
    assert "zero bytes" in str(caught.value) and "truncated" not in str(caught.value)
    CASES["zero bytes at the end, refused"] += 1
