"""User strings never run as code: not in ``deepwire code``, model.py, train.py or the README.

Every string from a project that can reach generated code is either validated (node ids,
port names, network names, class names, training choices) or written by
``engine.naming.literal``. The properties draw hostile strings (quotes, triple quotes,
backslashes, ``\\r``, U+2028, U+0085, NUL, ``#``, format braces, each around a payload
that touches a canary file) for every field, and check that (1) loading refuses them or
(2) the generated code has the same syntax tree as with a plain string, and (3) that
importing the generated model.py and train.py in a fresh interpreter runs nothing.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine import project as project_file
from engine.cli import main
from engine.codegen import generate_code
from engine.data.registry import load_dataset
from engine.errors import DeepwireError, ProjectError
from engine.export import export, train_script
from engine.naming import literal
from engine.training.config import TrainingConfig
from tests.engine.builders import chain
from tests.reliability_log import scaled, write_case_counts

EXAMPLE = Path(__file__).parents[2] / "resources" / "examples" / "digits_mlp.dwire"
CASES: Counter = Counter()
CANARY = "CANARY_PATH"  # replaced by a real path in each test
PAYLOAD = f'__import__("pathlib").Path("{CANARY}").touch()'
# The issue's file, character for character (with the canary in place of the command).
ISSUE_NAME = f'"""+str({PAYLOAD})+"""'
BREAKERS = [
    '"""', "'''", '"', "'", "\\", "\\\\", "\n", "\r", "\r\n", "\u2028", "\u2029", "\x85",
    "\x00", "\x0b", "\x0c", "#", "{", "}", "{0}", "{name}", "\\N{BULLET}", "\\x22", "\\u2028",
    "`", "$(", ")", "]", "+", ";", "\t", "\ufeff", "é", "😀",
]  # fmt: skip
ESCAPES = [
    f"+{PAYLOAD}+", f";{PAYLOAD};", f"\n{PAYLOAD}\n", f"\r{PAYLOAD}\r", f"\u2028{PAYLOAD}",
    f"\x85{PAYLOAD}", f"\\\n{PAYLOAD}", f"{{{PAYLOAD}}}", f"\n#\n{PAYLOAD}",
]  # fmt: skip
hostile = st.lists(
    st.sampled_from(BREAKERS) | st.sampled_from(ESCAPES) | st.text(max_size=3),
    min_size=1,
    max_size=8,
).map("".join) | st.just(ISSUE_NAME)


@pytest.fixture(scope="module", autouse=True)
def log_cases():
    yield
    write_case_counts(CASES)


