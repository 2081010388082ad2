"""The user's own pictures: a folder with one subfolder of images per class.

``photos/cat/*.png``, ``photos/dog/*.jpg``: the subfolder names are the class names
(sorted). Every image is read with Pillow, converted to grey or RGB (``color``:
``grey``, ``rgb`` or ``auto``, which picks grey when every image is grey) and resized to
``size`` (height, width); pixels are scaled to [0, 1]. A file Pillow cannot read is
named in the error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def _class_folders(root: Path) -> list[Path]:
    if not root.exists():
        raise DataError(f"{root}: no such folder")
    if not root.is_dir():
        raise DataError(f"{root}: is a file; image data is a folder with one subfolder per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(folders) < 2:
        raise DataError(
            f"{root.name}: put the images in one subfolder per class (at least two), "
            "e.g. cats/ and dogs/"
        )
    return folders


def _files(folder: Path) -> list[Path]:
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
    )
    if not files:
        raise DataError(f"class folder {folder.name!r} holds no images (.png, .jpg, ...)")
    return files


def _read(file: Path, mode: str, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(file) as image:
            image = image.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255.0
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise DataError(f"{file.parent.name}/{file.name}: not a readable image ({error})") from None
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _all_grey(files: list[Path]) -> bool:
    from PIL import Image

    for file in files:
        try:
            with Image.open(file) as image:
                if image.mode not in ("L", "1", "I", "I;16", "LA"):
                    return False
        except OSError:
            return False  # reported properly when it is read
    return True


def load_images(params: dict, seed: int) -> Raw:
    """Read an image folder (see the module docstring)."""
    root = Path(params["path"])
    size = params["size"]
    if not (isinstance(size, list | tuple) and len(size) == 2 and all(
            isinstance(s, int) and s > 0 for s in size)):  # fmt: skip
        raise DataError('"size" must be [height, width] in pixels, e.g. [32, 32]')
    color = params["color"]
    if color not in ("grey", "gray", "rgb", "auto"):
        raise DataError('"color" must be "grey", "rgb" or "auto"')
    folders = _class_folders(root)
    files = [(label, f) for label, folder in enumerate(folders) for f in _files(folder)]
    if color == "auto":
        color = "grey" if _all_grey([f for _, f in files]) else "rgb"
    mode = "RGB" if color == "rgb" else "L"
    x = np.stack([_read(f, mode, tuple(size)) for _, f in files])
    y = np.array([label for label, _ in files], dtype=np.int64)
    names = [folder.name for folder in folders]
    return Raw(x, y, "classification", "image", names,
               f"{root.name}: {len(files)} images in {len(names)} classes")  # fmt: skip


IMAGE_PARAMS = {"path": None, "size": [32, 32], "color": "auto"}
