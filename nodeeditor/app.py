"""Starting the application: ``deepwire``, ``deepwire FILE``, ``deepwire --screenshot PNG``.

``run_app(argv)`` sets up the QApplication (Fusion style, the remembered theme, high-DPI
scaling), opens the main window and runs the event loop. ``--screenshot PNG [FILE]``
renders the window offscreen at ``SCREENSHOT_SIZE`` with the network fitted, writes the
PNG and exits; it never touches the user's settings. Nothing here imports torch, so the
window appears quickly; training imports it when it starts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

SCREENSHOT_SIZE = (1400, 860)
EXIT_BAD_INPUT = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The application's command line."""
    parser = argparse.ArgumentParser(
        prog="deepwire", description="Design neural networks by drawing them."
    )
    parser.add_argument("file", nargs="?", help="a .dwire project to open")
    parser.add_argument(
        "--screenshot", metavar="PNG", help="render the window to PNG offscreen and exit"
    )
    parser.add_argument(
        "--theme", choices=("system", "dark", "light"), help="the colour theme for this run"
    )
    return parser.parse_args(argv)


def make_application(argv: list[str] | None = None):
    """The QApplication (created once), with Deepwire's names and high-DPI policy."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication(["deepwire", *(argv or [])])
    app.setApplicationName("Deepwire")
    app.setOrganizationName("Deepwire")
    app.setApplicationDisplayName("Deepwire")
    app.setDesktopFileName("deepwire")
    from nodeeditor import icons

    app.setWindowIcon(icons.app_icon())
    return app


def run_app(argv: list[str] | None = None) -> int:
    """Run the application; returns the exit status."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.screenshot:
        return screenshot(args.screenshot, args.file, args.theme or "dark")
    from nodeeditor import platform_check

    problem = platform_check.problem()  # Qt would abort with a bare "no platform plugin"
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    app = make_application()
    from nodeeditor import dialogs, theme, warmup
    from nodeeditor.document import Document
    from nodeeditor.settings import Settings
    from nodeeditor.window import MainWindow, follow_system_scheme

    settings = Settings()
    theme.apply_theme(app, args.theme or settings.theme())
    window = MainWindow(settings=settings)
    follow_system_scheme(window)
    window.restore_layout(*settings.window_state())
    window.show()
    warmup.start_soon(window)  # torch and its compiler, in the background: a quick first Train
    if args.file:
        from engine.errors import DeepwireError

        try:
            window.set_document(Document.open(args.file))
            settings.add_recent_file(args.file)
        except DeepwireError as error:
            dialogs.show_error(window, "Cannot open this file", str(error))
    from nodeeditor import geometry_report, recovery

    geometry_report.install(window)  # only with DEEPWIRE_TEST_REPORT (tests/realdisplay)
    recovery.offer_restore(window)  # work left unsaved by a crash
    from nodeeditor import termination

    termination.install(app)  # logout, kill, Ctrl-C: quit keeping the work
    from nodeeditor import background

    return background.leave(termination.exit_status(app, app.exec()))


def screenshot(png: str, file: str | None, theme_name: str = "dark") -> int:
    """Render the window with ``file`` (or an empty network) to ``png``; returns the status."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    from PySide6.QtCore import QSettings

    from engine.errors import DeepwireError
    from nodeeditor import theme
    from nodeeditor.document import Document
    from nodeeditor.settings import Settings
    from nodeeditor.window import MainWindow

    try:
        document = Document.open(file) if file else Document()
    except DeepwireError as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(QSettings(str(Path(folder) / "s.ini"), QSettings.Format.IniFormat))
        settings.set_theme(theme_name)
        theme.apply_theme(app, theme_name)
        window = MainWindow(document, settings)
        ok = render_window(window, png)
        window.document.undo_stack.setClean()
        window.close()
    if not ok:
        print(f"deepwire: cannot write {png}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def render_window(window, png: str, size: tuple[int, int] = SCREENSHOT_SIZE) -> bool:
    """Show ``window`` at ``size``, fit the network, and save a PNG; True on success."""
    from PySide6.QtWidgets import QApplication

    window.resize(*size)
    window.show()
    window.default_layout()
    for _ in range(3):
        QApplication.processEvents()
    layers = [
        n.id for n in window.document.network.nodes if n.spec.params and n.spec.role == "layer"
    ]
    if layers:  # show the inspector at work
        window.scene.select_nodes(layers[:1])
    window.view.fit()
    window.view.setFocus()
    QApplication.processEvents()
    return window.grab().save(str(png), "PNG")
