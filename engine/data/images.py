"""The user's own pictures: a folder with one subfolder of images per class.

``photos/cat/*.png``, ``photos/dog/*.jpg``: the subfolder names are the class names
(sorted). Every image is read with Pillow, converted to grey or RGB (``color``:
``grey``, ``rgb`` or ``auto``, which picks grey when every image is grey) and resized to
``size`` (height, width); pixels are scaled to [0, 1]. A file Pillow cannot read, one
that is not a regular file (a pipe, a device) and one that declares a huge picture are
named in the error.

``scan_images`` lists the folder and settles the colour (its progress goes to a
``progress`` function), ``read_all`` decodes every image into memory, and ``pixels``
decodes one: the streamed path (``image_stream``) decodes with it too, so both give the
same numbers.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.base import Raw
from engine.data.files import check_folder, check_size, is_folder, open_file
from engine.errors import DataError
from engine.progress import Steps

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


def _files(folder: Path) -> list[tuple[str, int, int]]:
    """The images of a class folder, sorted by name: (path, size, modification time)."""
    # anything named like an image but a folder is skipped; a pipe or a device so named
    # is refused when it is opened
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if Path(entry.name).suffix.lower() not in IMAGE_SUFFIXES:
                continue
            try:
                info = os.stat(entry.path)
            except (OSError, ValueError):
                info = None  # a looping link: named when it is opened
            if info is not None and stat.S_ISDIR(info.st_mode):
                continue
            found.append((entry.path, info.st_size if info else 0, info.st_mtime_ns if info else 0))
    if not found:
        raise DataError(f"class folder {folder.name!r} holds no images (.png, .jpg, ...)")
    return sorted(found)


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


def pixels(file, mode: str, size) -> np.ndarray:
    """One image as uint8 ``(channels, height, width)``: converted to ``mode`` (``L`` or
    ``RGB``) and resized to ``size`` (height, width)."""
    from PIL import Image

    with _open_image(Path(file)) as image:
        if image.mode != mode:
            image = image.convert(mode)
        if image.size != (size[1], size[0]):  # Pillow copies even when nothing changes
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        values = np.asarray(image, dtype=np.uint8)
    return values[None] if values.ndim == 2 else values.transpose(2, 0, 1)


def _all_grey(files: list[str], progress=None) -> bool:
    steps = Steps(progress, "checking image colours", len(files))
    for done, file in enumerate(files, start=1):
        with _open_image(Path(file)) as image:
            if image.mode not in ("L", "1", "I", "I;16", "LA"):
                steps.tell(len(files))
                return False
        steps.tell(done)
    return True


@dataclass
class Scan:
    """An image folder listed: its files and classes, and how its images are read.

    Attributes:
        root: the folder.
        files: every image, class by class, each class sorted by name.
        stats: each file's (size, modification time in ns): what the cache is keyed by.
        labels: each file's class index; ``names``: the class (subfolder) names.
        mode: ``L`` (grey) or ``RGB``; ``size``: (height, width) after resizing.
    """

    root: Path
    files: list[str]
    stats: list[tuple[int, int]]
    labels: np.ndarray
    names: list[str]
    mode: str
    size: tuple[int, int]

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        return (3 if self.mode == "RGB" else 1, *self.size)

    @property
    def estimate(self) -> int:
        """Bytes the images take in memory as float32."""
        return 4 * len(self.files) * math.prod(self.sample_shape)

    def description(self) -> str:
        return f"{self.root.name}: {len(self.files)} images in {len(self.names)} classes"


def scan_images(params: dict, progress=None) -> Scan:
    """List an image folder and settle its colour (see the module docstring)."""
    root = Path(params["path"])
    size = params["size"]
    if not (isinstance(size, list | tuple) and len(size) == 2 and all(
            isinstance(s, int) and s > 0 for s in size)):  # fmt: skip
        raise DataError('"size" must be [height, width] in pixels, e.g. [32, 32]')
    color = params["color"]
    if color not in ("grey", "gray", "rgb", "auto"):
        raise DataError('"color" must be "grey", "rgb" or "auto"')
    folders = _class_folders(root)
    listed = [(label, found) for label, folder in enumerate(folders) for found in _files(folder)]
    files = [found[0] for _, found in listed]
    if color == "auto":
        color = "grey" if _all_grey(files, progress) else "rgb"
    return Scan(root, files, [found[1:] for _, found in listed],
                np.array([label for label, _ in listed], dtype=np.int64),
                [folder.name for folder in folders], "RGB" if color == "rgb" else "L",
                (size[0], size[1]))  # fmt: skip


def read_all(scan: Scan, progress=None) -> Raw:
    """Every image of ``scan`` decoded into memory, pixels scaled to [0, 1]."""
    check_size(scan.root.name, scan.estimate, f"{len(scan.files)} images")
    x = np.empty((len(scan.files), *scan.sample_shape), np.float32)
    steps = Steps(progress, "reading images", len(scan.files))
    for index, file in enumerate(scan.files):
        x[index] = pixels(file, scan.mode, scan.size)
        steps.tell(index + 1)
    x /= 255.0
    return Raw(x, scan.labels, "classification", "image", list(scan.names),
               scan.description(), x_scale=255.0)  # fmt: skip


def load_images(params: dict, seed: int, progress=None) -> Raw:
    """Read an image folder into memory (see the module docstring)."""
    return read_all(scan_images(params, progress), progress)


IMAGE_PARAMS = {"path": None, "size": [32, 32], "color": "auto", "cache": "auto"}
