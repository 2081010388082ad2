"""The .dwire file: round trips, a clear sentence for every malformed input, atomic saves."""

import json
import os
from pathlib import Path

import pytest

from engine import project as project_file
from engine.errors import ProjectError
from engine.project import Project
from tests.engine.builders import mlp

EXAMPLES = sorted(Path(__file__).parents[2].joinpath("resources", "examples").glob("*.dwire"))


def valid_data():
    return Project({"model": mlp()}, {"name": "digits", "params": {}}, {"epochs": 2}).to_dict()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_load_save_load_identically(path, tmp_path):
    first = project_file.load(path)
    copy = tmp_path / path.name
    project_file.save(first, copy)
    second = project_file.load(copy)
    assert project_file.dumps(second) == project_file.dumps(first)
    assert json.loads(project_file.dumps(first)) == json.loads(path.read_text())


def test_file_is_indented_json_in_design_order(tmp_path):
    path = tmp_path / "net.dwire"
    project_file.save(Project({"model": mlp()}), path)
    text = path.read_text()
    assert text.startswith('{\n  "format": "deepwire",\n  "version": 2,\n  "networks"')
    assert '"from": [\n' in text or '"from": ["input", "out"]' in text or '"from"' in text


def mutate(change):
    data = valid_data()
    change(data)
    return json.dumps(data)


BROKEN = {
    "not json": ("hello", "not a valid project file"),
    "truncated": (json.dumps(valid_data())[:-40], "ends too early"),
    "list at top": ("[1, 2]", "holds a JSON object, not a list"),
    "no format": (mutate(lambda d: d.pop("format")), 'lacks "format": "deepwire"'),
    "newer version": (
        mutate(lambda d: d.update(version=7)),
        "newer Deepwire (file format version 7)",
    ),
    "version text": (mutate(lambda d: d.update(version="1")), '"version" must be a whole number'),
    "unknown top field": (mutate(lambda d: d.update(extra=1)), "unknown field 'extra'"),
    "no networks": (mutate(lambda d: d.pop("networks")), '"networks" must map names'),
    "nodes not list": (
        mutate(lambda d: d["networks"]["model"].update(nodes={})),
        '"nodes" must be a list',
    ),
    "node without type": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1].pop("type")),
        "node 'linear1' has no \"type\"",
    ),
    "unknown layer": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1].update(type="Dense")),
        "unknown layer type 'Dense'",
    ),
    "unknown param": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1]["params"].update(units=3)),
        "Linear has no parameter 'units'",
    ),
    "wrong param type": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1]["params"].update(out_features="x")),
        "out_features must be a whole number",
    ),
    "unknown node field": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1].update(colour="red")),
        "unknown field 'colour'",
    ),
    "bad position": (
        mutate(lambda d: d["networks"]["model"]["nodes"][1].update(pos=[1])),
        '"pos" must be two numbers',
    ),
    "wire to missing node": (
        mutate(lambda d: d["networks"]["model"]["edges"][0].update(to=["ghost", "in"])),
        "goes to 'ghost', which is not a node",
    ),
    "wire malformed": (
        mutate(lambda d: d["networks"]["model"]["edges"][0].update(to="fc")),
        '"to" must be [node id, port name]',
    ),
    "duplicate id": (
        mutate(lambda d: d["networks"]["model"]["nodes"][2].update(id="linear1")),
        "already a node called 'linear1'",
    ),
    "unsafe id": (
        mutate(lambda d: d["networks"]["model"]["nodes"][2].update(id="x; import os")),
        "must start with a letter",
    ),
    "training not object": (
        mutate(lambda d: d.update(training=[1])),
        '"training" must be an object',
    ),
}


@pytest.mark.parametrize("name", BROKEN)
def test_malformed_files_raise_one_clear_sentence(name):
    text, expected = BROKEN[name]
    with pytest.raises(ProjectError) as error:
        project_file.loads(text, "net.dwire")
    message = str(error.value)
    assert message.startswith("net.dwire: ")
    assert expected in message
    assert "\n" not in message


def test_unreadable_paths(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        project_file.load(tmp_path / "missing.dwire")
    with pytest.raises(ProjectError, match="is a folder"):
        project_file.load(tmp_path)
    binary = tmp_path / "image.dwire"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ProjectError, match="not UTF-8 text"):
        project_file.load(binary)


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "net.dwire"
    project_file.save(Project({"model": mlp()}), path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    changed = Project({"model": mlp()})
    changed.network.set_params("linear1", {"out_features": 5})
    with pytest.raises(ProjectError, match="No space left on device"):
        project_file.save(changed, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["net.dwire"]


def test_save_into_a_read_only_folder_says_so(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # running as root: permissions are not enforced
            target = folder / "missing" / "net.dwire"
        else:
            target = folder / "net.dwire"
        with pytest.raises(ProjectError, match="cannot save"):
            project_file.save(Project({"model": mlp()}), target)
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_stored_in_canonical_form(path):
    assert project_file.dumps(project_file.load(path)) == path.read_text()
