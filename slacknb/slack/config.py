"""Where slacknb finds its Slack settings: arguments first, then the environment.

* token: the ``token`` argument, else ``SLACK_BOT_TOKEN``, else ``SLACK_ACCESS_TOKEN``;
* channel: the ``channel`` argument, else ``SLACK_CHANNEL_ID``; an ID (``C0123``) or a
  name (``#training``): ``chat.postMessage`` accepts a name and answers with the ID,
  which is then used for every later call;
* API base URL: the ``base_url`` argument, else ``SLACKNB_API_URL``, else Slack's own
  (point it at ``python -m slacknb.testing`` to work offline).

Without a token or a channel slacknb runs local-only; :func:`missing_setting_hint` says
which variable to set. The token is kept out of every ``repr``.

:class:`SlackSettings` is everything one run's Slack path needs, resolved ONCE per run (by
:func:`slacknb.run.ReportRun.from_options`, or by :meth:`SlackSettings.resolve` for a mirror
made directly) and passed down frozen: nothing below re-reads the environment or re-parses
the mentions.
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from slacknb.core.mentions import Mention, parse_mentions, people_only, translate_prefix
from slacknb.core.scrub import Scrubber

__all__ = ["APP_TOKEN_ENV_VAR", "MAX_SECONDS", "SlackConfig", "SlackSettings", "check_seconds",
           "missing_setting_hint", "resolve_config"]

DEFAULT_BASE_URL = "https://slack.com/api/"
TOKEN_ENV_VARS = ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN")
CHANNEL_ENV_VAR = "SLACK_CHANNEL_ID"
BASE_URL_ENV_VAR = "SLACKNB_API_URL"
APP_TOKEN_ENV_VAR = "SLACK_APP_TOKEN"


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


MAX_SECONDS = 86_400
"""The longest duration any option takes (a day): longer ones are mistakes, and overflow timers."""


def check_seconds(name: str, value: object, *, allow_zero: bool = False, most: float = MAX_SECONDS) -> float:
    """``value`` as seconds, from 0 (``allow_zero``) or more than 0 up to ``most``; TypeError or
    ValueError naming ``name`` and the bound otherwise (numpy's numbers are numbers)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero) or value > most:
        day = " (a day)" if most == MAX_SECONDS else ""
        raise ValueError(f"{name} must be {'from 0' if allow_zero else 'more than 0'} up to {most:,g} seconds{day}, "
                         f"not {value:g}")
    return value


def _check_optional_str(name: str, value: object, fix: str) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None, not {type(value).__name__}: {fix}")


def _first_set(candidates: list[tuple[str, str | None]]) -> tuple[str | None, str | None]:
    """The first non-blank value and where it came from (blank values count as unset)."""
    for source, value in candidates:
        if value is not None and value.strip():
            return value.strip(), source
    return None, None


@dataclass(frozen=True)
class SlackSettings:
    """One run's Slack settings, resolved once and frozen. Tokens never show in ``repr``.

    ``mentions`` are the parsed finish mentions; ``stop_allowed`` the people who may press the
    Stop button (None: no button); ``alert_prefix`` is already in Slack's control sequences.
    """

    config: SlackConfig
    app_token: str | None = field(default=None, repr=False)
    mentions: tuple[Mention, ...] = ()
    stop_allowed: tuple[Mention, ...] | None = None
    alert_prefix: str = ""
    min_interval: float | None = None
    flush_timeout: float = 0.0
    delivery_timeout: float = 120.0
    request_timeout: float = 10.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    local: bool = False
    scrub: Scrubber = field(default_factory=Scrubber)
    """The run's one scrub: every token configured here or in the environment, and the ``hide``
    patterns, on top of the shapes always hidden (:mod:`slacknb.core.scrub`)."""

    @property
    def token(self) -> str | None:
        return self.config.token

    @property
    def channel(self) -> str | None:
        return self.config.channel

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def people(self) -> tuple[Mention, ...]:
        """Everyone the run may look up: the finish mentions, then who may press Stop."""
        found = list(self.mentions)
        found += [m for m in self.stop_allowed or () if m not in found]
        return tuple(found)

    @classmethod
    def resolve(cls, token: str | None = None, channel: str | None = None, *, base_url: str | None = None,
                mentions: str | Iterable[str] | None = None, stop_allowed: str | Iterable[str] | None = None,
                stop_button: bool = False, alert_prefix: str = "", min_interval: float | None = None,
                flush_timeout: float = 0.0, delivery_timeout: float = 120.0, request_timeout: float = 10.0,
                backoff_base: float = 0.5, backoff_max: float = 30.0, local: bool = False,
                hide: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> SlackSettings:
        """Resolve arguments and environment once (TypeError/ValueError naming the fix).

        ``stop_button``: who may press it is ``stop_allowed``, else the people among ``mentions``.
        """
        env = {} if local else (os.environ if environ is None else environ)
        for name, value in (("min_interval", min_interval), ("flush_timeout", flush_timeout)):
            if value is not None:
                check_seconds(name, value, allow_zero=True)
        for name, value in (("delivery_timeout", delivery_timeout), ("request_timeout", request_timeout),
                            ("backoff_base", backoff_base), ("backoff_max", backoff_max)):
            check_seconds(name, value)
        if not isinstance(alert_prefix, str):
            raise TypeError(f"alert_prefix must be a string, not {type(alert_prefix).__name__}")
        parsed = _parsed(mentions)
        allowed = None
        if stop_button:
            allowed = _parsed(stop_allowed) if stop_allowed is not None else people_only(parsed)
        app_token = (env.get(APP_TOKEN_ENV_VAR) or "").strip() or None
        config = resolve_config(None if local else token, channel, base_url=base_url, environ=env)
        # Every token this process could know, whichever one is used: none of them is ever shown.
        known = (token, config.token, app_token, *(os.environ.get(n) for n in (*TOKEN_ENV_VARS, APP_TOKEN_ENV_VAR)))
        scrub = Scrubber(secrets=tuple(t.strip() for t in known if isinstance(t, str) and t.strip()),
                         patterns=tuple(hide))
        return cls(config, scrub=scrub,
                   app_token=app_token, mentions=parsed, stop_allowed=allowed,
                   alert_prefix=translate_prefix(alert_prefix),
                   min_interval=None if min_interval is None else float(min_interval),
                   flush_timeout=float(flush_timeout),
                   delivery_timeout=max(float(delivery_timeout), float(flush_timeout)),
                   request_timeout=float(request_timeout), backoff_base=float(backoff_base),
                   backoff_max=max(float(backoff_max), float(backoff_base)), local=bool(local))


def _parsed(spec) -> tuple[Mention, ...]:
    """``spec`` as mentions: as it is when the options parsed it already (once), else parsed now."""
    if isinstance(spec, tuple) and all(isinstance(m, Mention) for m in spec):
        return spec
    return parse_mentions(spec)
