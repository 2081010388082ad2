"""``python -m engine``: the headless command line (also under torchrun)."""

import sys

from engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
