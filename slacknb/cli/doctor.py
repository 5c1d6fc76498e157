"""``slacknb doctor``: check the Slack set-up, one line per check, a fix for each problem.

It posts nothing: the token is checked with auth.test, its scopes are read
from the ``x-oauth-scopes`` header Slack sends with every answer, and the
channel with conversations.info. With ``SLACK_APP_TOKEN`` set (the Stop button) the
app-level token is checked with apps.connections.open, which hands out a Socket Mode
URL without connecting. A token itself is never printed; at most its first four
characters (``xoxb``, ``xapp``), which tell its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from slacknb.core.scrub import looks_like_token
from slacknb.slack.api import make_client
from slacknb.slack.config import APP_TOKEN_ENV_VAR, SlackSettings
from slacknb.slack.errors import BOT_TOKEN_FIX, classify, fix_for, invite_fix
from slacknb.slack.scopes import BOT_TOKEN, SCOPES

__all__ = ["Check", "diagnose", "run_doctor"]

OK, WARN, FAIL, NOTE = "ok", "warn", "FAIL", "note"
# Where the Stop button's settings are, in the app's configuration pages.
APP_TOKEN_PAGE = "Basic Information > App-Level Tokens, with scope connections:write"
SOCKET_MODE_PAGE = "Settings > Socket Mode"
INTERACTIVITY_PAGE = "Features > Interactivity & Shortcuts"

# Where a missing scope goes, in the terms of the manifest `slacknb manifest` prints.
MANIFEST_FIX = ("in the app's manifest at https://api.slack.com/apps (Features > App Manifest), add {scopes} to "
                "oauth_config.scopes.bot (or paste what `slacknb manifest` prints), save, and reinstall the app")


@dataclass(frozen=True)
class Check:
    level: str
    text: str

    def line(self) -> str:
        return f"[{self.level:>4}] {self.text}"


def _call(client, method: str, *, where: str | None = None, **params) -> tuple:
    """(answer, failure, answered) of one Web API call.

    ``failure`` is the mirror's own classification (:func:`classify`), so the
    doctor names the same fix a run would; ``answered`` is False when no HTTP
    answer came back at all (refused, DNS, timeout, reset).
    """
    try:
        return client.api_call(method, params=params), None, True
    except Exception as error:  # noqa: BLE001 - SlackApiError, URLError, timeouts: classify says which
        return None, classify(error, channel=where), getattr(error, "response", None) is not None


def diagnose(*, channel: str | None = None, base_url: str | None = None,
             environ=None, client_factory: Callable | None = None) -> list[Check]:
    """All checks, in order; stops early where nothing further can be known."""
    checks: list[Check] = []
    try:
        settings = SlackSettings.resolve(channel=channel, base_url=base_url, environ=environ)
        config = settings.config
    except (TypeError, ValueError) as error:
        return [Check(FAIL, str(error))]
    if not config.token:
        checks.append(Check(FAIL, "no token: " + BOT_TOKEN_FIX))
        return checks
    prefix = config.token[:4]
    checks.append(Check(OK, f"token from {config.token_source} ({prefix}...)"))
    if not config.token.startswith("xoxb-"):
        checks.append(Check(WARN, "the token does not start with xoxb-: slacknb expects a bot token"))

    if client_factory is None:
        def client_factory(token, url):
            return make_client(token, url, 10)

    client = client_factory(config.token, config.base_url)
    answer, failure, answered = _call(client, "auth.test")
    if not answered:
        checks.append(Check(FAIL, f"Slack API {config.base_url} could not be reached ({failure.fix}): "
                                  "check the URL (SLACKNB_API_URL or --base-url; unset it for Slack "
                                  "itself) and this machine's network or proxy"))
        return checks
    checks.append(Check(OK, f"Slack API {config.base_url} answered"))
    if failure is not None:
        checks.append(Check(FAIL, f"auth.test: {failure.fix}"))
        return checks
    checks.append(Check(OK, f"token valid: bot {answer.get('user')} ({answer.get('user_id')}) "
                            f"in {answer.get('team')}"))

    scopes = {s.strip() for s in (answer.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    checks.extend(_scope_checks(scopes))
    checks.extend(_channel_checks(client, config.channel, scopes))
    app_token = settings.app_token
    if app_token is not None:
        checks.extend(_app_token_checks(client, app_token))
    return checks


def _scope_checks(scopes: set) -> list[Check]:
    """One line per bot scope of :data:`~slacknb.slack.scopes.SCOPES`, then where the missing ones go."""
    checks, missing = [], []
    for row in SCOPES:
        if row.token != BOT_TOKEN:
            continue
        if row.name in scopes:
            checks.append(Check(OK, f"scope {row.name}: can {row.purpose}"))
            continue
        missing.append(row.name)
        if row.required:
            checks.append(Check(FAIL, f"scope {row.name} is missing ({row.feature}): "
                                      + fix_for("missing_scope", needed=row.name)))
        else:
            checks.append(Check(WARN, f"scope {row.name} is missing ({row.feature}): add it to {row.purpose}"))
    if missing:
        checks.append(Check(NOTE, "to add the missing scopes: " + MANIFEST_FIX.format(scopes=", ".join(missing))))
    return checks


def _app_token_checks(client, app_token: str) -> list[Check]:
    """The Stop button's app-level token: its kind, then apps.connections.open."""
    if not app_token.startswith("xapp-"):
        return [Check(FAIL, f"{APP_TOKEN_ENV_VAR} ({app_token[:4]}...) is not an app-level token: create one "
                            f"under {APP_TOKEN_PAGE}, and enable {SOCKET_MODE_PAGE}")]
    try:
        client.apps_connections_open(app_token=app_token)
    except Exception as error:  # noqa: BLE001 - every failure becomes one line with its fix
        response = getattr(error, "response", None)
        name = response.get("error") if response is not None else None
        if name == "missing_scope":
            fix = f"the app-level token lacks connections:write: make one under {APP_TOKEN_PAGE}"
        elif name in ("invalid_auth", "not_authed", "token_revoked", "not_allowed_token_type"):
            fix = f"{name}: set {APP_TOKEN_ENV_VAR} to a valid app-level token of this app ({APP_TOKEN_PAGE})"
        else:
            fix = (f"{name or type(error).__name__}: is Socket Mode enabled ({SOCKET_MODE_PAGE})? "
                   "The Stop button needs it")
        return [Check(FAIL, f"{APP_TOKEN_ENV_VAR}: apps.connections.open failed, {fix}")]
    return [Check(OK, f"{APP_TOKEN_ENV_VAR} (xapp...): Socket Mode connections open, the Stop button can listen"),
            Check(NOTE, f"the Stop button's clicks arrive only with {INTERACTIVITY_PAGE} on (the doctor cannot "
                        "see it); who may press it: stop_allowed, else the people in finish_mentions")]


