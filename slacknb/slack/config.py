"""Where slacknb finds its Slack settings: arguments first, then the environment.

* token: the ``token`` argument, else ``SLACK_BOT_TOKEN``, else ``SLACK_ACCESS_TOKEN``;
* channel: the ``channel`` argument, else ``SLACK_CHANNEL_ID``; an ID (``C0123``) or a
  name (``#training``): ``chat.postMessage`` accepts a name and answers with the ID,
  which is then used for every later call;
* API base URL: the ``base_url`` argument, else ``SLACKNB_API_URL``, else Slack's own
  (point it at ``python -m slacknb.testing`` to work offline).

Without a token or a channel slacknb runs local-only; :func:`missing_setting_hint` says
which variable to set. The token is kept out of every ``repr``.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["SlackConfig", "check_seconds", "make_client", "missing_setting_hint", "resolve_config"]

_http_logger = logging.getLogger("slacknb.slack.mirror.http")
_http_logger.addHandler(logging.NullHandler())
_http_logger.propagate = False
# slack_sdk checks ``logger.level <= DEBUG`` (not the effective level) before building
# debug strings with whole bodies on every call: an explicit level skips that work.
_http_logger.setLevel(logging.WARNING)

DEFAULT_BASE_URL = "https://slack.com/api/"
TOKEN_ENV_VARS = ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN")
CHANNEL_ENV_VAR = "SLACK_CHANNEL_ID"
BASE_URL_ENV_VAR = "SLACKNB_API_URL"


@dataclass(frozen=True)
class SlackConfig:
    """Resolved Slack settings. ``token`` never shows in ``repr``."""

    token: str | None = field(repr=False)
    channel: str | None
    base_url: str
    token_source: str | None = None
    """Where the token came from: "argument", an env var name, or None."""
    channel_source: str | None = None

    @property
    def complete(self) -> bool:
        """True when both a token and a channel are known."""
        return bool(self.token) and bool(self.channel)


def resolve_config(
    token: str | None = None,
    channel: str | None = None,
    *,
    base_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> SlackConfig:
    """Resolve token, channel and base URL from the arguments, then ``environ``.

    Raises TypeError for a non-string argument and ValueError for a malformed
    base URL or channel; a missing token or channel is not an error (local-only).
    """
    env = os.environ if environ is None else environ
    _check_optional_str("token", token, "pass the bot token as a string, e.g. token='xoxb-...'")
    _check_optional_str("channel", channel, "pass a channel ID ('C0123') or name ('#training')")
    _check_optional_str("base_url", base_url, "pass a URL such as 'https://slack.com/api/'")

    token_value, token_source = _first_set([("argument", token)] + [(n, env.get(n)) for n in TOKEN_ENV_VARS])
    channel_value, channel_source = _first_set([("argument", channel), (CHANNEL_ENV_VAR, env.get(CHANNEL_ENV_VAR))])
    if channel_value is not None and any(c.isspace() for c in channel_value):
        raise ValueError(
            f"Slack channel {channel_value!r} contains spaces: "
            "give a channel ID like 'C0123ABCD' or a name like '#training'"
        )
    url_value, url_source = _first_set([("argument", base_url), (BASE_URL_ENV_VAR, env.get(BASE_URL_ENV_VAR))])
    url = url_value or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        where = "the base_url argument" if url_source == "argument" else BASE_URL_ENV_VAR
        raise ValueError(
            f"Slack API URL {url!r} from {where} must start with http:// or https://, e.g. {DEFAULT_BASE_URL}"
        )
    if not url.endswith("/"):
        url += "/"
    return SlackConfig(
        token=token_value,
        channel=channel_value,
        base_url=url,
        token_source=token_source,
        channel_source=channel_source,
    )


def missing_setting_hint(config: SlackConfig) -> str | None:
    """One line saying which setting is missing, or None when the config is complete."""
    missing = []
    if not config.token:
        missing.append(f"bot token (set {TOKEN_ENV_VARS[0]}=xoxb-... or pass access_token=)")
    if not config.channel:
        missing.append(f"channel (set {CHANNEL_ENV_VAR}=C0123... or pass channel_id=)")
    if not missing:
        return None
    return "Slack mirroring is off, the report stays local: no " + " and no ".join(missing) + "."


def check_seconds(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as seconds; TypeError/ValueError naming ``name`` when it is not a usable number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise ValueError(f"{name} must be {bound} seconds, got {value!r}")
    return float(value)


def make_client(token: str, base_url: str, request_timeout: float):
    """A slack_sdk ``WebClient`` for the mirror, its per-request error log lines silenced.

    Every retry would print one; the mirror's state says it all (logger
    ``slacknb.slack.mirror.http``).
    """
    from slack_sdk import WebClient

    # No retry handlers: the worker retries itself, so it always sends the NEWEST state
    # and never sleeps inside a call where finish() or close() could not wake it.
    return WebClient(token=token, base_url=base_url, timeout=request_timeout, retry_handlers=[], logger=_http_logger)


def _check_optional_str(name: str, value: object, fix: str) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, not {type(value).__name__}: {fix}")


def _first_set(candidates: list[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """The first non-blank value and where it came from (blank values count as unset)."""
    for source, value in candidates:
        if value is not None and value.strip():
            return value.strip(), source
    return None, None
