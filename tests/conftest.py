"""Shared test fixtures. tests/ is put on sys.path so helper modules import plainly."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from slacknb.slack.people import clear_cache  # noqa: E402
from slacknb.testing import SlackServer  # noqa: E402


@pytest.fixture
def server():
    """A fresh local Slack server per test, checked for its own bugs on the way out."""
    clear_cache()  # resolved mentions are cached per API URL, and ports get reused
    with SlackServer() as running:
        yield running
        assert running.errors == []


@pytest.fixture
def slack_env(server, monkeypatch, tmp_path):
    """The server's settings in the environment, as a user sets them; no user IPython profile."""
    monkeypatch.setenv("SLACKNB_API_URL", server.url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", server.token)
    monkeypatch.setenv("SLACK_CHANNEL_ID", server.channel_id)
    monkeypatch.delenv("SLACK_ACCESS_TOKEN", raising=False)
    # A user's own IPython profile must not change what the magic or the notebooks do.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return server
