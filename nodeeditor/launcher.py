"""The ``deepwire`` entry point: engine commands headless, otherwise the window.

``deepwire validate FILE`` (and every other engine command) runs without importing Qt,
so the command line works on servers without a display or PySide6. ``deepwire``,
``deepwire FILE`` and ``deepwire --screenshot PNG [FILE]`` open the application.
"""

from __future__ import annotations

import sys

APP_USAGE = """\
The application:
  deepwire [FILE.dwire] [--theme system|dark|light]   open the window (on a project)
  deepwire --screenshot PNG [FILE.dwire]              render the window offscreen and exit

The commands (also `python -m engine COMMAND`, with no display needed):"""


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the engine's command line or open the application."""
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine.cli import command_names
    from engine.cli import main as engine_main

    if argv and argv[0] in ("-h", "--help"):
        print(APP_USAGE)
        return engine_main(argv)
    if argv and argv[0] in command_names():
        return engine_main(argv)
    try:
        from nodeeditor.app import run_app
    except ImportError as error:
        print(
            f"deepwire: the application cannot start ({error}); install PySide6 and pyqtgraph, "
            "or use a command such as `deepwire validate FILE`",
            file=sys.stderr,
        )
        return 2
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
