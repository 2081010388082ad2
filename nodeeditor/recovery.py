"""Autosave and crash recovery: unsaved work survives a crash or ``kill -9``.

Each window keeps a recovery copy of its unsaved document in the recovery folder
(``QStandardPaths.AppDataLocation/recovery``, or ``$DEEPWIRE_RECOVERY_DIR``), never
beside or over the user's own file. A copy is ``KEY.dwire`` (the project text, written
atomically) plus ``KEY.json`` (the original file, the title and the time), and
``KEY.lock``, which the window holds locked while it lives; the operating system drops
the lock when the process dies, however it dies, so a copy whose lock can be taken
belongs to a crashed session.

The ``AutoSaver`` writes a copy at most ``autosave_seconds()`` (default 15, or
``$DEEPWIRE_AUTOSAVE_SECONDS``) after the first unsaved edit, so a copy is never older
than that; it deletes the copy when the document becomes clean (saved, or undone back
to the saved state) and when the window closes cleanly. At the next start
``offer_restore(window)`` finds copies of crashed sessions and asks about each
(``ask_restore``, which tests replace): a restored document opens modified, with its original path,
so Save writes there; its copy goes once it is saved or discarded.

The original file is recorded as an absolute path (a path as typed would name another
file when Deepwire next starts in another folder) with the identity of its content when
the document was opened or last saved (``file_identity``). A restored document is bound
to that path only if the file there is still that content; when it is gone or is now
another file, the work is restored as an untitled document, so Save asks for a name
rather than replacing a file the work never came from.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from engine import project as project_file
from engine.errors import DeepwireError
from nodeeditor import dialogs
from nodeeditor.document import Document
from nodeeditor.settings import app_data_dir

DIR_ENV = "DEEPWIRE_RECOVERY_DIR"
SECONDS_ENV = "DEEPWIRE_AUTOSAVE_SECONDS"
DEFAULT_SECONDS = 15.0
RESTORE, DISCARD, LATER = "restore", "discard", "later"


def recovery_dir() -> Path:
    """The folder of recovery copies (``$DEEPWIRE_RECOVERY_DIR`` when set)."""
    return app_data_dir("recovery", DIR_ENV)


def autosave_seconds() -> float:
    """How long after an unsaved edit its recovery copy is written."""
    try:
        value = float(os.environ.get(SECONDS_ENV, DEFAULT_SECONDS))
    except ValueError:
        return DEFAULT_SECONDS
    return value if value > 0 else DEFAULT_SECONDS


# ------------------------------------------------------------------ locks
def try_lock(path: Path):
    """Lock ``path`` for this process; returns the open handle, or None if another
    open handle (in any live process, this one included) holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115 - held open while the lock is held
    try:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


