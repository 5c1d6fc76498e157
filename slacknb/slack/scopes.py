"""Which Slack scope each slacknb feature needs: one table, as plain data.

``slacknb manifest`` builds the app's bot scopes from it and ``slacknb doctor``
names a missing scope with the feature it serves. Everything here is a fact about
Slack's permissions (https://docs.slack.dev/reference/scopes/), not code.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APP_TOKEN", "BOT_TOKEN", "CHARTS", "DOCTOR", "FEATURES", "MENTIONS", "NO_DUPLICATES", "PUBLIC_CHANNELS",
           "REPORT", "SCOPES", "STOP_BUTTON", "Scope", "bot_scopes", "scope"]

BOT_TOKEN, APP_TOKEN = "bot", "app"

# The features, as `slacknb manifest` and `slacknb doctor` name them.
REPORT = "the report"
PUBLIC_CHANNELS = "public channels"
MENTIONS = "mentions"
NO_DUPLICATES = "no duplicate posts"
CHARTS = "charts"
STOP_BUTTON = "the Stop button"
DOCTOR = "slacknb doctor"
FEATURES = (REPORT, PUBLIC_CHANNELS, MENTIONS, NO_DUPLICATES, CHARTS, STOP_BUTTON, DOCTOR)


@dataclass(frozen=True)
class Scope:
    """One scope: what it lets slacknb do, for which feature, on which token.

    ``required``: slacknb cannot post without it. ``token``: ``"bot"`` (the
    ``xoxb-`` token, the manifest's ``oauth_config.scopes.bot``) or ``"app"`` (the
    ``xapp-`` app-level token, made by hand on the app's Basic Information page:
    a manifest cannot hold it).
    """

    name: str
    feature: str
    purpose: str
    required: bool = False
    token: str = BOT_TOKEN


SCOPES = (
    Scope("chat:write", REPORT, "post and edit the report and its thread replies", required=True),
    Scope("chat:write.public", PUBLIC_CHANNELS, "post in public channels without inviting the bot"),
    Scope("channels:join", PUBLIC_CHANNELS, "let the bot join a public channel by itself"),
    Scope("users:read", MENTIONS, "turn @name mentions into real mentions"),
    Scope("users:read.email", MENTIONS, "mention people by e-mail address"),
    Scope("channels:history", NO_DUPLICATES,
          "find a report whose post timed out in a public channel instead of posting it twice"),
    Scope("groups:history", NO_DUPLICATES,
          "find a report whose post timed out in a private channel instead of posting it twice"),
    Scope("files:write", CHARTS, "post the run's chart (a PNG) in the report's thread when the run ends"),
    Scope("channels:read", DOCTOR, "let slacknb doctor check a public channel"),
    Scope("groups:read", DOCTOR, "let slacknb doctor check a private channel"),
    Scope("connections:write", STOP_BUTTON, "open the Socket Mode connection that hears the Stop button",
          token=APP_TOKEN),
)


def scope(name: str) -> Scope:
    """The table's row for ``name``; KeyError for a scope slacknb never asks for."""
    for row in SCOPES:
        if row.name == name:
            return row
    raise KeyError(f"slacknb uses no scope {name!r}")


def bot_scopes(*, without: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """The bot token's scopes, in the table's order, leaving out the features in ``without``."""
    unknown = set(without) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown features {sorted(unknown)}: choose from {list(FEATURES)}")
    return [row.name for row in SCOPES if row.token == BOT_TOKEN and row.feature not in without]
