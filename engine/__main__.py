"""``python -m engine``: the headless command line (also under torchrun)."""

from engine.interrupt import EXIT_INTERRUPTED, quit_on_interrupt

quit_on_interrupt()  # Ctrl-C while the command line is imported: 130, no traceback

import os  # noqa: E402
import sys  # noqa: E402


def _run() -> int:
    try:
        from engine.cli import main

        return main()
    except KeyboardInterrupt:  # before the command could catch it
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    code = _run()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Under torchrun the process group is already destroyed here; gloo's threads can
        # still abort in C++ destructors at interpreter exit (shared/PITFALLS.md #13),
        # turning a finished run into a failure. Files are written and closed: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
