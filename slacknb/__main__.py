"""``python -m slacknb``: the slacknb command line."""

import sys

from .cli import main

sys.exit(main())
