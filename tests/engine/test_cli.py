"""The command line on good and broken files: one sentence and an exit code, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import project as project_file
from engine.cli import main
from engine.project import Project
from tests.engine.builders import chain, mlp

ROOT = Path(__file__).parents[2]
DEEPWIRE = Path(sys.executable).with_name("deepwire")


def write(tmp_path, network, name="net.dwire"):
    path = tmp_path / name
    project_file.save(Project({"model": network}), path)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_good_file(tmp_path, capsys):
    code, out, err = run(capsys, "validate", str(write(tmp_path, mlp())))
    assert (code, err) == (0, "")
    assert out == "ok: 5 nodes, 2,410 parameters\n"


def test_validate_network_with_errors_exits_1(tmp_path, capsys):
    broken = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    code, out, _ = run(capsys, "validate", str(write(tmp_path, broken)))
    assert code == 1
    assert "error: linear1: Linear expects a flat input" in out
    assert "add a Flatten before it" in out


@pytest.mark.parametrize(
    ("outputs", "status", "said"),
    [
        (
            32,
            0,
            "warning: linear1: Linear gives 32 outputs but digits has 10 classes; set out_features to 10",
        ),
        (4, 1, "error: linear1: Linear gives 4 outputs but digits has 10 classes"),
    ],
)
def test_validate_checks_the_network_against_the_projects_data(
    tmp_path, capsys, outputs, status, said
):
    network = chain(("Linear", {"out_features": outputs}), input_shape=(64,))
    path = tmp_path / "net.dwire"
    project_file.save(Project({"model": network}, dataset={"name": "digits", "params": {}}), path)
    code, out, err = run(capsys, "validate", str(path))
    assert (code, err) == (status, "")
    assert said in out


def gan_project(tmp_path, made=2, discriminator="discriminator"):
    """A rings GAN project file whose generator gives ``made`` numbers."""
    generator = chain(("Linear", {"out_features": made}), input_shape=(4,), name="generator")
    critic = chain(("Linear", {"out_features": 1}), input_shape=(2,), name="discriminator")
    training = {"recipe": "adversarial", "adversarial": {"discriminator": discriminator}}
    proj = Project({"generator": generator, "discriminator": critic}, {"name": "rings"}, training)
    path = tmp_path / "gan.dwire"
    project_file.save(proj, path)
    return path


def test_validate_checks_each_network_of_a_gan_for_its_role(tmp_path, capsys):
    assert run(capsys, "validate", str(gan_project(tmp_path)))[0] == 0
    code, out, _ = run(capsys, "validate", str(gan_project(tmp_path, made=5)))
    assert code == 1
    assert "generator: error: output: the generator gives (5,) (5 numbers) but rings" in out


def test_validate_names_a_gan_role_without_its_network(tmp_path, capsys):
    code, out, _ = run(capsys, "validate", str(gan_project(tmp_path, discriminator="critic")))
    assert code == 1
    assert "training: error: adversarial.discriminator: the project has no network 'critic'" in out


def test_validate_names_a_wrong_training_setting(tmp_path, capsys):
    path = write(tmp_path, mlp())
    proj = project_file.load(path)
    proj.training = {"epochs": 0}
    project_file.save(proj, path)
    code, out, _ = run(capsys, "validate", str(path))
    assert code == 1 and "training: error: epochs must be a whole number" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{", "ends too early"),
        ('{"format": "deepwire", "version": 99, "networks": {}}', "newer Deepwire"),
        ("[]", "holds a JSON object"),
    ],
)
def test_unreadable_files_exit_2_with_one_line(tmp_path, capsys, content, expected):
    path = tmp_path / "broken.dwire"
    if content is not None:
        path.write_text(content)
    for command in ("validate", "summary", "code"):
        code, out, err = run(capsys, command, str(path))
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1 and expected in err and err.startswith("deepwire: ")


def test_summary_table_lists_every_node_with_totals(tmp_path, capsys):
    code, out, _ = run(capsys, "summary", str(write(tmp_path, mlp())))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["node", "type", "settings", "output", "shape", "params", "MACs"]
    row = next(line for line in lines if line.startswith("linear1"))
    assert row.split() == ["linear1", "Linear", "out_features", "32", "(32,)", "2,080", "2,048"]
    total = next(line for line in lines if line.startswith("total"))
    assert total.split() == ["total", "2,410", "2,368"]
    assert "training memory at batch size 64" in out


def test_summary_json(tmp_path, capsys):
    network = mlp()
    network.set_trainable("linear1", False)
    code, out, _ = run(capsys, "summary", "--json", str(write(tmp_path, network)))
    data = json.loads(out)
    assert code == 0
    assert data["total_params"] == 2410
    assert data["trainable_params"] == 330
    assert data["nodes"][1] == {
        "id": "linear1",
        "type": "Linear",
        "settings": "out_features 32",
        "output_shape": [32],
        "params": 2080,
        "macs": 2048,
        "trainable": False,
    }


def test_code_of_a_broken_network_exits_1(tmp_path, capsys):
    broken = chain(("Linear", {"out_features": 10}), input_shape=(8, 4, 4))
    code, out, err = run(capsys, "code", str(write(tmp_path, broken)))
    assert (code, out) == (1, "")
    assert "cannot be built" in err and "add a Flatten" in err


def test_unknown_network_name(tmp_path, capsys):
    code, _, err = run(capsys, "code", "--network", "gan", str(write(tmp_path, mlp())))
    assert code == 2 and "there is no network 'gan' (it has: model)" in err


def test_code_runs_on_its_own_in_a_fresh_interpreter(tmp_path, capsys):
    """The generated file imports only torch and builds with no arguments."""
    source = tmp_path / "model.py"
    code, _, err = run(capsys, "code", str(write(tmp_path, mlp())), "-o", str(source))
    assert code == 0, err
    script = (
        "import sys, torch; sys.path.insert(0, sys.argv[1]); import model; "
        "assert 'engine' not in sys.modules and 'nodeeditor' not in sys.modules; "
        "m = model.Model(); y = m(torch.randn(3, 64)); print(tuple(y.shape), "
        "sum(p.numel() for p in m.parameters()))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    ran = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(3, 10) 2410"


def test_real_entry_point_never_prints_a_traceback(tmp_path):
    path = tmp_path / "bad.dwire"
    path.write_bytes(b"\x00\x01garbage")
    result = subprocess.run([str(DEEPWIRE), "validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("deepwire: ")


def test_no_command_shows_help_and_fails(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "validate" in out


def test_python_dash_m_engine_is_the_same_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(write(tmp_path, mlp()))],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (result.returncode, result.stdout) == (0, "ok: 5 nodes, 2,410 parameters\n")


def test_generated_code_has_no_fx_bookkeeping(capsys):
    example = ROOT / "resources" / "examples" / "digits_resnet.dwire"
    code, out, _ = run(capsys, "code", str(example))
    assert code == 0
    assert "= None" not in out
    assert "skip = bn_b + stem_act" in out
