"""Opening the user's data files: regular files only, declared sizes checked first.

A data path can name anything: a named pipe (reading it waits for a writer that never
comes), a device (``/dev/zero`` never ends), a socket, a symbolic link that loops, a
folder. ``open_file`` looks at what the path is before opening it, opens without
waiting (``O_NONBLOCK``, so even a pipe swapped in meanwhile cannot block) and checks
what it opened, so every reader gets a regular file or one ``DataError`` sentence at
once. ``check_folder`` does the same for folders.

A small file can declare a huge content: an array header, an image's pixel count, a
gzip stream. ``check_size`` refuses a declared size beyond what this computer can hold
(half its memory) and ``check_ratio`` one that its compressed bytes cannot hold (deflate
shrinks at most about 1032 to 1), before anything that size is allocated.
"""

from __future__ import annotations

import errno
import os
import stat
from functools import cache
from pathlib import Path
from typing import BinaryIO

from engine.errors import DataError

MAX_DEFLATE_RATIO = 1032  # zlib's best case: 1032 bytes out per byte in
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a pipe opens at once instead of waiting for a writer
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_BINARY", 0)
)


def _what(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def _not_regular(path: Path, what: str, expected: str) -> DataError:
    return DataError(f"{path}: is {what}, not {expected}; use a regular file")


def _stat_error(path: Path, error: OSError, missing: str) -> DataError:
    if isinstance(error, FileNotFoundError):
        return DataError(f"{path}: {missing}")
    if error.errno == errno.ELOOP:
        return DataError(f"{path}: is a symbolic link that loops back on itself")
    return DataError(f"{path}: cannot be read ({error.strerror or error})")


def _stat(path: Path, missing: str) -> os.stat_result:
    try:
        return os.stat(path)
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        if isinstance(error, ValueError):
            raise DataError(f"{path!r}: not a valid file name") from None
        raise _stat_error(path, error, missing) from None


def open_file(path: Path, expected: str = "a data file") -> BinaryIO:
    """``path`` opened for reading in binary, if it is a regular file.

    Raises:
        DataError: it is missing, a folder, a pipe, a device, a socket, a looping link
            or unreadable; the sentence names the path.
    """
    what = _what(_stat(path, "no such file").st_mode)
    if what is not None:  # refused before opening: opening a device can have effects
        raise _not_regular(path, what, expected)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise _stat_error(path, error, "no such file") from None
    try:
        what = _what(os.fstat(descriptor).st_mode)  # the file opened, not the name
        if what is not None:
            raise _not_regular(path, what, expected)
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_file(path: Path, expected: str = "a data file", expansion: int = 1) -> bytes:
    """All bytes of the regular file ``path`` (see ``open_file``), its size checked first:
    ``expansion`` times it must fit in memory (what reading it will take)."""
    with open_file(path, expected) as stream:
        check_size(path.name, expansion * file_size(stream), "reading the file")
        try:
            return stream.read()
        except OSError as error:
            raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def file_size(stream: BinaryIO) -> int:
    """The size in bytes of an open file."""
    return os.fstat(stream.fileno()).st_size


def check_folder(path: Path, missing: str = "no such folder", hint: str = "") -> Path:
    """``path`` if it is a folder (links followed), else one ``DataError`` sentence
    (``hint`` ends it: what the folder should hold)."""
    what = _what(_stat(path, missing).st_mode)
    if what != "a folder":
        raise DataError(f"{path}: is {what or 'a file'}, not a folder{hint}")
    return path


def is_folder(path: Path) -> bool:
    """Whether ``path`` is a folder; a looping link or an unreadable entry is not."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


@cache
def memory_limit() -> int:
    """The most bytes one dataset may declare: half this computer's memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 8 << 30  # not POSIX: assume a modest 8 GB
    return max(total // 2, 1 << 30)


def fmt_bytes(count: int) -> str:
    """``1.5 GB``, ``640 KB`` (a declared size can be too large for a float)."""
    if count >= 10**18:
        return "more than 1000 PB"
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if value < 1000 or unit == "PB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError  # unreachable


def check_size(where: str, declared: int, what: str) -> None:
    """Refuse ``declared`` bytes of ``what`` beyond ``memory_limit()``."""
    if declared > memory_limit():
        raise DataError(
            f"{where}: {what} would take {fmt_bytes(declared)}, more than this computer "
            f"can hold (the limit is {fmt_bytes(memory_limit())}); use a smaller file"
        )


def check_ratio(where: str, declared: int, compressed: int, what: str) -> None:
    """Refuse ``declared`` bytes that ``compressed`` bytes of deflate cannot hold."""
    if declared > compressed * MAX_DEFLATE_RATIO + 1024:
        raise DataError(
            f"{where}: {what} declares {fmt_bytes(declared)} but only "
            f"{fmt_bytes(compressed)} are stored, more than compression can hold "
            "(a damaged or hostile file)"
        )
