"""Whether a user's file may be replaced, and the mode a new file gets.

Every writer of a user's file (``engine.project.write_atomic`` and ``save``, the
exporters, checkpoints, ``metrics.csv``) asks ``refuse_read_only`` first. An atomic save
renames a temporary file over the target, which the folder's permission allows even
when the file itself is read-only, and root passes every ``os.access`` check: so the
file's own mode bits are read. A file without its owner's write bit, or one this user
may not write, is left as it is and the writer says so in one sentence.

New files get the mode the user's umask gives (``0o666 & ~umask``, usually 0644), the
same for weights, checkpoints, metrics and projects; a replaced file keeps its mode.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from engine.errors import ProjectError

_UMASK_LOCK = threading.Lock()


def is_read_only(path: str | os.PathLike) -> bool:
    """Whether ``path`` is an existing file that must not be replaced.

    True when its owner has no write bit, or when this user may not write it.
    """
    try:
        info = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    return not info.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK)


def refuse_read_only(path: str | os.PathLike) -> None:
    """Raise ProjectError when ``path`` is a read-only file (see ``is_read_only``)."""
    if is_read_only(path):
        raise ProjectError(
            f"{path} is read-only, so it was not replaced; make it writable "
            "(chmod u+w) or write to another file"
        )


def cannot_write_in(folder: str | os.PathLike, create: bool = True) -> str | None:
    """Why no file can be written in ``folder`` (created first when ``create``), or None.

    A probe file is made and removed: a folder's mode bits do not tell (root, ACLs,
    read-only mounts).
    """
    import tempfile

    try:
        if create:
            Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def mode_for(path: str | os.PathLike) -> int:
    """The permission bits a file written to ``path`` gets: those of the file it
    replaces, or for a new file ``0o666`` less the umask."""
    try:
        return Path(path).stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~umask()


__all__ = ["is_read_only", "mode_for", "refuse_read_only", "umask"]
