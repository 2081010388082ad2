"""Decoded images kept on disk, so that only the first epoch decodes them.

A streamed image folder is decoded and resized in the data workers on every epoch
unless its images are cached: ``ImageCache`` keeps them as raw uint8 ``(N, C, H, W)``
in one file, read through a memory map. The cache lives beside the project, in
``<folder name>_cache/`` (a later run, and the app, reuse it), and is keyed by a hash of
the file list with each file's size and modification time, the size and the colour
mode: a changed folder or setting gets a new cache.

It is never used half-written. While the first epoch fills it, the images go into a
``.part`` file with a flag per image, named after the process that fills it (under
torchrun, the launcher: its ranks fill one file together); once every flag is set the
part file is flushed and renamed, then ``.json`` (the key and shape) is written beside
it, so the pair is whole. A cache whose description is missing, unreadable or does not
match its file's size is removed and built again; part files of processes that are gone
are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

from engine.data.files import fmt_bytes

FORMAT, VERSION = "deepwire image cache", 1
MARGIN = 256 << 20  # disk left free after the cache


def cache_key(root, files: list[str], stats, mode: str, size) -> str:
    """16 hex digits naming the images of ``files`` (by their names in the folder
    ``root``, however it was reached) decoded in ``mode`` at ``size``."""
    digest = hashlib.sha256(json.dumps([VERSION, mode, list(size)]).encode())
    for file, (length, mtime) in zip(files, stats, strict=True):
        digest.update(f"{os.path.relpath(file, root)}\0{length}\0{mtime}\n".encode())
    return digest.hexdigest()[:16]


def _owner() -> int:
    """The process a part file belongs to: torchrun's launcher for its ranks, else us."""
    return os.getppid() if os.environ.get("TORCHELASTIC_RUN_ID") else os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _free_space(folder: Path) -> int:
    """Free bytes on the disk ``folder`` would be on (its nearest existing parent's)."""
    for place in (folder, *folder.parents):
        if place.exists():
            return shutil.disk_usage(place).free
    return 0


class ImageCache:
    """The cache of one image folder at one size (see the module docstring).

    Args:
        folder: where the cache files go.
        key: ``cache_key`` of the images.
        shape: ``(N, C, H, W)``.
    """

    def __init__(self, folder: Path, key: str, shape):
        self.folder, self.key = Path(folder), key
        self.shape = tuple(int(s) for s in shape)
        name = f"{self.shape[2]}x{self.shape[3]}-{self.shape[1]}ch-{key}"
        self.final, self.meta = self.folder / f"{name}.u8", self.folder / f"{name}.json"
        self.part = self.folder / f"{name}.{_owner()}.part"
        self.flags_path = self.folder / f"{name}.{_owner()}.flags"
        self.complete = self._whole()
        self.broken = False  # writing failed here (disk full, read-only): decode instead
        self._data = self._flags = None

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_data": None, "_flags": None}

    def _whole(self) -> bool:
        """Whether a finished cache is there; a damaged one is removed (only here, in the
        process that opens the cache: a worker may see one between rename and ``.json``)."""
        if not self.final.exists() and not self.meta.exists():
            return False
        whole = self._described()
        if not whole:
            for path in (self.final, self.meta):
                with contextlib.suppress(OSError):
                    path.unlink()
        return whole

    def _described(self) -> bool:
        """Whether ``.json`` describes this cache and the file has its size."""
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
            described = (meta.get("format"), meta.get("version"), meta.get("key"),
                         meta.get("shape")) == (FORMAT, VERSION, self.key, list(self.shape))  # fmt: skip
            return described and self.final.stat().st_size == self.nbytes
        except (OSError, ValueError, AttributeError):
            return False

    def fits(self) -> tuple[bool, str]:
        """Whether the cache can be made here: (True, "") or (False, the sentence why not)."""
        free = _free_space(self.folder)
        if self.nbytes + self.shape[0] + MARGIN > free:
            return False, (
                f"the cache would take {fmt_bytes(self.nbytes)} but the disk has "
                f"{fmt_bytes(free)} free"
            )
        return True, ""

    def remove_stale(self) -> None:
        """Remove part files of processes that have ended (an interrupted first epoch)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.part"):
            owner = path.suffixes[-2][1:] if len(path.suffixes) >= 2 else ""
            if owner.isdigit() and not _alive(int(owner)):
                for stale in (path, path.with_suffix(".flags")):
                    with contextlib.suppress(OSError):
                        stale.unlink()

    # -- reading and filling, in any process ----------------------------------------------
    def get(self, index: int) -> np.ndarray | None:
        """Image ``index`` as uint8 ``(C, H, W)``, or None when it is not cached yet."""
        if self.complete:
            if self._data is None:
                self._data = np.memmap(self.final, np.uint8, "r", shape=self.shape)
            return self._data[index]
        if self._data is None and self.final.exists() and self._described():
            self.complete = True  # made whole meanwhile by another process
            return self.get(index)
        if self.broken or not self._open_part(create=False):
            return None
        return self._data[index] if self._flags[index] else None

    def put(self, index: int, pixels: np.ndarray) -> None:
        """Keep image ``index``; a cache that cannot be written is given up quietly."""
        if self.complete or self.broken:
            return
        try:
            if self._open_part(create=True):
                self._data[index] = pixels
                self._flags[index] = 1
        except OSError:
            self.broken = True

    def _open_part(self, create: bool) -> bool:
        if self._data is not None:
            return True
        if not create and not self.flags_path.exists():
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _allocate(self.part, self.nbytes)
            _allocate(self.flags_path, self.shape[0])
            self._flags = np.memmap(self.flags_path, np.uint8, "r+", shape=(self.shape[0],))
            self._data = np.memmap(self.part, np.uint8, "r+", shape=self.shape)
        except (OSError, ValueError):
            self.broken, self._data, self._flags = True, None, None
            return False
        return True

    def finish(self) -> bool:
        """Make the cache whole once every image is in it (from the main process, after
        an epoch); True when it is whole."""
        if self.complete:
            return True
        if self.broken or not self._open_part(create=False) or not self._flags.all():
            return False
        try:
            self._data.flush()
            _sync(self.part)
            os.replace(self.part, self.final)
            text = json.dumps({"format": FORMAT, "version": VERSION, "key": self.key,
                               "shape": list(self.shape)})  # fmt: skip
            temporary = self.meta.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(text, encoding="utf-8")
            _sync(temporary)
            os.replace(temporary, self.meta)
            self.flags_path.unlink()
        except OSError:
            return False
        self.complete = True
        self._data = self._flags = None
        return True


def _allocate(path: Path, size: int) -> None:
    """Create ``path`` holding ``size`` bytes (reserved on disk where the system can, so
    that a full disk fails here rather than in a write through the map)."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(descriptor).st_size != size:
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(descriptor, 0, size)
            os.ftruncate(descriptor, size)
    finally:
        os.close(descriptor)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
