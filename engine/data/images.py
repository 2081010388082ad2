"""The user's own pictures: a folder with one subfolder of images per class.

``photos/cat/*.png``, ``photos/dog/*.jpg``: the subfolder names are the class names
(sorted). Every image is read with Pillow, converted to grey or RGB (``color``:
``grey``, ``rgb`` or ``auto``, which picks grey when every image is grey) and resized to
``size`` (height, width); pixels are scaled to [0, 1]. A file Pillow cannot read, one
that is not a regular file (a pipe, a device) and one that declares a huge picture are
named in the error.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.data.files import check_folder, check_size, is_folder, open_file
from engine.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
MAX_PIXELS = 89_478_485  # Pillow's default limit, used when Pillow's is switched off


def _class_folders(root: Path) -> list[Path]:
    check_folder(root, hint="; image data is a folder with one subfolder per class")
    folders = sorted(p for p in root.iterdir() if is_folder(p) and not p.name.startswith("."))
    if len(folders) < 2:
        raise DataError(
            f"{root.name}: put the images in one subfolder per class (at least two), "
            "e.g. cats/ and dogs/"
        )
    return folders


def _files(folder: Path) -> list[Path]:
    # anything named like an image but a folder is skipped; a pipe or a device so named
    # is refused when it is opened
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not is_folder(p)
    )
    if not files:
        raise DataError(f"class folder {folder.name!r} holds no images (.png, .jpg, ...)")
    return files


@contextlib.contextmanager
def _open_image(file: Path):
    """A Pillow image of the regular file ``file`` whose pixel count is sane.

    Pillow reads only the header on opening, so a file that declares a huge picture is
    refused before its pixels are decoded.
    """
    from PIL import Image, UnidentifiedImageError

    where = f"{file.parent.name}/{file.name}"
    limit = Image.MAX_IMAGE_PIXELS or MAX_PIXELS
    with open_file(file, "an image") as stream:
        try:
            with Image.open(stream) as image:
                width, height = image.size
                if width * height > limit:
                    raise DataError(
                        f"{where}: declares {width}x{height} pixels, more than the "
                        f"{limit} an image may have (a damaged or hostile file?)"
                    )
                yield image
        except Image.DecompressionBombError as error:
            raise DataError(f"{where}: {error}") from None
        except (UnidentifiedImageError, OSError, ValueError, EOFError) as error:
            raise DataError(f"{where}: not a readable image ({error})") from None


def _read(file: Path, mode: str, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    with _open_image(file) as image:
        image = image.convert(mode).resize((size[1], size[0]), Image.Resampling.BILINEAR)
        pixels = np.asarray(image, dtype=np.float32) / 255.0
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _all_grey(files: list[Path]) -> bool:
    for file in files:
        with _open_image(file) as image:
            if image.mode not in ("L", "1", "I", "I;16", "LA"):
                return False
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
    channels = 3 if mode == "RGB" else 1
    check_size(root.name, 4 * len(files) * channels * size[0] * size[1], f"{len(files)} images")
    x = np.stack([_read(f, mode, tuple(size)) for _, f in files])
    y = np.array([label for label, _ in files], dtype=np.int64)
    names = [folder.name for folder in folders]
    return Raw(x, y, "classification", "image", names,
               f"{root.name}: {len(files)} images in {len(names)} classes",
               x_scale=255.0)  # fmt: skip


IMAGE_PARAMS = {"path": None, "size": [32, 32], "color": "auto"}