def prop_settings(count: int):
    return settings(
        max_examples=scaled(count),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def armed(text: str, canary: Path) -> str:
    return text.replace(CANARY, str(canary))


def code_shape(source: str) -> str:
    """The syntax tree with every string constant emptied: what the code does."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(tree)


RUNNER = textwrap.dedent(
    """
    import os, runpy, sys
    for folder in sys.argv[1:]:
        sys.modules.pop("model", None)
        runpy.run_path(os.path.join(folder, "model.py"), run_name="generated")["Model"]()
        if os.path.exists(os.path.join(folder, "train.py")):
            runpy.run_path(os.path.join(folder, "train.py"), run_name="generated")
    print("imported", len(sys.argv) - 1)
    """
)


def import_in_a_fresh_interpreter(folders: list[Path], tmp_path: Path) -> None:
    """Import every folder's model.py (and build the model) and train.py in one subprocess."""
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(runner), *map(str, folders)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"imported {len(folders)}"


# ------------------------------------------------------------------------- literal
@prop_settings(300)
@given(text=hostile | st.text())
def test_literal_gives_back_the_text_and_breaks_out_of_no_context(text):
    written = literal(text)
    assert ast.literal_eval(written) == text
    assert written.isascii() and written.isprintable() and '"' not in written
    for context in ('"""Doc {}."""', "'''Doc {}.'''", "# {}", 'x = f"{{0}}" + {}'):
        tree = ast.parse(context.replace("{}", written))
        assert len(tree.body) <= 1 and not any(isinstance(n, ast.Call) for n in ast.walk(tree))
    nested = {text: [text, (text,), {"k": text}], "n": [1, 2.5, None, True]}
    assert ast.literal_eval(literal(nested)) == {
        text: [text, (text,), {"k": text}],
        "n": [1, 2.5, None, True],
    }
    CASES["strings into generated code: tried"] += 1


# ----------------------------------------------------------- the file of the issue
def test_the_issues_file_is_refused_by_every_command(tmp_path, capsys):
    canary = tmp_path / "ran"
    data = json.loads(EXAMPLE.read_text())
    data["networks"] = {armed(ISSUE_NAME, canary): data["networks"]["model"]}
    path = tmp_path / "evil.dwire"
    path.write_text(json.dumps(data))
    out_folder = tmp_path / "out"
    for argv in (["validate"], ["summary"], ["code"], ["export", "-f", "python", "-o",
                 str(out_folder)], ["train", "--out", str(tmp_path / "run")]):  # fmt: skip
        assert main([*argv, str(path)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.startswith("deepwire: evil.dwire: network name "), err
    assert not canary.exists() and not out_folder.exists()


# ------------------------------------------------------------- validated fields
def hostile_file(field: str, text: str) -> str:
    """The MLP example with ``text`` put in ``field`` the way an attacker writes it."""
    data = json.loads(EXAMPLE.read_text())
    network = data["networks"]["model"]
    if field == "network name":
        data["networks"] = {text: network}
    elif field == "node id":
        network["nodes"][1]["id"] = text
        network["edges"][0]["to"][0] = text
    elif field == "port name":
        network["edges"][0]["to"][1] = text
    elif field == "layer type":
        network["nodes"][1]["type"] = text
    elif field == "param name":
        network["nodes"][1]["params"] = {text: 1}
    elif field == "choice value":
        network["nodes"][0]["params"]["dtype"] = text
    else:  # a training setting
        data["training"][field] = text
    return json.dumps(data)


VALIDATED = ["network name", "node id", "port name", "layer type", "param name",
             "choice value", "device", "loss", "optimizer", "precision"]  # fmt: skip


def harmless(text: str) -> bool:
    """A plain word (``cpu``, ``fc_1``) that a hostile strategy may happen to draw."""
    return text.isascii() and text.replace("_", "").replace("-", "").replace(":", "").isalnum()


@prop_settings(300)
@given(field=st.sampled_from(VALIDATED), text=hostile)
@example(field="node id", text="fc1\n")  # `$` matches before a final newline
@example(field="network name", text="model\n")
def test_hostile_names_and_choices_are_refused_with_one_sentence(field, text):
    try:
        project = project_file.loads(hostile_file(field, text), "h.dwire")
        TrainingConfig.from_dict(project.training)
    except DeepwireError as error:
        message = str(error)
        assert isinstance(error, ProjectError) or message.startswith("training: ")
        assert message.count("\n") <= text.count("\n"), message  # only inside a quoted name
    else:
        assert harmless(text), f"{field} {text!r} was accepted"
    CASES["strings into generated code: tried"] += 1


def test_hostile_class_names_are_refused(tmp_path):
    network = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    for name in ("class", "torch", 'M"""', "M\nimport os", "", "1M", "M-1"):
        with pytest.raises(DeepwireError, match="class name"):
            export(network, "python", tmp_path / "out", class_name=name)
        with pytest.raises(DeepwireError, match="class name"):
            generate_code(network, name)


# --------------------------------------------------- escaped fields, run for real
def stub_dataset(section, base_dir=None):
    """Stands in for a CSV (whose path, target and columns are hostile) when exporting."""
    return load_dataset({"name": "xor", "params": {"n_samples": 40}})


def export_with(text: str, folder: Path, canary: Path) -> None:
    """Export a project whose every free-text field holds ``text``; validation bypassed."""
    text = armed(text, canary)
    network = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    network.name = text  # names are validated on load; this checks the second wall
    dataset = {"name": "csv", "params": {"path": text, "target": text, "columns": [text, "b"],
                                          "delimiter": text}}  # fmt: skip
    training = {"epochs": 1, "loss": "CrossEntropyLoss"}
    project = project_file.Project({"model": network}, dataset, training, notes=text)
    export(network, "python", folder, project=project)
    plain = chain(("Linear", {"out_features": 2}), input_shape=(2,))
    assert code_shape((folder / "model.py").read_text()) == code_shape(generate_code(plain))
    script = (folder / "train.py").read_text()
    assert literal(text) in script
    assert literal(text) in (folder / "README.md").read_text()


def test_hostile_strings_in_every_field_run_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(train_script, "load_dataset", stub_dataset)
    canary = tmp_path / "ran"
    export_with("plain", tmp_path / "plain", canary)
    plain_script = code_shape((tmp_path / "plain" / "train.py").read_text())
    folders: list[Path] = []

    @prop_settings(30)
    @given(text=hostile)
    def export_one(text):
        folders.append(tmp_path / f"export{len(folders)}")
        export_with(text, folders[-1], canary)
        # the same program whatever the strings hold
        assert code_shape((folders[-1] / "train.py").read_text()) == plain_script

    export_with(ISSUE_NAME, tmp_path / "issue", canary)
    source = (tmp_path / "issue" / "model.py").read_text()
    name = armed(ISSUE_NAME, canary)
    assert source.count(literal(name)) == 2  # the module's and the class's docstrings
    assert name in ast.get_docstring(ast.parse(source))  # which read the real name
    export_one()
    import_in_a_fresh_interpreter([tmp_path / "issue", *folders], tmp_path)
    assert not canary.exists()
    CASES["strings into generated code: tried"] += len(folders) + 1
    CASES["strings into generated code: executed"] += canary.exists()