def _channel_checks(client, channel: str | None, scopes: set) -> list[Check]:
    if not channel:
        return [Check(FAIL, "no channel: set SLACK_CHANNEL_ID=C0123ABCD (channel name > About, at the bottom)"
                            " or pass --channel")]
    if looks_like_token(channel):  # never echoed: a token is never shown
        return [Check(FAIL, "the channel (SLACK_CHANNEL_ID or --channel) looks like a Slack token, not a channel: "
                            "give a channel ID like C0123ABCD, and put the token in SLACK_BOT_TOKEN")]
    if channel.startswith("#"):
        return [Check(WARN, f"channel {channel} is a name: the doctor checks IDs only; give its ID "
                            "(channel name > About) to have it checked")]
    answer, failure, _ = _call(client, "conversations.info", where=channel, channel=channel)
    if failure is not None and failure.error == "missing_scope":
        return [Check(WARN, f"cannot look at channel {channel}: add scope channels:read (groups:read for "
                            "private channels) to let the doctor check it")]
    if failure is not None:
        return [Check(FAIL, f"conversations.info {channel}: {failure.fix}")]
    info = answer.get("channel", {})
    name = info.get("name", channel)
    if info.get("is_archived"):
        return [Check(FAIL, f"channel #{name} is archived: unarchive it or pick another channel")]
    if info.get("is_member"):
        return [Check(OK, f"channel #{name} ({channel}): the bot is a member and can post")]
    if info.get("is_private"):
        return [Check(FAIL, f"private channel #{name}: " + invite_fix(f"#{name}", "not_in_channel"))]
    if "chat:write.public" in scopes:
        return [Check(OK, f"channel #{name} ({channel}): public, the bot can post without joining")]
    if "channels:join" in scopes:
        return [Check(OK, f"channel #{name} ({channel}): public, the bot will join it at the first post")]
    return [Check(FAIL, invite_fix(f"#{name}", "not_in_channel")
                  + ", or add scope chat:write.public or channels:join")]


def run_doctor(*, channel: str | None = None, base_url: str | None = None, environ=None,
               out=None) -> int:
    """Print every check; exit status 0 only when nothing needed is missing."""
    import sys

    out = out or sys.stdout
    checks = diagnose(channel=channel, base_url=base_url, environ=environ)
    for check in checks:
        print(check.line(), file=out)
    failed = [c for c in checks if c.level == FAIL]
    print("slacknb is ready to post." if not failed else
          f"{len(failed)} problem(s) to fix before slacknb can post.", file=out)
    return 1 if failed else 0
