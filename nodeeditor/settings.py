"""The user's preferences, kept with QSettings: recent files, the theme and the
layout direction.

``DEEPWIRE_SETTINGS=/path/file.ini`` keeps them in that file instead of the desktop's
usual place; the tests use it so that they never touch a user's settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from engine.layout import DIRECTIONS

MAX_RECENT = 10
ENV_VAR = "DEEPWIRE_SETTINGS"


def app_data_dir(name: str, env_var: str) -> Path:
    """The app's folder ``name`` in the desktop's data place (``$env_var`` when set)."""
    override = os.environ.get(env_var)
    if override:
        return Path(override)
    from PySide6.QtCore import QStandardPaths

    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".deepwire") / name


class Settings:
    """Typed access to the stored preferences."""

    def __init__(self, qsettings: QSettings | None = None):
        if qsettings is None:
            override = os.environ.get(ENV_VAR)
            if override:
                qsettings = QSettings(override, QSettings.Format.IniFormat)
            else:
                qsettings = QSettings("Deepwire", "Deepwire")
        self.qsettings = qsettings

    def recent_files(self) -> list[str]:
        """Recently opened or saved files, newest first, that still exist."""
        value = self.qsettings.value("recent_files", [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            value = [value]
        return [path for path in (value or []) if Path(path).is_file()]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` at the top of the recent files."""
        path = str(Path(path).resolve())
        files = [p for p in self.recent_files() if p != path]
        self.qsettings.setValue("recent_files", [path, *files][:MAX_RECENT])
        self.qsettings.sync()

    def clear_recent_files(self) -> None:
        """Forget every recent file."""
        self.qsettings.setValue("recent_files", [])
        self.qsettings.sync()

    def theme(self) -> str:
        """``"system"``, ``"dark"`` or ``"light"``."""
        value = self.qsettings.value("theme", "system")
        return value if value in ("system", "dark", "light") else "system"

    def set_theme(self, theme: str) -> None:
        """Remember the theme."""
        self.qsettings.setValue("theme", theme)
        self.qsettings.sync()

    def layout_direction(self) -> str:
        """How Auto-layout and new networks are laid out: ``"LR"`` (left to right) or
        ``"TB"`` (top to bottom)."""
        value = self.qsettings.value("layout_direction", "LR")
        return value if value in DIRECTIONS else "LR"

    def set_layout_direction(self, direction: str) -> None:
        """Remember the layout direction (``"LR"`` or ``"TB"``)."""
        if direction not in DIRECTIONS:
            raise ValueError(f"layout direction must be 'LR' or 'TB', not {direction!r}")
        self.qsettings.setValue("layout_direction", direction)
        self.qsettings.sync()

    def window_state(self) -> tuple[bytes | None, bytes | None]:
        """The saved window geometry and dock layout."""
        return self.qsettings.value("geometry"), self.qsettings.value("window_state")

    def set_window_state(self, geometry, state) -> None:
        """Remember the window geometry and dock layout."""
        self.qsettings.setValue("geometry", geometry)
        self.qsettings.setValue("window_state", state)
        self.qsettings.sync()
