"""Where Deepwire's shipped files are: the ``resources`` folder, wherever it was installed.

In a source checkout (or an editable install) it is ``resources/`` beside the packages;
in a PyInstaller bundle, ``resources/`` inside the bundle; an installed wheel puts its
data files under ``<prefix>/share/deepwire``. The engine reads its built-in data sets
from ``resources/data``; the application finds its icons and examples the same way
(``nodeeditor.icons``). No Qt here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import sysconfig
from pathlib import Path


def installed_data_dirs() -> list[Path]:
    """Where an installed wheel's data files went: the environment's, then the user's."""
    folders = [sysconfig.get_path("data")]
    with contextlib.suppress(KeyError):
        folders.append(sysconfig.get_path("data", f"{os.name}_user"))
    return [Path(folder) for folder in folders if folder]


def resources_dir(anchor: str | Path | None = None, data_dirs: list[Path] | None = None) -> Path:
    """The ``resources`` folder.

    Args:
        anchor: a module file of a package beside ``resources`` in a checkout (this one's
            by default).
        data_dirs: the installed data folders to look in (``installed_data_dirs()``).
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    source = Path(anchor or __file__).resolve().parent.parent / "resources"
    if source.is_dir():
        return source
    for data in installed_data_dirs() if data_dirs is None else data_dirs:
        if (data / "share" / "deepwire").is_dir():
            return data / "share" / "deepwire"
    return source


def data_file(name: str) -> Path:
    """The shipped file ``resources/data/NAME``."""
    return resources_dir() / "data" / name
