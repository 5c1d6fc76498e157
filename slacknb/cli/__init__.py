"""The ``slacknb`` command line: ``demo``, ``doctor``, ``manifest``, ``server``."""

from slacknb.cli.main import main

__all__ = ["main"]
