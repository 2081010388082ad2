"""The bundled data sets ship as files equal to scikit-learn's, and reading them imports
neither scikit-learn nor torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.data.builtin import BUNDLED, bundled
from engine.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", BUNDLED)
def test_shipped_arrays_equal_scikit_learns(name):
    datasets = pytest.importorskip("sklearn.datasets")
    original = getattr(datasets, f"load_{name}")()
    shipped = bundled(name)
    if name == "digits":
        assert np.array_equal(shipped["images"], original.images)
    else:
        assert shipped["data"].dtype == np.float64
        assert np.array_equal(shipped["data"], original.data)
        assert list(shipped["feature_names"]) == [str(n) for n in original.feature_names]
    assert np.array_equal(shipped["target"], original.target)
    if "target_names" in shipped:
        assert list(shipped["target_names"]) == [str(n) for n in original.target_names]


def test_loading_every_bundled_set_imports_no_scikit_learn_or_torch():
    code = (
        "import sys\n"
        "from engine.data import load_dataset\n"
        f"for name in {BUNDLED!r}:\n"
        "    load_dataset({'name': name, 'params': {}})\n"
        "print(sorted(m for m in ('sklearn', 'torch', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_missing_data_file_is_a_sentence(monkeypatch, tmp_path):
    from engine.data import builtin

    monkeypatch.setattr(builtin, "data_file", lambda name: tmp_path / name)
    with pytest.raises(DataError, match=r"iris: the built-in data file .*iris\.npz is missing"):
        bundled("iris")


def test_the_licence_note_ships_beside_the_data():
    note = (ROOT / "resources" / "data" / "README.md").read_text()
    assert "BSD 3-Clause License" in note and "scikit-learn developers" in note
    assert {f"{name}.npz" for name in BUNDLED} <= {
        p.name for p in (ROOT / "resources" / "data").iterdir()
    }


def test_an_installed_engine_finds_its_data_under_share(tmp_path):
    from engine import resources

    installed = tmp_path / "prefix" / "share" / "deepwire"
    (installed / "data").mkdir(parents=True)
    (installed / "data" / "iris.npz").write_bytes((ROOT / "resources/data/iris.npz").read_bytes())
    module = tmp_path / "site-packages" / "engine" / "resources.py"
    assert resources.resources_dir(module, [tmp_path / "prefix"]) == installed


def test_the_python_export_of_a_bundled_set_carries_its_data(tmp_path):
    from engine import project
    from engine.export import export

    proj = project.load(ROOT / "resources" / "examples" / "digits_mlp.dwire")
    result = export(proj.network, "python", tmp_path / "out", project=proj, base_dir=tmp_path)
    assert "data.npz" in {p.name for p in result.files}
    script = (tmp_path / "out" / "train.py").read_text()
    assert "sklearn" not in script and "scikit" not in script
    with np.load(tmp_path / "out" / "data.npz") as data:
        assert len(data["x_train"]) + len(data["x_val"]) == 1797
