"""``python -m engine``: the headless command line (also under torchrun)."""

import os
import sys

from engine.cli import main

if __name__ == "__main__":
    code = main()
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        # Under torchrun the process group is already destroyed here; gloo's threads can
        # still abort in C++ destructors at interpreter exit (shared/PITFALLS.md #13),
        # turning a finished run into a failure. Files are written and closed: leave now.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
