"""The ``deepwire`` entry point: engine commands headless, otherwise the window.

``deepwire validate FILE`` (and every other engine command) runs without importing Qt,
so the command line works on servers without a display or PySide6. ``deepwire``,
``deepwire FILE`` and ``deepwire --screenshot PNG [FILE]`` open the application.

Ctrl-C at any moment of start-up ends the program with status 130 and no traceback
(``engine.interrupt``): until a command runs, which then handles Ctrl-C itself, or the
app's event loop takes SIGINT over (``nodeeditor.termination``). The handler is set
when this module is imported, the first of Deepwire's code the ``deepwire`` script runs.
"""

from __future__ import annotations

import sys

from engine.interrupt import EXIT_INTERRUPTED, quit_on_interrupt

quit_on_interrupt()  # as early as this process runs Deepwire's code: see engine.interrupt

APP_USAGE = """\
The application:
  deepwire [FILE.dwire] [--theme system|dark|light]   open the window (on a project)
  deepwire --screenshot PNG [FILE.dwire]              render the window offscreen and exit

The commands (also `python -m engine COMMAND`, with no display needed):"""


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the engine's command line or open the application."""
    quit_on_interrupt()  # again, for callers that restored Python's handler since
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # a command's own Ctrl-C before it could catch it
        return EXIT_INTERRUPTED


def _dispatch(argv: list[str]) -> int:
    from engine.cli import command_names
    from engine.cli import main as engine_main

    command = argv and (argv[0] in ("-h", "--help") or argv[0] in command_names())
    if command:
        if argv[0] in ("-h", "--help"):
            print(APP_USAGE)
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
