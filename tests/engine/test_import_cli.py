"""``deepwire import``: the model's code runs in a child process, and -o is never lost.

A model file that ends the program (``sys.exit``, ``os._exit``, a crash) at import, in
its constructor or in ``forward`` ends in one sentence and writes nothing; importing
into an existing project replaces only its network and keeps a backup; a file that is
not a project, or a read-only one, is refused before the model's code runs.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import project
from engine.cli import EXIT_BAD_INPUT, EXIT_OK, main
from engine.importer import ImportModelError, import_model

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "examples" / "digits_mlp.dwire"
MODEL = textwrap.dedent(
    """
    import torch
    {at_import}

    class M(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(4, 2)
            {in_init}

        def forward(self, x):
            {in_forward}
            return self.fc(x)
    """
)


def model_file(tmp_path, at_import="", in_init="", in_forward="", name="m.py"):
    path = tmp_path / name
    path.write_text(
        MODEL.format(at_import=at_import, in_init=in_init or "pass", in_forward=in_forward)
    )
    return path


def said(err: str) -> list[str]:
    """The lines of stderr that are not progress (stages of a slow import end in "...")."""
    return [line for line in err.splitlines() if not line.endswith("...")]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_help_says_that_the_model_code_is_run(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Importing RUNS the model's Python code" in text
    assert "Import only code you trust" in text


@pytest.mark.parametrize(
    "where, code, told",
    [
        ("at_import", "import sys; sys.exit(3)", "m.py called sys.exit(3)"),
        ("in_init", "import os; os._exit(4)", "m.py ended the program with exit status 4"),
        ("in_forward", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)",
         "m.py crashed the process that ran it to import the model (SIGKILL)"),
    ],
)  # fmt: skip
def test_model_code_that_ends_the_program_ends_in_a_sentence(tmp_path, capsys, where, code, told):
    path = model_file(tmp_path, **{where: code})
    status, _, err = run(
        capsys, "import", f"{path}:M", "--input-shape", "4", "-o", tmp_path / "p.dwire",
        "--weights-out", tmp_path / "w.safetensors",
    )  # fmt: skip
    assert status == EXIT_BAD_INPUT
    [sentence] = said(err)
    assert sentence.startswith("deepwire: ") and told in err and "nothing was imported" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.glob("*.*")) == ["m.py"]


@settings(max_examples=6, deadline=None, database=None)
@given(where=st.sampled_from(["at_import", "in_init", "in_forward"]), code=st.integers(-3, 300))
def test_sys_exit_anywhere_in_model_code_is_an_import_error(tmp_path_factory, where, code):
    path = model_file(tmp_path_factory.mktemp("m"), **{where: f"import sys; sys.exit({code})"})
    with pytest.raises(ImportModelError, match=rf"called sys\.exit\({code}\)"):
        import_model(f"{path}:M", input_shapes=[(4,)])


def test_import_into_a_project_replaces_only_its_network_and_keeps_a_backup(tmp_path, capsys):
    target = tmp_path / "mine.dwire"
    dataset = {"name": "moons", "params": {"n_samples": 200}}
    training = {"epochs": 3, "batch_size": 16}
    old = project.Project(dict(project.load(EXAMPLE).networks), dataset, training)
    old.notes = "my notes"
    project.save(old, target)
    before = target.read_bytes()
    status, out, err = run(
        capsys, "import", f"{model_file(tmp_path)}:M", "--input-shape", "4", "-o", target
    )
    assert status == EXIT_OK, err
    merged = project.load(target)
    assert (merged.dataset, merged.training, merged.notes) == (dataset, training, "my notes")
    assert [n.type for n in merged.network.nodes] == ["Input", "Linear", "Output"]
    assert project.backup_path(target).read_bytes() == before
    assert "the previous file is" in out


def test_a_file_that_is_not_a_project_is_refused_unless_forced(tmp_path, capsys):
    path = model_file(tmp_path)
    source = path.read_bytes()
    # a slip of the keyboard: -o names the model's own source file
    status, _, err = run(capsys, "import", f"{path}:M", "--input-shape", "4", "-o", path)
    assert status == EXIT_BAD_INPUT and "is not a Deepwire project" in err and "--force" in err
    assert path.read_bytes() == source
    status, _, err = run(capsys, "import", f"{path}:M", "--input-shape", "4", "-o", path, "--force")
    assert status == EXIT_OK, err
    assert project.load(path).network.node("fc")
    assert project.backup_path(path).read_bytes() == source


@pytest.mark.parametrize("which", ["-o", "--weights-out"])
def test_a_read_only_target_is_refused_before_the_model_code_runs(tmp_path, capsys, which):
    marker = tmp_path / "ran"
    path = model_file(tmp_path, at_import=f"open({str(marker)!r}, 'w').close()")
    targets = {"-o": tmp_path / "p.dwire", "--weights-out": tmp_path / "w.safetensors"}
    targets[which].write_bytes(b"the user's own file")
    targets[which].chmod(0o444)
    argv = [x for flag, target in targets.items() for x in (flag, target)]
    status, _, err = run(capsys, "import", f"{path}:M", "--input-shape", "4", *argv)
    assert status == EXIT_BAD_INPUT
    assert f"{targets[which]} is read-only, so it was not replaced" in err
    assert targets[which].read_bytes() == b"the user's own file"
    assert not marker.exists()  # refused before anything ran


TOKEN_MODEL = textwrap.dedent(
    """
    import torch

    class Tagger(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.words = torch.nn.Embedding(1000, 8)
            self.tags = torch.nn.Embedding(5, 8)  # a token id above 4 fails here
            self.head = torch.nn.Linear(8, 3)

        def forward(self, ids):
            return self.head(self.words(ids) + self.tags(ids))
    """
)


def test_input_dtype_int64_imports_a_token_model(tmp_path, capsys):
    (tmp_path / "tagger.py").write_text(TOKEN_MODEL)
    target = tmp_path / "tagger.dwire"
    argv = ["import", f"{tmp_path / 'tagger.py'}:Tagger", "--input-shape", "7"]
    code, _, err = run(capsys, *argv, "--input-dtype", "int64", "-o", target)
    assert code == EXIT_OK, err
    ids = project.load(target).networks["model"].node("ids")
    assert ids.params["shape"] == (7,) and ids.params["dtype"] == "int64"


@pytest.mark.parametrize(
    "option, told",
    [
        ("float16", "--input-dtype 'float16': dtype 'float16' is not one Deepwire's inputs take"),
        ("tokens=int64", "the model has no input 'tokens' (its inputs: ids)"),
        ("float32", "Tagger"),  # the model's own embedding refuses float ids
    ],
)
def test_a_wrong_input_dtype_is_a_sentence(tmp_path, capsys, option, told):
    (tmp_path / "tagger.py").write_text(TOKEN_MODEL)
    target = tmp_path / "tagger.dwire"
    argv = ["import", f"{tmp_path / 'tagger.py'}:Tagger", "--input-shape", "7", "-o", target]
    code, _, err = run(capsys, *argv, "--input-dtype", option)
    assert code == EXIT_BAD_INPUT
    assert told in err and "Traceback" not in err
    assert not target.exists()


def test_an_onnx_file_refuses_input_dtype(tmp_path, capsys):
    code, _, err = run(capsys, "import", tmp_path / "m.onnx", "--input-dtype", "int64")
    assert code == EXIT_BAD_INPUT
    assert "m.onnx gives its inputs' types itself; --input-dtype is for PyTorch models" in err


BLOCKS = textwrap.dedent(
    """
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.act = nn.{activation}()

        def forward(self, x):
            return self.act(self.fc(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block()
            self.second = Block()

        def forward(self, x):
            return self.second(self.first(x))
    """
)


def test_modules_come_in_as_block_types_and_a_clash_is_renamed(tmp_path, capsys):
    target = tmp_path / "two.dwire"
    for name, activation in (("relus", "ReLU"), ("tanhs", "Tanh")):
        (tmp_path / f"{name}.py").write_text(BLOCKS.format(activation=activation))
        argv = ["import", f"{tmp_path / name}.py:Net", "--input-shape", "4", "--name", name]
        status, _, err = run(capsys, *argv, "-o", target)
        assert status == EXIT_OK, err
    both = project.load(target)
    assert both.blocks.names() == ["Block", "Block2"]
    relus, tanhs = both.networks["relus"], both.networks["tanhs"]
    assert {n.type for n in relus.nodes} == {"Input", "Block", "Output"}
    assert {n.type for n in tanhs.nodes} == {"Input", "Block2", "Output"}
    assert [n.type for n in both.blocks.get("Block2").network.nodes] == [
        "Input", "Linear", "Tanh", "Output",
    ]  # fmt: skip
    status, code, err = run(capsys, "code", target, "--network", "tanhs")
    assert status == EXIT_OK, err
    assert "class Block2(torch.nn.Module):" in code and "Tanh()" in code