@dataclass
class Copy:
    """One recovery copy: ``KEY.dwire`` + ``KEY.json`` (+ ``KEY.lock``) in ``folder``."""

    folder: Path
    key: str

    @property
    def project_path(self) -> Path:
        return self.folder / f"{self.key}{project_file.SUFFIX}"

    @property
    def info_path(self) -> Path:
        return self.folder / f"{self.key}.json"

    @property
    def lock_path(self) -> Path:
        return self.folder / f"{self.key}.lock"

    def info(self) -> dict:
        """The sidecar: ``original`` (path or None), ``title``, ``time`` (epoch s)."""
        data = json.loads(self.info_path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    def write(self, document: Document, original: dict | None = None) -> None:
        """Write the document's project, then the sidecar, atomically; ProjectError.

        ``original`` is ``{"path": absolute path, "identity": file_identity}`` of the
        file the document was opened from or last saved to.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        text = project_file.dumps(document.project).encode("utf-8")
        project_file.write_atomic(self.project_path, text)
        original = original or {}
        info = {
            "original": original.get("path"),
            "identity": original.get("identity"),
            "title": document.title,
            "time": time.time(),
            "pid": os.getpid(),
        }
        project_file.write_atomic(self.info_path, json.dumps(info, indent=2).encode("utf-8"))

    def remove(self) -> None:
        """Delete the copy and its sidecar (the lock file stays with its holder)."""
        for path in (self.info_path, self.project_path):
            path.unlink(missing_ok=True)


class AutoSaver(QObject):
    """Keeps the recovery copy of one window's document up to date."""

    def __init__(self, parent=None, folder: Path | None = None, seconds: float | None = None):
        super().__init__(parent)
        self.copy = Copy(folder or recovery_dir(), uuid.uuid4().hex[:12])
        self.seconds = seconds or autosave_seconds()
        self.document: Document | None = None
        self.original: dict | None = None  # the document's file as last opened or saved
        self.lock = None
        self.error: str | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.write_now)

    def watch(self, document: Document) -> None:
        """Follow ``document`` instead of the previous one, whose copy goes."""
        if document is self.document:
            return
        self.discard()
        self.document = document
        self.note_saved()
        document.changed.connect(self._on_changed)  # any network's edit, undo or save
        self._on_changed()

    def adopt(self, recovered: Copy, lock) -> None:
        """Keep using a restored copy (and its lock) for the current document."""
        self.discard()
        self._release()
        self.copy, self.lock = recovered, lock
        self._on_changed()

    def note_saved(self) -> None:
        """Remember which file the document now matches (after opening or saving it)."""
        path = self.document.path if self.document is not None else None
        self.original = original_of(path) if path else None

    def write_now(self) -> bool:
        """Write the copy now if the document has unsaved changes; True if written."""
        self.timer.stop()
        if self.document is None or not self.document.modified:
            return False
        try:
            if self.lock is None:
                self.lock = try_lock(self.copy.lock_path)
            self.copy.write(self.document, self.original)
        except (DeepwireError, OSError) as error:
            self._report(f"Cannot keep a recovery copy: {error}")
            return False
        self.error = None
        return True

    def discard(self) -> None:
        """Delete the copy: the work is saved or deliberately thrown away."""
        self.timer.stop()
        try:
            self.copy.remove()
        except OSError as error:
            self._report(f"Cannot remove the recovery copy: {error}")

    def close(self) -> None:
        """The window closed cleanly: delete the copy and let go of its lock."""
        self.discard()
        self.document = None
        self._release()

    def _on_changed(self, *args) -> None:
        if self.document is None or self.sender() not in (None, self.document):
            return
        if not self.document.modified:
            self.discard()
        elif not self.timer.isActive():
            self.timer.start(int(self.seconds * 1000))

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None
            self.copy.lock_path.unlink(missing_ok=True)

    def _report(self, message: str) -> None:
        if message != self.error:  # once, not every few seconds
            self.error = message
            show = getattr(self.parent(), "show_message", None)
            if show is not None:
                show(message)


# ------------------------------------------------------------------ hooks
def attach(window, document: Document) -> AutoSaver:
    """Give ``window`` an AutoSaver (once) and let it follow ``document``."""
    saver = getattr(window, "autosaver", None)
    if saver is None:
        saver = window.autosaver = AutoSaver(window)
    saver.watch(document)
    return saver


def saved(window) -> None:
    """``window``'s document was just saved: its file is the one to restore into."""
    saver = getattr(window, "autosaver", None)
    if saver is not None:
        saver.note_saved()


def original_of(path: str | os.PathLike) -> dict:
    """The record of the file at ``path``: absolute path and identity (see the module)."""
    absolute = Path(path).resolve()
    return {"path": str(absolute), "identity": file_identity(absolute)}


