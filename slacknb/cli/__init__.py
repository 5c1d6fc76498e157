"""The ``slacknb`` command line: ``demo``, ``doctor``, ``server``."""

from slacknb.cli.main import main

__all__ = ["main"]
