"""``slacknb manifest``: the Slack app slacknb needs, as an app manifest to paste.

At https://api.slack.com/apps, *Create New App* > *From an app manifest* takes this
JSON and makes the app with every bot scope slacknb's features use
(:mod:`slacknb.slack.scopes`), and with Socket Mode and interactivity on for the
Stop button. The fields are those of Slack's manifest reference
(https://docs.slack.dev/reference/app-manifest/).
"""

from __future__ import annotations

import json
import re
import sys

from slacknb.slack.scopes import APP_TOKEN, CHARTS, SCOPES, STOP_BUTTON, bot_scopes

__all__ = ["DEFAULT_NAME", "MAX_NAME", "build_manifest", "run_manifest"]

DEFAULT_NAME = "slacknb"
# Slack refuses a manifest whose display_information.name is longer.
MAX_NAME = 35
DESCRIPTION = "Live training reports (Chainer, PyTorch) from Jupyter, in one Slack message edited in place."


def _bot_name(name: str) -> str:
    """The bot user's display name: the app's name in the characters Slack allows there."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or DEFAULT_NAME


def build_manifest(*, name: str = DEFAULT_NAME, stop_button: bool = True, charts: bool = True) -> dict:
    """The app manifest as a dict; ``stop_button=False`` / ``charts=False`` leave those features out."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("the app needs a name: --name 'Training reports'")
    name = name.strip()
    if len(name) > MAX_NAME:
        raise ValueError(f"the app name {name!r} is {len(name)} characters; Slack allows at most {MAX_NAME}")
    without = set()
    if not stop_button:
        without.add(STOP_BUTTON)
    if not charts:
        without.add(CHARTS)
    return {
        "display_information": {"name": name, "description": DESCRIPTION},
        "features": {"bot_user": {"display_name": _bot_name(name), "always_online": True}},
        "oauth_config": {"scopes": {"bot": bot_scopes(without=without)}},
        "settings": {
            # The Stop button's clicks arrive over Socket Mode, so no public URL is needed.
            "interactivity": {"is_enabled": stop_button},
            "org_deploy_enabled": False,
            "socket_mode_enabled": stop_button,
            "token_rotation_enabled": False,
        },
    }


def _next_steps(manifest: dict, stop_button: bool) -> str:
    bot = manifest["features"]["bot_user"]["display_name"]
    steps = [
        "Paste this at https://api.slack.com/apps > Create New App > From an app manifest (JSON), then:",
        "  Install to Workspace, and export the Bot User OAuth Token as SLACK_BOT_TOKEN=xoxb-...",
        f"  invite the bot to your channel (/invite @{bot}) and export its ID as SLACK_CHANNEL_ID=C...",
    ]
    if stop_button:
        [app_scope] = [row.name for row in SCOPES if row.token == APP_TOKEN]
        steps.append(f"  for the Stop button: Basic Information > App-Level Tokens, a token with scope {app_scope},"
                     " exported as SLACK_APP_TOKEN=xapp-...")
    steps.append("  then check it all with: slacknb doctor")
    return "\n".join(steps)


def run_manifest(*, name: str = DEFAULT_NAME, stop_button: bool = True, charts: bool = True,
                 out=None, err=None) -> int:
    """Print the manifest (stdout, so it can be piped) and what to do with it (stderr)."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        manifest = build_manifest(name=name, stop_button=stop_button, charts=charts)
    except ValueError as error:
        print(f"slacknb manifest: {error}", file=err)
        return 2
    print(json.dumps(manifest, indent=2), file=out)
    print(_next_steps(manifest, stop_button), file=err)
    return 0
