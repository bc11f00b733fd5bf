"""``python -m scalingfit``: the command line (the same as the ``scalingfit`` script)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
