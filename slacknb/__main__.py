"""``python -m slacknb``: the slacknb command line."""

import sys

from slacknb.cli.main import main

sys.exit(main())
