"""``python -m xpnet``: the xpnet command line."""

import sys

from .cli import main

sys.exit(main())
