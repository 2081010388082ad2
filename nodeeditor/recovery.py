"""Autosave and crash recovery: unsaved work survives a crash or ``kill -9``.

Each window keeps a recovery copy of its unsaved document in the recovery folder
(``QStandardPaths.AppDataLocation/recovery``, or ``$DEEPWIRE_RECOVERY_DIR``), never
beside or over the user's own file. A copy is ``KEY.dwire`` (the project text, written
atomically) plus ``KEY.json`` (the original path, the title and the time), and
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
"""

from __future__ import annotations

import json
import os
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

    def write(self, document: Document) -> None:
        """Write the document's project, then the sidecar, atomically; ProjectError."""
        self.folder.mkdir(parents=True, exist_ok=True)
        text = project_file.dumps(document.project).encode("utf-8")
        project_file.write_atomic(self.project_path, text)
        info = {
            "original": str(document.path) if document.path else None,
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
        document.undo_stack.indexChanged.connect(self._on_changed)
        document.undo_stack.cleanChanged.connect(self._on_changed)
        self._on_changed()

    def adopt(self, recovered: Copy, lock) -> None:
        """Keep using a restored copy (and its lock) for the current document."""
        self.discard()
        self._release()
        self.copy, self.lock = recovered, lock
        self._on_changed()

    def write_now(self) -> bool:
        """Write the copy now if the document has unsaved changes; True if written."""
        self.timer.stop()
        if self.document is None or not self.document.modified:
            return False
        try:
            if self.lock is None:
                self.lock = try_lock(self.copy.lock_path)
            self.copy.write(self.document)
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
        if self.document is None or self.sender() not in (None, self.document.undo_stack):
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
            document = restored_document(copy, info.get("original"))
        except DeepwireError as error:
            dialogs.show_error(window, "Cannot restore this work", str(error))
            _drop_lock(copy, lock)
            continue
        target = window if not shown and not window.document.modified else _new_window(window)
        target.set_document(document)
        attach(target, document).adopt(copy, lock)
        shown.append(target)
    return shown


def restored_document(copy: Copy, original: str | None) -> Document:
    """The copy's project as a modified document whose path is the original file."""
    project = project_file.load(copy.project_path)
    document = Document(project, original or None)
    document.undo_stack.resetClean()
    return document


def _new_window(window):
    other = type(window)(settings=window.settings)
    window.restored_windows = [*getattr(window, "restored_windows", []), other]
    other.show()
    return other


def _drop_lock(copy: Copy, lock) -> None:
    lock.close()
    if not copy.info_path.exists():
        copy.lock_path.unlink(missing_ok=True)
