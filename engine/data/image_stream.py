"""An image folder read image by image, in the data workers, through the cache.

``ImageReader`` decodes and resizes the images a batch asks for (``images.pixels``, the
function the in-memory path decodes with, so both give the same numbers), and keeps them
in the ``ImageCache`` when there is one. ``open_cache`` decides whether there is: the
``cache`` param is ``auto`` (on when the cache fits the free disk, keeping 256 MB free),
``on`` or ``off``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.data.image_cache import ImageCache, cache_key
from engine.data.images import Scan, pixels, read_all, scan_images
from engine.data.lazy import Lazy, Probe
from engine.errors import DataError

CACHE_CHOICES = ("auto", "on", "off")


class ImageReader:
    """The images of a ``Scan`` as float32 samples in [0, 1] (see the module docstring)."""

    dtype = "float32"
    finite = True  # pixels are whole numbers: no batch needs a NaN check

    def __init__(self, scan: Scan, cache: ImageCache | None):
        self.files, self.mode, self.size = scan.files, scan.mode, scan.size
        self.sample_shape, self.count, self.cache = scan.sample_shape, len(scan.files), cache

    def pass_done(self) -> None:
        """Every image was read once: the cache can become whole."""
        if self.cache is not None:
            self.cache.finish()

    def read(self, indices) -> np.ndarray:
        """The images at ``indices``, decoded (or taken from the cache), in [0, 1]."""
        out = self.read_pixels(indices).astype(np.float32)
        out /= 255.0  # as the in-memory path scales
        return out

    def read_pixels(self, indices) -> np.ndarray:
        """The images at ``indices`` as uint8 ``(N, C, H, W)``."""
        out = np.empty((len(indices), *self.sample_shape), np.uint8)
        for row, index in enumerate(np.asarray(indices, np.int64).tolist()):
            out[row] = self.decoded(index)
        return out

    def decoded(self, index: int) -> np.ndarray:
        """Image ``index`` as uint8 ``(C, H, W)``."""
        cached = self.cache.get(index) if self.cache is not None else None
        if cached is not None:
            return cached
        values = pixels(self.files[index], self.mode, self.size)
        if self.cache is not None:
            self.cache.put(index, values)
        return values


def cache_folder(root: Path, base_dir) -> Path:
    """``<folder name>_cache`` beside the project (or beside the data without one)."""
    return Path(base_dir if base_dir is not None else root.parent).absolute() / f"{root.name}_cache"


def open_cache(scan: Scan, setting: str, base_dir) -> tuple[ImageCache | None, str]:
    """The cache for ``scan`` (None when off) and a sentence on it for the user."""
    if setting not in CACHE_CHOICES:
        raise DataError(f'"cache" must be one of {", ".join(CACHE_CHOICES)}, not {setting!r}')
    if setting == "off":
        return None, ""
    folder = cache_folder(scan.root, base_dir)
    key = cache_key(scan.root, scan.files, scan.stats, scan.mode, scan.size)
    cache = ImageCache(folder, key, (len(scan.files), *scan.sample_shape))
    cache.remove_stale()
    if cache.complete:
        return cache, f"the decoded images come from the cache in {folder}"
    fits, why = cache.fits()
    if not fits:
        return None, f"the decoded images are not cached: {why}"
    return cache, f"the first epoch caches the decoded images in {folder}"


def probe_images(params: dict, seed: int, progress=None, base_dir=None) -> Probe:
    """An image folder, listed (and its colour settled): read whole into memory, or
    streamed image by image through the cache."""
    scan = scan_images(params, progress)

    def materialize(progress=None):
        return read_all(scan, progress)

    def open_(_progress=None) -> Lazy:
        cache, note = open_cache(scan, params["cache"], base_dir)
        return Lazy(ImageReader(scan, cache), scan.labels, "classification", "image",
                    list(scan.names), scan.description(), x_scale=255.0, what="images",
                    note=note)  # fmt: skip

    return Probe(scan.estimate, materialize, open_)
