"""Numbers no machine can hold: refused when the file is read, with one sentence.

A project file is JSON, which allows a 5000-digit integer, ``1e308``, ``NaN`` and
``Infinity``. Every command (validate, summary, code, export, train) must refuse such a
file with a sentence naming the node and the parameter (or the setting), never an
internal error; and every parameter of every layer type, every training setting and
every dataset param is bounded by what torch and a Qt int spin box (int32) hold.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine import bounds
from engine import project as project_file
from engine.cli import main
from engine.data.registry import check_section, dataset_params
from engine.errors import DataError, ProjectError, TrainingError
from engine.layers import CATALOGUE
from engine.training.config import TrainingConfig
from tests.reliability_log import scaled, write_case_counts

EXAMPLE = Path(__file__).parents[2] / "resources" / "examples" / "digits_mlp.dwire"
CASES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts(CASES)


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def with_out_features(number_text: str) -> str:
    """The MLP example with fc1's out_features written as ``number_text`` in the JSON."""
    text = example_text()
    assert text.count('"out_features": 64') == 1
    return text.replace('"out_features": 64', f'"out_features": {number_text}')


def with_setting(section: str, path: tuple, number_text: str) -> str:
    """The example with ``section[path...]`` set to the raw JSON ``number_text``."""
    data = json.loads(example_text())
    place = data[section]
    for key in path[:-1]:
        place = place.setdefault(key, {})
    place[path[-1]] = "@NUMBER@"
    return json.dumps(data, indent=1).replace('"@NUMBER@"', number_text)


def nested_classes(depth: int) -> str:
    data = json.loads(example_text())
    data["dataset"]["params"]["classes"] = "@NESTED@"
    return json.dumps(data).replace('"@NESTED@"', "[" * depth + "1" + "]" * depth)


# What an attacker writes, and a word the refusal must contain.
HOSTILE_FILES = {
    "5000 digits": (with_out_features("5" * 5000), "5000 digits"),
    "1e308": (with_out_features("1e308"), "out_features"),
    "2^62": (with_out_features(str(2**62)), "out_features"),
    "-2^62": (with_out_features(str(-(2**62))), "out_features"),
    "1e400": (with_out_features("1e400"), "too large"),
    "NaN lr": (with_setting("training", ("optimizer", "lr"), "NaN"), "NaN"),
    "NaN weight decay": (with_setting("training", ("optimizer", "weight_decay"), "NaN"), "NaN"),
    "Infinity grad_clip": (with_setting("training", ("grad_clip",), "Infinity"), "Infinity"),
    "-Infinity l1": (with_setting("training", ("l1",), "-Infinity"), "Infinity"),
    "batch size 10^30": (with_setting("training", ("batch_size",), "1" + "0" * 30), "digits"),
    "batch size 2^40": (with_setting("training", ("batch_size",), str(2**40)), "batch_size"),
    "epochs 1e300": (with_setting("training", ("epochs",), "1e300"), "epochs"),
    "seed 2^31": (with_setting("dataset", ("params", "seed"), str(2**31)), "seed"),
    "900-deep dataset param": (nested_classes(900), "nested"),
}


@pytest.mark.parametrize("name", list(HOSTILE_FILES))
@pytest.mark.parametrize("command", ["validate", "summary", "code", "export", "train"])
def test_every_command_refuses_the_file_with_one_sentence(name, command, tmp_path, capsys):
    text, word = HOSTILE_FILES[name]
    path = tmp_path / "hostile.dwire"
    path.write_text(text, encoding="utf-8")
    argv = {
        "export": ["export", str(path), "-f", "python", "-o", str(tmp_path / "out")],
        "train": ["train", str(path), "--out", str(tmp_path / "run"), "--no-progress"],
    }.get(command, [command, str(path)])
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    assert err.count("\n") == 1 and err.startswith("deepwire: hostile.dwire: "), err
    assert word in err and "internal error" not in err and "Traceback" not in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "run").exists()
    CASES["numeric extremes: refused"] += 1


def test_the_message_names_the_node_and_the_parameter():
    with pytest.raises(ProjectError) as error:
        project_file.loads(with_out_features("1e308"), "big.dwire")
    assert str(error.value) == (
        "big.dwire: network 'model': node 'fc1': out_features is 1e+308, beyond "
        "2147483647, the largest value it can hold"
    )


def test_numbers_at_the_bounds_still_load_and_the_code_allocates_nothing(capsys, tmp_path):
    path = tmp_path / "wide.dwire"
    path.write_text(with_out_features(str(bounds.INT_MAX)))
    assert main(["code", str(path)]) == 0  # meta device: no 550 GB allocated
    assert "out_features=2147483647" in capsys.readouterr().out
    status = main(["export", str(path), "-f", "safetensors", "-o", str(tmp_path / "w.st")])
    err = capsys.readouterr().err
    assert status == 1 and "more than this machine can allocate" in err, err


# ------------------------------------------------------------------- properties
EXTREMES = st.one_of(
    st.integers(bounds.INT_MAX + 1, 10**19),
    st.integers(-(10**19), -bounds.INT_MAX - 1),
    st.floats(min_value=bounds.FLOAT_MAX * 1.0001, max_value=1e308),
    st.floats(max_value=-bounds.FLOAT_MAX * 1.0001, min_value=-1e308),
    st.sampled_from([2**31, 2**62, 2**63 - 1, 1e308, -1e308, 1.7976931348623157e308]),
)
NUMERIC_PARAMS = [
    (spec.name, param.name)
    for spec in CATALOGUE.values()
    for param in spec.params
    if param.kind not in ("bool", "choice")
]


