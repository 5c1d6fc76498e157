"""Shared test fixtures. tests/ is put on sys.path so helper modules import plainly."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from slacknb.mentions import clear_cache  # noqa: E402
from slacknb.testing import SlackServer  # noqa: E402


@pytest.fixture
def server():
    """A fresh local Slack server per test, checked for its own bugs on the way out."""
    clear_cache()  # resolved mentions are cached per API URL, and ports get reused
    with SlackServer() as running:
        yield running
        assert running.errors == []
