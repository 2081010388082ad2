"""Malformed project files: refused with one ProjectError, never a traceback or run code.

Property tests mutate the bundled examples (structure: delete, duplicate, rename and
retype keys, random JSON values; text: truncation, flipped bytes, random unicode) and
check that loading either refuses with a ProjectError or gives a project that analyses
without raising and compiles exactly when the analysis reports no errors.

Example counts are stated in ``settings(max_examples=...)``; ``DEEPWIRE_PROPERTY_SCALE``
multiplies them (benchmarks/bench_reliability.py), and ``DEEPWIRE_RELIABILITY_LOG``
names a JSON-lines file that receives the number of cases each property ran.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import project as project_file
from engine.analysis import analyze
from engine.errors import CompileError, ProjectError
from tests.reliability_log import scaled, write_case_counts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "resources" / "examples").glob("*.dwire"))
TEXTS = [path.read_text(encoding="utf-8") for path in EXAMPLES]
CASES: Counter = Counter()
examples = scaled


def fuzz_settings(count: int):
    return settings(
        max_examples=examples(count),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts(CASES)


# Words the loader looks for, so that mutations reach deep into the checks.
VOCABULARY = [
    "format", "version", "networks", "model", "nodes", "edges", "id", "type", "params",
    "pos", "trainable", "from", "to", "in", "out", "in1", "in2", "Input", "Linear",
    "Conv2d", "ReLU", "Output", "Add", "Concat", "LSTM", "Flatten", "shape",
    "out_features", "kernel_size", "fc1", "class", "deepwire", "dataset", "training",
]  # fmt: skip
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from([*VOCABULARY, 0, -1, 1, 2, 10**9, 1e308, ""])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(VOCABULARY), inner, max_size=4)
    ),
    max_leaves=12,
)


def _slots(tree, found=None):
    """Every (container, key) in ``tree``: the places a mutation can hit."""
    found = [] if found is None else found
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for key, value in list(items):
        found.append((tree, key))
        if isinstance(value, dict | list) and value:
            _slots(value, found)
    return found


def mutate_tree(data, tree) -> None:
    """Apply 1-4 random structural mutations to parsed JSON ``tree`` in place."""
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        slots = _slots(tree)
        if not slots:
            return
        parent, key = data.draw(st.sampled_from(slots), label="where")
        op = data.draw(st.sampled_from([*"TTTT", "delete", "duplicate", "replace", "rename"]))
        if op == "T":  # a plausible value of the same kind: reaches analysis and compile
            parent[key] = tweak(data, parent[key])
        elif op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = data.draw(json_values, label="value")
        elif isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        else:
            new_key = data.draw(st.sampled_from(VOCABULARY) | st.text(max_size=8), label="key")
            value = parent[key] if op == "duplicate" else parent.pop(key)
            parent[new_key] = value


def tweak(data, value):
    """A value near ``value``: another small number, word or boolean."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return data.draw(st.integers(-2, 600) | st.sampled_from([0.5, 1e-9, 3.0]), label="n")
    if isinstance(value, str):
        return data.draw(st.sampled_from(VOCABULARY), label="word")
    if isinstance(value, list) and value:
        return [tweak(data, item) for item in value]
    return value


def check_text(text: str) -> str:
    """Load ``text``: refused with ProjectError, or analysable and compilable."""
    try:
        project = project_file.loads(text, "fuzzed.dwire")
    except ProjectError as error:
        assert str(error).startswith("fuzzed.dwire")
        return "refused"
    again = project_file.loads(project_file.dumps(project))
    assert project_file.dumps(again) == project_file.dumps(project)
    for network in project.networks.values():
        check_network(network)
    return "loaded"


def check_network(network) -> None:
    from engine.compile import compile_network

    analysis = analyze(network)
    try:
        compile_network(network, analysis)
    except CompileError:
        assert analysis.errors
    else:
        assert not analysis.errors


@fuzz_settings(400)
@given(data=st.data(), index=st.integers(0, len(TEXTS) - 1))
def test_structurally_mutated_files_load_or_are_refused_cleanly(data, index):
    tree = json.loads(TEXTS[index])
    mutate_tree(data, tree)
    CASES["structure mutations: " + check_text(json.dumps(tree, indent=2))] += 1