def prop_settings(count: int):
    return settings(
        max_examples=scaled(count),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def test_every_parameter_has_bounds_a_machine_holds():
    for spec in CATALOGUE.values():
        for param in spec.params:
            if param.kind in ("bool", "choice"):
                continue
            limit = bounds.INT_MAX if "float" not in param.kind else bounds.FLOAT_MAX
            assert -limit <= param.lower <= param.upper <= limit, (spec.name, param.name)


def _one_node_file(type_name: str, param: str, value) -> str:
    kind = CATALOGUE[type_name].param(param).kind
    written = [value, value] if kind in ("int_or_tuple", "float_or_tuple") else value
    written = [1, value] if kind == "shape" else written
    node = {"id": "probe", "type": type_name, "params": {param: written}}
    data = {"format": "deepwire", "version": 1, "networks": {"model": {"nodes": [node]}}}
    return json.dumps(data)


@prop_settings(300)
@given(layer=st.sampled_from(NUMERIC_PARAMS), value=EXTREMES)
def test_extreme_values_of_every_layer_parameter_are_refused_naming_both(layer, value):
    type_name, param = layer
    kind = CATALOGUE[type_name].param(param).kind
    assume(abs(value) > (bounds.FLOAT_MAX if "float" in kind else bounds.INT_MAX))
    with pytest.raises(ProjectError) as error:
        project_file.loads(_one_node_file(type_name, param, value), "x.dwire")
    message = str(error.value)
    assert message.startswith("x.dwire: network 'model': node 'probe': "), message
    assert param in message and "\n" not in message
    CASES["numeric extremes: refused"] += 1


TRAINING_NUMBERS = [
    ("epochs",), ("batch_size",), ("seed",), ("l1",), ("grad_clip",), ("log_every",),
    ("optimizer", "lr"), ("optimizer", "weight_decay"), ("optimizer", "eps"),
    ("early_stopping", "patience"), ("early_stopping", "min_delta"),
    ("scheduler", "step_size"), ("scheduler", "gamma"),
]  # fmt: skip


WHOLE_SETTINGS = ("epochs", "batch_size", "seed", "log_every", "patience")


@prop_settings(200)
@given(where=st.sampled_from(TRAINING_NUMBERS), value=EXTREMES)
def test_extreme_training_settings_are_refused_naming_the_setting(where, value):
    data = json.loads(example_text())
    section = data["training"]
    if where[0] == "scheduler":
        section["scheduler"] = {"type": "StepLR"}
    for key in where[:-1]:
        section = section.setdefault(key, {})
    section[where[-1]] = value
    text = json.dumps(data)
    with pytest.raises(ProjectError) as error:
        project_file.loads(text, "t.dwire")
    assert where[-1] in str(error.value)
    # Given as Python data (the app's form), the config refuses them too (float settings
    # hold up to FLOAT_MAX there; a file is stricter: every whole number within int32).
    if where[-1] in WHOLE_SETTINGS or abs(value) > bounds.FLOAT_MAX:
        with pytest.raises(TrainingError, match=where[-1]):
            TrainingConfig.from_dict(json.loads(text)["training"])
    CASES["numeric extremes: refused"] += 1


@prop_settings(100)
@given(data=st.data(), name=st.sampled_from(["sine", "spirals", "sequences", "digits", "csv"]))
def test_extreme_dataset_params_are_refused_naming_the_param(data, name):
    numeric = [k for k, v in dataset_params(name).items() if type(v) in (int, float) or v is None]
    key = data.draw(st.sampled_from(sorted(numeric)), label="param")
    value = data.draw(EXTREMES | st.sampled_from([math.nan, math.inf, -math.inf]), label="value")
    params = {"path": "a.csv"} if name == "csv" else {}
    with pytest.raises(DataError, match=key):
        check_section({"name": name, "params": {**params, key: value}})
    CASES["numeric extremes: refused"] += 1


@prop_settings(50)
@given(depth=st.integers(bounds.MAX_DEPTH, 2000), width=st.integers(1, 3))
def test_deep_or_wide_dataset_params_are_refused_when_the_file_is_read(depth, width):
    value: object = 1
    for _ in range(depth):
        value = [value] * width  # shared, so wide and deep costs no memory
    data = json.loads(example_text())
    data["dataset"]["params"]["classes"] = value
    with pytest.raises(ProjectError, match=r"dataset\.params\.classes.* nested more than"):
        project_file.from_dict(data, "d.dwire")
    CASES["numeric extremes: refused"] += 1


def test_huge_dataset_params_are_refused():
    wide = {"name": "csv", "params": {"path": "a.csv", "columns": ["c"] * 20_000}}
    with pytest.raises(DataError, match="more than 10,000 values"):
        check_section(wide)
    long_path = {"name": "csv", "params": {"path": "a" * 100_000}}
    with pytest.raises(DataError, match="path is 100,000 characters long"):
        check_section(long_path)


def test_an_export_seed_beyond_the_bounds_is_one_sentence(tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    argv = ["export", str(EXAMPLE), "-f", "safetensors", "-o", str(out), "--seed", str(10**30)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepwire: the seed must be a whole number") and not out.exists()
