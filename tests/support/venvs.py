"""Fresh virtualenvs for the slow tests that install slacknb as a user would (minutes each):
they run in CI, and locally with SLACKNB_INSTALL=1."""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

from support.ci import in_ci

ROOT = Path(__file__).resolve().parents[2]


def require_installs() -> None:
    """Skip unless slow installs are wanted (SLACKNB_INSTALL=1, or always under CI)."""
    if not (in_ci() or os.environ.get("SLACKNB_INSTALL") == "1"):
        pytest.skip("installs into fresh virtualenvs for minutes: SLACKNB_INSTALL=1 (always in CI)")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would leak slacknb's own .venv into another one."""
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}
    for name in ("VIRTUAL_ENV", "SETUPTOOLS_USE_DISTUTILS", "PYTHONPATH", "PIP_CONSTRAINT",
                 # A demo in the new environment posts to its own local server, never to a real Slack.
                 "SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL", "SLACK_APP_TOKEN"):
        env.pop(name, None)
    return env


def fresh_venv(path: Path, *requirements: str, env: dict[str, str] | None = None) -> Path:
    """A new virtualenv at ``path`` with ``requirements`` pip-installed; returns its bin folder."""
    venv.create(path, with_pip=True)
    bin_dir = path / "bin"
    if requirements:
        subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *requirements],
                       check=True, timeout=1500, env=env or clean_env())
    return bin_dir
