"""The wheel carries what the app opens: the examples, the icons and the desktop files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["pyproject.toml", "README.md", "engine", "nodeeditor", "resources", "packaging"]


def test_the_wheel_installs_examples_icons_and_desktop_files(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in SOURCES:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path / "dist")],
        cwd=tree, check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("deepwire-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if ".data/" in n) + "/data/share"
    examples = {p.name for p in (ROOT / "resources" / "examples").glob("*.dwire")}
    icons = {p.name for p in (ROOT / "resources" / "icons").glob("*.svg")}
    assert {f"{data}/deepwire/examples/{n}" for n in examples} <= names
    assert {f"{data}/deepwire/icons/{n}" for n in icons} <= names
    bundled = {p.name for p in (ROOT / "resources" / "data").iterdir()}
    assert {f"{data}/deepwire/data/{n}" for n in bundled} <= names
    assert f"{data}/applications/deepwire.desktop" in names
    assert "nodeeditor/launcher.py" in names and "engine/cli.py" in names


def test_an_installed_app_finds_its_resources_under_share(tmp_path, monkeypatch):
    from nodeeditor import icons

    installed = tmp_path / "prefix" / "share" / "deepwire"
    shutil.copytree(ROOT / "resources", installed)
    fake_module = tmp_path / "site-packages" / "nodeeditor" / "icons.py"
    monkeypatch.setattr(icons, "__file__", str(fake_module))
    monkeypatch.setattr(icons, "installed_data_dirs", lambda: [tmp_path / "prefix"])
    assert icons.resources_dir() == installed
    assert (icons.examples_dir() / "digits_cnn.dwire").is_file()
