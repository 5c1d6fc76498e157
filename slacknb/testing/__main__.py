"""``python -m slacknb.testing``: run the local Slack server until Ctrl-C (see :mod:`.command`)."""

import sys

from .command import main

# The name this entry point had before the parser was shared with ``slacknb server``.
serve_forever = main

if __name__ == "__main__":
    sys.exit(main())