def file_identity(path: str | os.PathLike) -> dict | None:
    """Size and SHA-256 of the file's content, or None when it is not a project-sized
    regular file (a pipe or a device now at that path is never read)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > project_file.MAX_BYTES:
            return None
        content = Path(path).read_bytes()
    except OSError:
        return None
    return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def detach(window) -> None:
    """The window closed cleanly: its recovery copy goes."""
    saver = getattr(window, "autosaver", None)
    if saver is not None:
        saver.close()


# ------------------------------------------------------------------ restoring
def ask_restore(parent: QWidget, title: str, stamp: float | None) -> str:
    """Ask whether to restore unsaved work of a crashed session.

    Returns:
        RESTORE, DISCARD, or LATER (keep the copy and ask again at the next start).
    """
    try:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(stamp)))
    except (TypeError, ValueError, OverflowError, OSError):
        when = "recently"
    button = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Restore unsaved work?",
        f"Deepwire was closed unexpectedly while {title} had unsaved changes (kept at "
        f"{when}). Restore them? Discard deletes the copy; Cancel asks again next time.",
        button.Yes | button.Discard | button.Cancel,
        button.Yes,
    )
    if answer == button.Yes:
        return RESTORE
    return DISCARD if answer == button.Discard else LATER


def orphans(folder: Path | None = None) -> list[tuple[Copy, object]]:
    """Copies left by sessions that are no longer running, newest first, each with its
    lock (now held by this process until the copy is restored or dropped)."""
    folder = folder or recovery_dir()
    found = []
    for info_path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        copy = Copy(folder, info_path.stem)
        lock = try_lock(copy.lock_path)
        if lock is None:
            continue  # its window is still open in a running Deepwire
        try:
            stamp = float(copy.info().get("time", 0))
            if not copy.project_path.is_file():
                raise ValueError("no project text")
        except (OSError, ValueError, TypeError):
            copy.remove()
            _drop_lock(copy, lock)
            continue
        found.append((stamp, copy, lock))
    found.sort(key=lambda entry: -entry[0])
    return [(copy, lock) for _, copy, lock in found]


def offer_restore(window, folder: Path | None = None) -> list:
    """Ask about every copy of a crashed session; restore the accepted ones.

    The first restored document replaces ``window``'s document when that one is
    unmodified; others open in new windows. Discarded copies are deleted; copies the
    user postpones stay for the next start.

    Returns:
        The windows showing restored documents.
    """
    shown = []
    for copy, lock in orphans(folder):
        info = copy.info()
        answer = ask_restore(window, str(info.get("title") or "Untitled"), info.get("time"))
        if answer == DISCARD:
            copy.remove()
        if answer != RESTORE:
            _drop_lock(copy, lock)
            continue
        try:
            document = restored_document(copy, info)
        except DeepwireError as error:
            dialogs.show_error(window, "Cannot restore this work", str(error))
            _drop_lock(copy, lock)
            continue
        target = window if not shown and not window.document.modified else _new_window(window)
        target.set_document(document)
        attach(target, document).adopt(copy, lock)
        if isinstance(info.get("original"), str) and document.path is None:
            target.show_message(_UNBOUND.format(name=Path(info["original"]).name), 20_000)
        shown.append(target)
    return shown


_UNBOUND = (
    "Restored as Untitled: {name} has changed or is gone since this work was kept, so "
    "Save asks for a name rather than replacing it"
)


def restored_document(copy: Copy, info: dict) -> Document:
    """The copy's project as a modified document.

    Its path is the original file when that is still the file the work was based on
    (same absolute path, same content); otherwise the document is untitled.
    """
    project = project_file.load(copy.project_path)
    document = Document(project, restore_path(info))
    document.undo_stack.resetClean()
    return document


def restore_path(info: dict) -> Path | None:
    """The file a restored document may be saved to, or None (see the module)."""
    original, identity = info.get("original"), info.get("identity")
    if not isinstance(original, str) or not Path(original).is_absolute() or not identity:
        return None
    return Path(original) if file_identity(original) == identity else None


def _new_window(window):
    other = type(window)(settings=window.settings)
    window.restored_windows = [*getattr(window, "restored_windows", []), other]
    other.show()
    return other


def _drop_lock(copy: Copy, lock) -> None:
    lock.close()
    if not copy.info_path.exists():
        copy.lock_path.unlink(missing_ok=True)
