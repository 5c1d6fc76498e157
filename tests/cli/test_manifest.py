"""``slacknb manifest``: a manifest Slack's "Create New App > From an app manifest" takes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from slacknb.cli.manifest import build_manifest
from slacknb.slack.scopes import BOT_TOKEN, SCOPES

# The fields of Slack's app manifest (v1) that this manifest may use, with Slack's limits
# (https://docs.slack.dev/reference/app-manifest/): a key Slack does not know, or a value
# past a limit, makes Slack refuse the whole manifest.
DOCUMENTED = {
    "display_information": {"name": (str, 1, 35), "description": (str, 1, 140),
                            "background_color": (str, 4, 7), "long_description": (str, 175, 4000)},
    "features": {"bot_user": {"display_name": (str, 1, 80), "always_online": bool}},
    "oauth_config": {"scopes": {"bot": list, "user": list}},
    "settings": {"interactivity": {"is_enabled": bool}, "org_deploy_enabled": bool, "socket_mode_enabled": bool,
                 "token_rotation_enabled": bool},
}
REQUIRED = [("display_information", "name"), ("features", "bot_user", "display_name"),
            ("settings", "interactivity", "is_enabled")]


def check_shape(value, spec, where="manifest"):
    """``value`` uses only documented keys, each of its documented type and length."""
    if isinstance(spec, dict):
        assert isinstance(value, dict), where
        unknown = set(value) - set(spec)
        assert not unknown, f"{where}: keys Slack does not document: {unknown}"
        for key, item in value.items():
            check_shape(item, spec[key], f"{where}.{key}")
    elif isinstance(spec, tuple):
        kind, shortest, longest = spec
        assert isinstance(value, kind) and shortest <= len(value) <= longest, (where, value)
    elif spec is list:
        # Scopes: at most 255, each a name of at most 50 characters.
        assert isinstance(value, list) and len(value) <= 255, where
        assert all(isinstance(s, str) and 0 < len(s) <= 50 for s in value), (where, value)
    else:
        assert type(value) is spec, (where, value)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "slacknb", "manifest", *args], capture_output=True, text=True,
                          timeout=60)


def test_the_printed_manifest_is_json_in_slacks_documented_shape():
    done = run()
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)  # stdout is the manifest alone: it can be piped or pasted
    check_shape(manifest, DOCUMENTED)
    for path in REQUIRED:
        value = manifest
        for key in path:
            value = value[key]
    assert manifest["display_information"]["name"] == manifest["features"]["bot_user"]["display_name"] == "slacknb"
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True and settings["interactivity"] == {"is_enabled": True}
    assert "Create New App > From an app manifest" in done.stderr and "SLACK_APP_TOKEN=xapp-" in done.stderr
    assert "connections:write" in done.stderr  # the app-level token's scope, which no manifest holds


def test_every_bot_scope_the_code_asks_for_is_in_the_manifest():
    bot = build_manifest()["oauth_config"]["scopes"]["bot"]
    assert bot == [row.name for row in SCOPES if row.token == BOT_TOKEN]
    assert {"chat:write", "chat:write.public", "channels:join", "users:read", "users:read.email",
            "channels:history", "groups:history", "files:write"} <= set(bot)
    assert "connections:write" not in bot and len(bot) == len(set(bot))


def test_options_leave_features_out():
    done = run("--name", "Training Reports", "--no-stop-button", "--no-charts")
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    check_shape(manifest, DOCUMENTED)
    assert manifest["display_information"]["name"] == "Training Reports"
    assert manifest["features"]["bot_user"]["display_name"] == "training-reports"
    assert "files:write" not in manifest["oauth_config"]["scopes"]["bot"]
    assert "chat:write" in manifest["oauth_config"]["scopes"]["bot"]
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["interactivity"] == {"is_enabled": False}
    assert "SLACK_APP_TOKEN" not in done.stderr and "/invite @training-reports" in done.stderr


@pytest.mark.parametrize("name, problem", [("x" * 36, "at most 35"), ("  ", "needs a name")])
def test_a_name_slack_would_refuse_is_refused_here(name, problem):
    done = run("--name", name)
    assert done.returncode == 2 and done.stdout == "" and problem in done.stderr
