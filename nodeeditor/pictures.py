"""NumPy pictures as Qt images: one conversion for previews, galleries and data views."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_image(array) -> QImage:
    """A QImage owning a copy of an ``(H, W, 3)`` uint8 array."""
    rgb = np.ascontiguousarray(array, np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
