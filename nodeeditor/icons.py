"""Toolbar icons and the application icon, drawn as SVG in ``resources/icons``.

The SVGs stroke with ``currentColor``; ``icon(name)`` paints them in the theme's text
colour, so the same files serve the dark and the light theme. ``resources_dir()`` finds
the resources in a source checkout (or editable install), in a PyInstaller bundle, and
in an installed wheel, which puts them under ``<prefix>/share/deepwire``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from engine import resources
from nodeeditor import theme

SIZES = (16, 24, 32, 48)


def resources_dir() -> Path:
    """The ``resources`` folder (icons, examples); see ``engine.resources``."""
    return resources.resources_dir(__file__, installed_data_dirs())


def installed_data_dirs() -> list[Path]:
    """Where an installed wheel's data files went: the environment's, then the user's."""
    return resources.installed_data_dirs()


def examples_dir() -> Path:
    """The folder of the example projects."""
    return resources_dir() / "examples"


def icon(name: str) -> QIcon:
    """The icon ``name`` (``resources/icons/NAME.svg``) in the theme's text colour."""
    return _icon(name, theme.colors()["text"])


@cache
def _icon(name: str, color: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    svg = path.read_text(encoding="utf-8").replace("currentColor", color)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def app_icon() -> QIcon:
    """Deepwire's own icon."""
    path = resources_dir() / "icons" / "deepwire.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