@fuzz_settings(300)
@given(data=st.data(), index=st.integers(0, len(TEXTS) - 1))
def test_damaged_text_loads_or_is_refused_cleanly(data, index):
    text = TEXTS[index]
    op = data.draw(st.sampled_from(["truncate", "insert", "replace"]))
    at = data.draw(st.integers(0, len(text)), label="offset")
    if op == "truncate":
        text = text[:at]
    else:
        junk = data.draw(st.text(min_size=1, max_size=8), label="unicode")
        text = text[:at] + junk + text[at + len(junk) * (op == "replace") :]
    CASES["damaged text: " + check_text(text)] += 1


@fuzz_settings(200)
@given(data=st.data(), index=st.integers(0, len(TEXTS) - 1))
def test_files_with_flipped_bytes_load_or_are_refused_cleanly(tmp_path_factory, data, index):
    raw = bytearray(TEXTS[index].encode("utf-8"))
    for _ in range(data.draw(st.integers(1, 8), label="flips")):
        at = data.draw(st.integers(0, len(raw) - 1), label="offset")
        raw[at] ^= data.draw(st.integers(1, 255), label="mask")
    path = tmp_path_factory.mktemp("flips") / "flipped.dwire"
    path.write_bytes(bytes(raw))
    try:
        project = project_file.load(path)
    except ProjectError as error:
        assert str(error).startswith(("flipped.dwire", str(path)))
        CASES["flipped bytes: refused"] += 1
        return
    for network in project.networks.values():
        check_network(network)
    CASES["flipped bytes: loaded"] += 1


# ------------------------------------------------------------------ hostile files
MARKER = "deepwire_was_here"


def hostile(tmp_path, **changes) -> str:
    """The MLP example with ``changes`` applied to its first layer (or the top level)."""
    data = json.loads((ROOT / "resources" / "examples" / "digits_mlp.dwire").read_text())
    node = data["networks"]["model"]["nodes"][1]
    for key, value in changes.items():
        (data if key == "notes" else node)[key] = value
    return json.dumps(data)


def code(tmp_path) -> str:
    target = tmp_path / MARKER
    return f"__import__('pathlib').Path({str(target)!r}).write_text('x')"


@pytest.mark.parametrize(
    "field", ["id", "type", "params", "params_value", "pos", "trainable", "long_id"]
)
def test_code_and_huge_names_in_a_file_are_refused_and_never_run(tmp_path, field):
    payload = code(tmp_path)
    changes = {
        "id": {"id": payload},
        "type": {"type": payload},
        "params": {"params": {payload: 1}},
        "params_value": {"params": {"out_features": payload}},
        "pos": {"pos": [payload, 0]},
        "trainable": {"trainable": payload},
        "long_id": {"id": "fc" * 50_000},
    }[field]
    path = tmp_path / "hostile.dwire"
    path.write_text(hostile(tmp_path, **changes))
    with pytest.raises(ProjectError, match=r"^hostile\.dwire: ") as error:
        project_file.load(path)
    assert len(str(error.value)) < 400  # a sentence, not the whole payload
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.dwire"]


def test_code_in_the_notes_stays_text(tmp_path):
    payload = code(tmp_path)
    project = project_file.loads(hostile(tmp_path, notes=payload))
    assert project.notes == payload
    check_network(project.network)
    assert not (tmp_path / MARKER).exists()


def test_a_50_mb_string_is_refused(tmp_path):
    text = hostile(tmp_path, notes="x" * 50_000_000)
    with pytest.raises(ProjectError, match="too large for a project file"):
        project_file.loads(text, "big.dwire")
    path = tmp_path / "big.dwire"
    path.write_text(text)
    with pytest.raises(ProjectError, match=r"^big\.dwire: is 50\.\d MB, too large"):
        project_file.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.dwire"]


@pytest.mark.parametrize("bracket", ["[]", "{}"])
def test_json_nested_100k_levels_deep_is_refused(tmp_path, bracket):
    opening = bracket[0] if bracket == "[]" else '{"a":'
    nested = opening * 100_000 + "1" + bracket[1] * 100_000
    text = hostile(tmp_path, notes="NESTED").replace('"NESTED"', nested)
    with pytest.raises(ProjectError, match="nested too deeply"):
        project_file.loads(text, "deep.dwire")
    path = tmp_path / "deep.dwire"
    path.write_text(text)
    with pytest.raises(ProjectError, match=r"^deep\.dwire: .*nested too deeply"):
        project_file.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.dwire"]
