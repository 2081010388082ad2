"""The application's look: Fusion style with a dark or a light QPalette.

The theme is ``"system"`` (follow the desktop's colour scheme, the default), ``"dark"``
or ``"light"``. Colours come from one table per scheme so that the canvas and the
panels can read the same ones (``colors()``) instead of hard-coding their own.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "dark", "light")

DARK = {
    "window": "#212428",
    "base": "#2b2f35",
    "alternate": "#30343b",
    "text": "#e3e6ea",
    "muted": "#8b929c",
    "button": "#353a41",
    "highlight": "#3d8bfd",
    "highlighted_text": "#ffffff",
    "link": "#6ea8fe",
    "tooltip": "#30343b",
    "error": "#f06c6c",
    "warning": "#f0b54a",
    "ok": "#5fcf8a",
}

LIGHT = {
    "window": "#f3f4f6",
    "base": "#ffffff",
    "alternate": "#f0f1f4",
    "text": "#1e2126",
    "muted": "#69707a",
    "button": "#e9ebef",
    "highlight": "#2f6fdf",
    "highlighted_text": "#ffffff",
    "link": "#2f6fdf",
    "tooltip": "#ffffe8",
    "error": "#c62828",
    "warning": "#a66300",
    "ok": "#2e7d32",
}

_current = {"name": "light", "colors": LIGHT}


def system_is_dark() -> bool:
    """True when the desktop asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(theme: str) -> str:
    """``"dark"`` or ``"light"``: the scheme that ``theme`` stands for now."""
    if theme == "system":
        return "dark" if system_is_dark() else "light"
    return theme if theme in ("dark", "light") else "light"


def colors() -> dict[str, str]:
    """The colour table of the theme in use (hex strings by role)."""
    return _current["colors"]


def is_dark() -> bool:
    """True when the dark theme is in use."""
    return _current["name"] == "dark"


def apply_theme(app: QApplication, theme: str = "system") -> str:
    """Give ``app`` the Fusion style and the palette of ``theme``; returns the scheme used."""
    name = resolve(theme)
    table = DARK if name == "dark" else LIGHT
    _current.update(name=name, colors=table)
    app.setStyle("Fusion")
    app.setPalette(make_palette(table))
    app.setStyleSheet(_style_sheet(table))
    return name


def make_palette(table: dict[str, str]) -> QPalette:
    """A QPalette built from a colour table."""
    palette = QPalette()
    role = QPalette.ColorRole
    pairs = {
        role.Window: "window",
        role.WindowText: "text",
        role.Base: "base",
        role.AlternateBase: "alternate",
        role.ToolTipBase: "tooltip",
        role.ToolTipText: "text",
        role.PlaceholderText: "muted",
        role.Text: "text",
        role.Button: "button",
        role.ButtonText: "text",
        role.BrightText: "error",
        role.Highlight: "highlight",
        role.HighlightedText: "highlighted_text",
        role.Link: "link",
    }
    for palette_role, key in pairs.items():
        palette.setColor(palette_role, QColor(table[key]))
    muted = QColor(table["muted"])
    for palette_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, palette_role, muted)
    light, dark = QColor(table["button"]).lighter(130), QColor(table["base"]).darker(130)
    palette.setColor(role.Light, light)
    palette.setColor(role.Midlight, QColor(table["button"]).lighter(115))
    palette.setColor(role.Mid, QColor(table["button"]).darker(120))
    palette.setColor(role.Dark, dark)
    palette.setColor(role.Shadow, QColor("#000000"))
    return palette


def _style_sheet(table: dict[str, str]) -> str:
    """Small touches Fusion leaves out: dock titles, the status bar, error labels."""
    return f"""
    QDockWidget::title {{
        padding: 5px 8px;
        background: {table["alternate"]};
    }}
    QStatusBar QLabel {{ color: {table["muted"]}; padding: 0 6px; }}
    QLabel[role="error"] {{ color: {table["error"]}; }}
    QLabel[role="muted"] {{ color: {table["muted"]}; }}
    QLabel[role="heading"] {{ font-weight: 600; }}
    QToolBar {{ spacing: 2px; border: none; }}
    """
