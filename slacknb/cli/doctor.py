"""``slacknb doctor``: check the Slack set-up, one line per check, a fix for each problem.

It posts nothing: the token is checked with auth.test, its scopes are read
from the ``x-oauth-scopes`` header Slack sends with every answer, and the
channel with conversations.info. The token itself is never printed; at most
its first four characters (``xoxb``), which tell its kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from slacknb.slack.config import resolve_config

OK, WARN, FAIL = "ok", "warn", "FAIL"

# Scopes and what each one is for; chat:write is the only one slacknb cannot work without.
FEATURE_SCOPES = (
    ("chat:write.public", "post in public channels without inviting the bot"),
    ("channels:join", "let the bot join a public channel by itself"),
    ("users:read", "turn @name mentions into real mentions"),
    ("users:read.email", "mention people by e-mail address"),
    ("channels:history", "find a report whose post timed out instead of posting it twice"),
    ("files:write", "upload files"),
)
BAD_TOKEN_FIX = {
    "invalid_auth": "the token is not valid: copy the Bot User OAuth Token (xoxb-...) again from "
                    "your app's OAuth & Permissions page",
    "not_authed": "no token reached Slack: set SLACK_BOT_TOKEN",
    "token_revoked": "the token was revoked: reinstall the app and use its new token",
    "token_expired": "the token expired: reinstall the app (or refresh the token) and use the new one",
    "account_inactive": "the app's bot was deactivated: reinstall the app to the workspace",
}


@dataclass(frozen=True)
class Check:
    level: str
    text: str

    def line(self) -> str:
        return f"[{self.level:>4}] {self.text}"


def _call(client, method: str, **kwargs):
    """(response, error name) of one Web API call; network faults become errors too."""
    from slack_sdk.errors import SlackApiError

    try:
        return client.api_call(method, params=kwargs), None
    except SlackApiError as error:
        return error.response, error.response.get("error", "unknown_error")
    except Exception as error:  # noqa: BLE001 - URLError, timeouts, refused connections
        return None, f"{type(error).__name__}: {error}"


def diagnose(*, channel: str | None = None, base_url: str | None = None,
             environ=None, client_factory: Callable | None = None) -> list[Check]:
    """All checks, in order; stops early where nothing further can be known."""
    checks: list[Check] = []
    try:
        config = resolve_config(channel=channel, base_url=base_url, environ=environ)
    except (TypeError, ValueError) as error:
        return [Check(FAIL, str(error))]
    checks.append(Check(OK, f"Slack API: {config.base_url}"))
    if not config.token:
        checks.append(Check(FAIL, "no token: set SLACK_BOT_TOKEN=xoxb-... (the Bot User OAuth Token "
                                  "from your app's OAuth & Permissions page)"))
        return checks
    prefix = config.token[:4]
    checks.append(Check(OK, f"token from {config.token_source} ({prefix}...)"))
    if not config.token.startswith("xoxb-"):
        checks.append(Check(WARN, "the token does not start with xoxb-: slacknb expects a bot token"))

    if client_factory is None:
        from slack_sdk import WebClient

        def client_factory(token, url):
            return WebClient(token=token, base_url=url, timeout=10, retry_handlers=[])

    client = client_factory(config.token, config.base_url)
    answer, error = _call(client, "auth.test")
    if error:
        fix = BAD_TOKEN_FIX.get(error, f"Slack answered {error}: is the API URL right and reachable?")
        checks.append(Check(FAIL, f"auth.test: {error}: {fix}"))
        return checks
    checks.append(Check(OK, f"token valid: bot {answer.get('user')} ({answer.get('user_id')}) "
                            f"in {answer.get('team')}"))

    scopes = {s.strip() for s in (answer.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    if "chat:write" in scopes:
        checks.append(Check(OK, "scope chat:write: can post and edit the report"))
    else:
        checks.append(Check(FAIL, "scope chat:write is missing: add it under OAuth & Permissions > "
                                  "Bot Token Scopes, then reinstall the app"))
    for scope, purpose in FEATURE_SCOPES:
        if scope in scopes:
            checks.append(Check(OK, f"scope {scope}: can {purpose}"))
        else:
            checks.append(Check(WARN, f"scope {scope} is missing: add it to {purpose}"))

    checks.extend(_channel_checks(client, config.channel, scopes))
    return checks


def _channel_checks(client, channel: str | None, scopes: set) -> list[Check]:
    if not channel:
        return [Check(FAIL, "no channel: set SLACK_CHANNEL_ID=C0123ABCD (channel name > About, at the bottom)"
                            " or pass --channel")]
    if channel.startswith("#"):
        return [Check(WARN, f"channel {channel} is a name: the doctor checks IDs only; give its ID "
                            "(channel name > About) to have it checked")]
    answer, error = _call(client, "conversations.info", channel=channel)
    if error == "missing_scope":
        return [Check(WARN, f"cannot look at channel {channel}: add scope channels:read (groups:read for "
                            "private channels) to let the doctor check it")]
    if error == "channel_not_found":
        return [Check(FAIL, f"channel {channel} not found: is the ID right? For a private channel, "
                            "/invite @your-app in it first")]
    if error:
        return [Check(FAIL, f"conversations.info {channel}: {error}")]
    info = answer.get("channel", {})
    name = info.get("name", channel)
    if info.get("is_archived"):
        return [Check(FAIL, f"channel #{name} is archived: unarchive it or pick another channel")]
    if info.get("is_member"):
        return [Check(OK, f"channel #{name} ({channel}): the bot is a member and can post")]
    if info.get("is_private"):
        return [Check(FAIL, f"the bot is not in private channel #{name}: /invite @your-app there")]
    if "chat:write.public" in scopes:
        return [Check(OK, f"channel #{name} ({channel}): public, the bot can post without joining")]
    if "channels:join" in scopes:
        return [Check(OK, f"channel #{name} ({channel}): public, the bot will join it at the first post")]
    return [Check(FAIL, f"the bot is not in #{name} and may not post there: /invite @your-app, or add "
                        "scope chat:write.public or channels:join")]


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
