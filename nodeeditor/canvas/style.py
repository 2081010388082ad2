"""Colours, sizes and fonts of the canvas, for dark and light themes.

Each layer family has a hue; the node body takes it at a lightness that reads well on
the theme's window colour (dark themes get deep, saturated bodies with light text,
light themes pale bodies with dark text). Whether the theme is dark is read from the
application palette's window lightness, so it follows the other helper's theme.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from functools import lru_cache

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
# Below this zoom, text is unreadable: nodes are drawn as plain coloured boxes, ports
# and wire labels are left out (most of a zoomed-out frame's cost is text).
DETAIL_ZOOM = 0.45
# Below this zoom, ports are hidden: too small to hit, and each costs a paint call.
PORT_ZOOM = 0.3

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


@dataclass(frozen=True, eq=False)  # hashed by identity: caches key on it
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
        return _family_color(family, self.dark, header=False)

    def header(self, family: str) -> QColor:
        """The fill of a node's title bar."""
        return _family_color(family, self.dark, header=True)


@lru_cache(maxsize=256)
def _family_color(family: str, dark: bool, header: bool) -> QColor:
    hue = family_hue(family)
    if dark:
        return QColor.fromHsl(hue, 130, 88) if header else QColor.fromHsl(hue, 90, 58)
    return QColor.fromHsl(hue, 150, 196) if header else QColor.fromHsl(hue, 150, 228)


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
            QColor(20, 22, 28, 110),
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
        QColor(255, 255, 255, 130),
    )


@lru_cache(maxsize=32)
def font(size: float = 8.5, bold: bool = False) -> QFont:
    """The canvas font at ``size`` points (shared: do not modify it)."""
    f = QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


# Colour by gradient size: a sequential map from faded (tiny gradients, a layer that
# barely learns) through blue and violet to hot (large ones). Stops per theme, light
# enough (or dark enough) that the node's text stays readable on them.
_HEAT_STOPS = {
    False: ((0.0, (218, 221, 228)), (0.3, (165, 195, 242)), (0.55, (205, 175, 238)),
            (0.78, (252, 178, 135)), (1.0, (255, 128, 98))),
    True: ((0.0, (54, 57, 64)), (0.3, (38, 72, 140)), (0.55, (92, 56, 140)),
           (0.78, (160, 78, 36)), (1.0, (188, 42, 32))),
}  # fmt: skip
_NEUTRAL = {False: QColor(238, 238, 240), True: QColor(40, 42, 47)}


@lru_cache(maxsize=512)
def heat(level: float | None, dark: bool) -> QColor:
    """The fill of a node coloured by ``level`` (0 faded ... 1 hot); None: a node
    without weights (a quiet neutral)."""
    if level is None:
        return _NEUTRAL[dark]
    level = min(max(level, 0.0), 1.0)
    stops = _HEAT_STOPS[dark]
    for (low, a), (high, b) in itertools.pairwise(stops):
        if level <= high:
            t = (level - low) / (high - low)
            return QColor(*(round(x + (y - x) * t) for x, y in zip(a, b)))
    return QColor(*stops[-1][1])
