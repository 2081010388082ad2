"""File handling of the main window: new, open, save, recent files, dropped files.

A mixin of ``MainWindow``. The user's work is never lost: a file that fails to load
shows the engine's message (``ProjectError``) and leaves the current document as it was;
a failed save says so and keeps the unsaved mark; closing the window or replacing the
document with unsaved changes asks first (Save / Discard / Cancel). Saving goes through
``Document.save``, which is atomic in the engine. A read-only file is never replaced:
Save onto one asks whether to save under another name instead.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QWidget

from engine import project as project_file
from engine.errors import DeepwireError
from engine.file_access import is_read_only
from engine.layout import lay_out
from nodeeditor import dialogs, icons, recovery
from nodeeditor.document import Document


def example_templates() -> dict[str, Path]:
    """The example projects offered by File > New, by display name."""
    folder = icons.examples_dir()
    paths = sorted(folder.glob("*.dwire")) if folder.is_dir() else []
    return {path.stem.replace("_", " "): path for path in paths}


class FileHandling:
    """File commands of the main window (expects ``document``, ``settings``,
    ``set_document`` and ``show_message`` on the class it is mixed into)."""

    def new_file(self, template: Path | str | None = None) -> bool:
        """Start a new project, from an example template or empty.

        Args:
            template: a template path, ``dialogs.EMPTY_TEMPLATE``, or None to ask.
        Returns:
            True when a new project is shown.
        """
        if template is None:
            template = dialogs.choose_template(self, example_templates())
            if template is None:
                return False
        try:
            project = None
            if template != dialogs.EMPTY_TEMPLATE:
                project = project_file.load(template)
                for network in project.networks.values():  # in the user's direction
                    lay_out(network, self.settings.layout_direction())
        except DeepwireError as error:
            dialogs.show_error(self, "Cannot use this template", str(error))
            return False
        if not self.confirm_stop_training("start a new project") or not self.maybe_save():
            return False
        self.set_document(Document(project))
        return True

    def open_file(self, path: str | Path | None = None) -> bool:
        """Open a project file (asking for one when ``path`` is None).

        Returns:
            True when the file is now shown; False when cancelled or unreadable (the
            current work is untouched and the engine's message is shown).
        """
        if path is None:
            folder = str(self.document.path.parent) if self.document.path else ""
            path = dialogs.open_path(self, folder)
            if path is None:
                return False
        try:
            document = Document.open(path)
        except DeepwireError as error:
            dialogs.show_error(self, "Cannot open this file", str(error))
            return False
        if not self.confirm_stop_training("open another project") or not self.maybe_save():
            document.deleteLater()
            return False
        self.show_opened(document, path)
        return True

    def show_opened(self, document: Document, path: str | Path) -> None:
        """Show a project just read from ``path`` (the questions about the current one
        already answered) and list it among the recent files."""
        self.set_document(document)
        self.settings.add_recent_file(path)
        self.show_message(f"Opened {Path(path).name}")

    def save(self) -> bool:
        """Save to the current file (asking for a name the first time)."""
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        """Save under a new name (asking for one when ``path`` is None)."""
        if path is None:
            suggestion = str(self.document.path or Path.home() / "network.dwire")
            path = dialogs.save_path(self, suggestion)
            if path is None:
                return False
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        if is_read_only(path):
            return self._save_instead_of_read_only(path)
        try:
            self.document.save(path)
        except (DeepwireError, OSError) as error:
            dialogs.show_error(
                self, "Cannot save", f"The project was not saved: {error}. Your work is kept."
            )
            return False
        recovery.saved(self)  # a crash from now on restores into this file
        self.settings.add_recent_file(path)
        self.show_message(f"Saved {path.name}")
        return True

    def _save_instead_of_read_only(self, path: Path) -> bool:
        """``path`` may not be replaced: offer to save under another name."""
        if not ask_save_read_only(self, path.name):
            return False
        other = dialogs.save_path(self, str(path.with_name(f"{path.stem} copy{path.suffix}")))
        return other is not None and self._save_to(Path(other))

    def confirm_stop_training(self, doing: str) -> bool:
        """Whether a run may be stopped to ``doing`` (asks while one runs)."""
        return True

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; True when it is fine to drop the current document."""
        if not self.document.modified:
            return True
        answer = dialogs.ask_save_changes(self, self.document.title)
        if answer == dialogs.SAVE:
            return self.save()
        return answer == dialogs.DISCARD

    def fill_recent_menu(self) -> None:
        """Rebuild File > Open Recent from the settings."""
        menu = self.menus["recent"]
        menu.clear()
        recent = self.settings.recent_files()
        for path in recent:
            action = QAction(Path(path).name, menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_file(p))
            menu.addAction(action)
        if not recent:
            menu.addAction("No recent files").setEnabled(False)
            return
        menu.addSeparator()
        menu.addAction("Clear List", self.settings.clear_recent_files)

    # ----------------------------------------------------------------- Qt events
    def closeEvent(self, event) -> None:
        if getattr(self, "quitting", False):  # the system asked: no questions, keep the copy
            saver = getattr(self, "autosaver", None)
            if saver is not None:
                saver.write_now()
            self.settings.set_window_state(self.saveGeometry(), self.saveState())
            event.accept()
            return
        if self.maybe_save():
            self.settings.set_window_state(self.saveGeometry(), self.saveState())
            recovery.detach(self)  # saved or discarded: no recovery copy is needed
            event.accept()
        else:
            event.ignore()

    def dragEnterEvent(self, event) -> None:
        if _dropped_project(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def eventFilter(self, watched, event) -> bool:
        # Installed on the canvas viewport: project files dropped on the canvas open,
        # although the canvas itself takes only layers.
        kind = event.type()
        path = _dropped_project(event.mimeData()) if kind in _DROP_EVENTS else None
        if path is not None:
            event.acceptProposedAction()
            if kind == QEvent.Type.Drop:  # later: opening replaces the canvas being dropped on
                QTimer.singleShot(0, lambda: self.open_file(path))
            return True
        return super().eventFilter(watched, event)

    def dropEvent(self, event) -> None:
        path = _dropped_project(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_file(path)


_DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def ask_save_read_only(parent: QWidget, name: str) -> bool:
    """Ask whether to save under another name because ``name`` is read-only."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "The file is read-only",
        f"{name} is read-only, so Deepwire will not replace it. Save your work under another name?",
        QMessageBox.StandardButton.Cancel,
        parent,
    )
    save_as = box.addButton("Save As…", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(save_as)
    box.exec()
    return box.clickedButton() is save_as


def _dropped_project(mime) -> Path | None:
    """The first local ``.dwire`` file among dropped URLs, if any."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(project_file.SUFFIX):
            return Path(url.toLocalFile())
    return None
