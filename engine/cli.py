"""The ``deepwire`` command line, without the window.

``deepwire validate | summary | code | train | export | runs`` and ``python -m engine ...``
run the same commands. Each command lives in ``engine/commands/`` and registers its own
sub-parser. Bad input of any kind ends in one clear sentence on stderr and a non-zero
exit, never a traceback:

- 0: success; 1: the network or the run failed (validation errors, training failure);
- 2: the input cannot be used (unreadable file, bad arguments); 130: interrupted.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from engine.errors import DeepwireError, ProjectError
from engine.interrupt import handle_interrupt_as_python_does

COMMAND_MODULES = (
    "engine.commands.inspect",
    "engine.commands.inspect_outputs",
    "engine.commands.layers",
    "engine.commands.export",
    "engine.commands.importing",
    "engine.commands.train",
    "engine.commands.generate",
    "engine.commands.runs",
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="deepwire",
        description="Design neural networks by drawing them; check, train and export them.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        import_module(name).register(commands)
    return parser


def command_names() -> list[str]:
    """The names of the commands, for the launcher that also opens the app."""
    return list(build_parser()._subparsers._group_actions[0].choices)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        print("\nRun `deepwire` with no command (or with a .dwire file) to open the app.")
        return EXIT_BAD_INPUT
    handle_interrupt_as_python_does()  # the command stops cleanly on Ctrl-C
    try:
        return args.func(args)
    except ProjectError as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DeepwireError as error:
        print(f"deepwire: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("deepwire: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except Exception as error:  # a bug: still one sentence, with a way to report it
        print(
            f"deepwire: internal error ({type(error).__name__}: {error}); please report it "
            "with the file that caused it",
            file=sys.stderr,
        )
        return 3
