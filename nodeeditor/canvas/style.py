"""Colours, sizes and fonts of the canvas, for dark and light themes.

Each layer family has a hue; the node body takes it at a lightness that reads well on
the theme's window colour (dark themes get deep, saturated bodies with light text,
light themes pale bodies with dark text). Whether the theme is dark is read from the
application palette's window lightness, so it follows the other helper's theme.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

NODE_WIDTH = 184.0
HEADER_HEIGHT = 22.0
LINE_HEIGHT = 15.0
PORT_SPACING = 18.0
PORT_RADIUS = 5.5
CORNER = 7.0
# Wires longer than this (in scene units) are drawn without antialiasing while a
# node is dragged: long antialiased curves are the cost of a frame (PITFALLS #8).
LONG_WIRE = 600.0

FAMILY_HUES = {
    "Input / Output": 210,
    "Dense": 265,
    "Activation": 130,
    "Convolution": 20,
    "Pooling": 45,
    "Normalization": 180,
    "Regularization": 330,
    "Recurrent": 290,
    "Attention": 0,
    "Transformer": 0,
    "Shape": 60,
    "Merge": 95,
    "Embedding": 235,
}


def is_dark() -> bool:
    """True when the application's window colour is dark."""
    app = QGuiApplication.instance()
    palette = app.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def family_hue(family: str) -> int:
    """A stable hue (0-359) for a layer family."""
    if family in FAMILY_HUES:
        return FAMILY_HUES[family]
    return zlib.crc32(family.encode()) % 360


@dataclass(frozen=True)
class Theme:
    """The colours of one theme."""

    dark: bool
    background: QColor
    grid: QColor
    text: QColor
    dim_text: QColor
    wire: QColor
    wire_selected: QColor
    selection: QColor
    port: QColor
    port_accept: QColor
    error: QColor
    warning: QColor
    locked: QColor

    def body(self, family: str) -> QColor:
        """The fill of a node of ``family``."""
        hue = family_hue(family)
        return QColor.fromHsl(hue, 90, 58) if self.dark else QColor.fromHsl(hue, 150, 228)

    def header(self, family: str) -> QColor:
        """The fill of a node's title bar."""
        hue = family_hue(family)
        return QColor.fromHsl(hue, 130, 88) if self.dark else QColor.fromHsl(hue, 150, 196)


def current_theme() -> Theme:
    """The Theme that matches the application palette."""
    if is_dark():
        return Theme(
            True,
            QColor(30, 31, 34),
            QColor(44, 46, 50),
            QColor(235, 235, 235),
            QColor(170, 172, 178),
            QColor(150, 155, 165),
            QColor(255, 200, 90),
            QColor(255, 200, 90),
            QColor(200, 200, 205),
            QColor(90, 220, 120),
            QColor(235, 70, 60),
            QColor(240, 170, 40),
            QColor(120, 130, 160, 60),
        )
    return Theme(
        False,
        QColor(246, 246, 248),
        QColor(228, 229, 233),
        QColor(25, 25, 28),
        QColor(90, 92, 98),
        QColor(110, 115, 125),
        QColor(225, 130, 0),
        QColor(225, 130, 0),
        QColor(70, 72, 80),
        QColor(20, 160, 60),
        QColor(210, 40, 30),
        QColor(215, 140, 0),
        QColor(120, 130, 160, 50),
    )


def font(size: float = 8.5, bold: bool = False) -> QFont:
    """The canvas font at ``size`` points."""
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f
