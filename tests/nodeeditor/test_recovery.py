"""Nothing is lost: recovery copies survive kill -9, saves keep a backup, failed saves say so."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import project as project_file
from nodeeditor import commands, dialogs, recovery
from nodeeditor.document import Document
from tests.nodeeditor.app_helpers import (
    EXAMPLE,
    close_window,
    open_window,
    record_errors,
    run_driver_then_kill,
)

# Opens the user's file, makes one edit, waits for its recovery copy, then idles until
# the test kills it with SIGKILL: no cleanup code of the app can run.
DRIVER = """
import os, sys, time
from pathlib import Path
from nodeeditor.app import make_application
from nodeeditor.document import Document
from nodeeditor.window import MainWindow
from nodeeditor import commands
app = make_application()
window = MainWindow(Document.open(sys.argv[1]))
window.show()
commands.set_params(window.document, "fc1", {"out_features": int(sys.argv[2])})
folder = Path(os.environ["DEEPWIRE_RECOVERY_DIR"])
while not list(folder.glob("*.json")):
    app.processEvents()
    time.sleep(0.01)
print("autosaved", flush=True)
while True:
    app.processEvents()
    time.sleep(0.05)
"""


def run_and_kill(user_file, folder, tmp_path, out_features: int = 48) -> None:
    """Edit ``user_file`` in a real app process, wait for its recovery copy, kill -9 it."""
    env = {
        "DEEPWIRE_RECOVERY_DIR": str(folder),
        "DEEPWIRE_AUTOSAVE_SECONDS": "0.2",
        "DEEPWIRE_SETTINGS": str(tmp_path / "driver.ini"),
    }
    run_driver_then_kill(DRIVER, [str(user_file), str(out_features)], env, "autosaved")


def run_in_folder_and_kill(start_folder, typed_path, folder, tmp_path) -> None:
    """Like ``run_and_kill``, with the app started in ``start_folder`` and the file given
    as typed there (a relative path), as ``cd A; deepwire user.dwire`` does."""
    env = {
        "DEEPWIRE_RECOVERY_DIR": str(folder),
        "DEEPWIRE_AUTOSAVE_SECONDS": "0.2",
        "DEEPWIRE_SETTINGS": str(tmp_path / "driver.ini"),
    }
    driver = "import os, sys\nos.chdir(sys.argv[3])\n" + DRIVER
    run_driver_then_kill(driver, [typed_path, "48", str(start_folder)], env, "autosaved")


def two_projects_named_alike(tmp_path):
    """``A/user.dwire`` (the one edited) and ``B/user.dwire``, another project."""
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir()
    b.mkdir()
    shutil.copy(EXAMPLE, a / "user.dwire")
    shutil.copy(EXAMPLE.with_name("digits_cnn.dwire"), b / "user.dwire")
    return a / "user.dwire", b / "user.dwire"


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "mine.dwire"
    shutil.copy(EXAMPLE, path)
    return path


@pytest.fixture
def folder(tmp_path, monkeypatch):
    folder = tmp_path / "recovery"
    monkeypatch.setenv(recovery.DIR_ENV, str(folder))
    monkeypatch.setenv(recovery.SECONDS_ENV, "0.05")
    return folder


def answer_restore(monkeypatch, answer):
    asked = []

    def ask(parent, title, stamp):
        asked.append(title)
        return answer

    monkeypatch.setattr(recovery, "ask_restore", ask)
    return asked


def leftovers(folder):
    return sorted(p.suffix for p in folder.iterdir()) if folder.exists() else []


def test_work_survives_kill_9_and_is_restored_into_the_original_file(
    qtbot, monkeypatch, tmp_path, folder, user_file
):
    before = user_file.read_bytes()
    run_and_kill(user_file, folder, tmp_path)
    assert user_file.read_bytes() == before  # the copy never goes over the user's file
    assert leftovers(folder) == [".dwire", ".json", ".lock"]
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    asked = answer_restore(monkeypatch, recovery.RESTORE)
    assert recovery.offer_restore(window) == [window]
    assert asked == ["mine.dwire"]
    document = window.document
    assert document.network.node("fc1").params["out_features"] == 48
    assert document.modified and window.isWindowModified()
    assert document.path == user_file
    assert user_file.read_bytes() == before
    assert window.save()
    assert project_file.load(user_file).network.node("fc1").params["out_features"] == 48
    assert project_file.backup_path(user_file).read_bytes() == before
    assert leftovers(folder) == [".lock"]  # held by the open window, removed on close
    close_window(window)
    assert leftovers(folder) == []


def test_declined_copies_are_deleted_and_postponed_ones_kept(
    qtbot, monkeypatch, tmp_path, folder, user_file
):
    run_and_kill(user_file, folder, tmp_path)
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    answer_restore(monkeypatch, recovery.LATER)
    assert recovery.offer_restore(window) == []
    assert not window.document.modified
    assert leftovers(folder) == [".dwire", ".json", ".lock"]
    asked = answer_restore(monkeypatch, recovery.DISCARD)
    assert recovery.offer_restore(window) == []
    assert asked == ["mine.dwire"]
    assert leftovers(folder) == []
    close_window(window)


def test_an_edit_is_copied_soon_and_the_copy_goes_on_save_and_on_undo(
    qtbot, monkeypatch, tmp_path, folder, user_file
):
    window = open_window(qtbot, monkeypatch, tmp_path, path=user_file)
    before = user_file.read_bytes()
    commands.set_params(window.document, "fc1", {"out_features": 7})
    qtbot.waitUntil(lambda: (folder / f"{window.autosaver.copy.key}.json").exists())
    copy = project_file.load(window.autosaver.copy.project_path)
    assert copy.network.node("fc1").params["out_features"] == 7
    assert user_file.read_bytes() == before
    window.document.undo_stack.undo()  # back to the saved state: nothing to recover
    assert leftovers(folder) == [".lock"]
    window.document.undo_stack.redo()
    qtbot.waitUntil(lambda: ".json" in leftovers(folder))
    assert window.save()
    assert leftovers(folder) == [".lock"]
    window.close()
    assert leftovers(folder) == []


def test_a_running_windows_copy_is_not_offered_to_another(qtbot, monkeypatch, tmp_path, folder):
    first = open_window(qtbot, monkeypatch, tmp_path)
    commands.set_params(first.document, "fc1", {"out_features": 9})
    assert first.autosaver.write_now()
    second = open_window(qtbot, monkeypatch, tmp_path, path=None)
    asked = answer_restore(monkeypatch, recovery.RESTORE)
    assert recovery.offer_restore(second) == []
    assert asked == []
    close_window(second)
    close_window(first)


def test_a_broken_recovery_copy_is_dropped_without_a_traceback(
    qtbot, monkeypatch, tmp_path, folder
):
    folder.mkdir()
    (folder / "abc.json").write_text("{not json")
    (folder / "abc.dwire").write_text("{}")
    (folder / "def.json").write_text('{"title": "x.dwire", "time": 1}')
    (folder / "def.dwire").write_text('{"format": "deepwire"')
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    answer_restore(monkeypatch, recovery.RESTORE)
    errors = record_errors(monkeypatch)
    assert recovery.offer_restore(window) == []
    assert len(errors) == 1 and "truncated" in errors[0]
    assert not window.document.modified
    close_window(window)


def test_work_typed_as_a_relative_path_restores_into_its_own_file_from_another_folder(
    qtbot, monkeypatch, tmp_path, folder
):
    edited, other = two_projects_named_alike(tmp_path)
    other_before = other.read_bytes()
    run_in_folder_and_kill(edited.parent, "user.dwire", folder, tmp_path)
    monkeypatch.chdir(other.parent)  # the next start is in B, where user.dwire is B's own
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    answer_restore(monkeypatch, recovery.RESTORE)
    assert recovery.offer_restore(window) == [window]
    assert window.document.path == edited
    assert window.save()
    assert other.read_bytes() == other_before
    assert project_file.load(edited).network.node("fc1").params["out_features"] == 48
    close_window(window)


def test_work_whose_file_changed_since_restores_untitled_and_save_asks_for_a_name(
    qtbot, monkeypatch, tmp_path, folder, user_file
):
    run_and_kill(user_file, folder, tmp_path)
    pulled = EXAMPLE.with_name("digits_cnn.dwire").read_bytes()
    user_file.write_bytes(pulled)  # e.g. `git pull` brought another version meanwhile
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    answer_restore(monkeypatch, recovery.RESTORE)
    messages = []
    monkeypatch.setattr(window, "show_message", lambda text, *a: messages.append(text))
    assert recovery.offer_restore(window) == [window]
    assert window.document.path is None and window.document.modified
    assert "Restored as Untitled: mine.dwire has changed" in messages[0]
    elsewhere = tmp_path / "kept.dwire"
    monkeypatch.setattr(dialogs, "save_path", lambda parent, suggestion="": elsewhere)
    assert window.save()
    assert user_file.read_bytes() == pulled
    assert project_file.load(elsewhere).network.node("fc1").params["out_features"] == 48
    close_window(window)


# What happens to the user's file between the crash and the next start, and whether the
# restored work may then be saved into it.
AFTER_CRASH = {
    "untouched": True,
    "rewritten with the same bytes": True,  # a new inode and time: still the same content
    "edited": False,
    "replaced by another project": False,
    "deleted": False,
    "replaced by a folder": False,
    "replaced by a pipe": False,  # never read: it would block the start for ever
}


@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    change=st.sampled_from(sorted(AFTER_CRASH)),
    typed=st.sampled_from(["user.dwire", "./user.dwire", "../A/user.dwire"]),
    start_elsewhere=st.booleans(),
)
def test_a_restored_document_is_bound_only_to_the_same_file(
    qtbot, tmp_path_factory, change, typed, start_elsewhere
):
    tmp = tmp_path_factory.mktemp("restore")
    edited, other = two_projects_named_alike(tmp)
    with contextlib.chdir(edited.parent):
        document = Document.open(typed)
        saver = recovery.AutoSaver(folder=tmp / "recovery", seconds=60)
        saver.watch(document)
        commands.set_params(document, "fc1", {"out_features": 7})
        assert saver.write_now()
    change_after_crash(edited, change)
    with contextlib.chdir(other.parent if start_elsewhere else edited.parent):
        restored = recovery.restored_document(saver.copy, saver.copy.info())
    assert restored.path == (edited if AFTER_CRASH[change] else None)
    assert restored.network.node("fc1").params["out_features"] == 7 and restored.modified
    saver.close()


def change_after_crash(path, change: str) -> None:
    if change == "rewritten with the same bytes":
        content = path.read_bytes()
        path.unlink()
        path.write_bytes(content)
    elif change == "edited":
        path.write_text(path.read_text().replace('"out_features": 64', '"out_features": 65'))
    elif change == "replaced by another project":
        shutil.copy(EXAMPLE.with_name("digits_cnn.dwire"), path)
    elif change in ("deleted", "replaced by a folder", "replaced by a pipe"):
        path.unlink()
        if change == "replaced by a folder":
            path.mkdir()
        elif change == "replaced by a pipe":
            os.mkfifo(path)


@pytest.mark.parametrize(
    "original", [5, ["/etc/passwd"], "relative.dwire", "/dev/zero", None, "/no/such/file.dwire"]
)
def test_a_crafted_sidecar_restores_untitled_without_a_traceback(
    qtbot, monkeypatch, tmp_path, folder, original
):
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "abc.dwire")
    info = {"original": original, "identity": {"size": 0, "sha256": "0"}, "title": "x", "time": 1}
    (folder / "abc.json").write_text(json.dumps(info))
    window = open_window(qtbot, monkeypatch, tmp_path, path=None)
    answer_restore(monkeypatch, recovery.RESTORE)
    assert recovery.offer_restore(window) == [window]
    assert window.document.path is None and window.document.modified
    close_window(window)


# ------------------------------------------------------------------ saving


def test_each_save_keeps_the_previous_file_as_a_backup(qtbot, monkeypatch, tmp_path, user_file):
    window = open_window(qtbot, monkeypatch, tmp_path, path=user_file)
    first = user_file.read_bytes()
    commands.set_params(window.document, "fc1", {"out_features": 5})
    assert window.save()
    backup = project_file.backup_path(user_file)
    assert backup.name == "mine.dwire.bak" and backup.read_bytes() == first
    second = user_file.read_bytes()
    commands.set_params(window.document, "fc1", {"out_features": 6})
    assert window.save()
    assert backup.read_bytes() == second
    assert project_file.load(user_file).network.node("fc1").params["out_features"] == 6
    close_window(window)


def saved_twice(qtbot, monkeypatch, tmp_path, user_file):
    """A window on ``user_file`` saved once (so it has a backup), then edited again."""
    window = open_window(qtbot, monkeypatch, tmp_path, path=user_file)
    commands.set_params(window.document, "fc1", {"out_features": 5})
    assert window.save()
    commands.set_params(window.document, "fc1", {"out_features": 6})
    return window, user_file.read_bytes(), project_file.backup_path(user_file).read_bytes()


def assert_nothing_lost(window, errors, user_file, old, old_backup):
    assert len(errors) == 1 and "not saved" in errors[0]
    assert window.document.modified and window.isWindowModified()
    assert window.document.network.node("fc1").params["out_features"] == 6
    assert user_file.read_bytes() == old
    assert project_file.backup_path(user_file).read_bytes() == old_backup
    assert sorted(p.name for p in user_file.parent.glob("*.dwire*")) == [
        "mine.dwire",
        "mine.dwire.bak",
    ]


@pytest.mark.parametrize("where", ["write", "replace"])
def test_a_save_onto_a_full_disk_says_so_and_loses_nothing(
    qtbot, monkeypatch, tmp_path, user_file, where
):
    window, old, old_backup = saved_twice(qtbot, monkeypatch, tmp_path, user_file)
    errors = record_errors(monkeypatch)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "write":
        monkeypatch.setattr(os, "fsync", full)
    else:
        monkeypatch.setattr(os, "replace", full)
    assert not window.save()
    assert "No space left on device" in errors[0]
    assert_nothing_lost(window, errors, user_file, old, old_backup)
    monkeypatch.undo()  # the disk has room again: the same save now works
    assert window.save()
    close_window(window)


def test_a_save_into_a_read_only_folder_says_so_and_loses_nothing(
    qtbot, monkeypatch, tmp_path, user_file
):
    window, old, old_backup = saved_twice(qtbot, monkeypatch, tmp_path, user_file)
    errors = record_errors(monkeypatch)
    user_file.parent.chmod(0o500)
    try:
        if os.access(user_file.parent, os.W_OK):  # root ignores permissions: fail the rename
            monkeypatch.setattr(os, "replace", _permission_denied)
        assert not window.save()
    finally:
        user_file.parent.chmod(0o700)
    assert_nothing_lost(window, errors, user_file, old, old_backup)
    close_window(window)


def _permission_denied(*args, **kwargs):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
