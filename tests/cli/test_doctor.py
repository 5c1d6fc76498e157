"""slacknb doctor against the local Slack server, one misconfiguration per test."""

from __future__ import annotations

import io
import os
import subprocess
import sys


from slacknb.cli.doctor import run_doctor


def doctor(server, *, token=None, channel=None, environ_extra=None, **kwargs):
    environ = {"SLACK_BOT_TOKEN": server.token if token is None else token,
               "SLACKNB_API_URL": server.url, **(environ_extra or {})}
    if channel is not False:
        environ["SLACK_CHANNEL_ID"] = channel or server.channel_id
    out = io.StringIO()
    status = run_doctor(environ=environ, out=out, **kwargs)
    text = out.getvalue()
    assert server.token not in text
    return status, text


def test_healthy_setup_passes_and_posts_nothing(server):
    status, text = doctor(server)
    assert status == 0, text
    assert "token valid" in text and "#training" in text and "ready to post" in text
    assert server.messages() == []


def test_bad_token_is_caught_with_a_fix(server):
    status, text = doctor(server, token="xoxb-not-a-real-token-123")
    assert status == 1
    assert "invalid_auth" in text and "Bot User OAuth Token" in text
    assert "not-a-real" not in text


def test_revoked_token(server):
    server.workspace.tokens[server.token].revoked = True
    status, text = doctor(server)
    assert status == 1 and "token_revoked" in text and "reinstall" in text


def test_missing_chat_write_scope_fails(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "chat:write")
    status, text = doctor(server)
    assert status == 1 and "scope chat:write is missing (the report)" in text
    assert "add chat:write to oauth_config.scopes.bot" in text
    from slacknb.slack.errors import fix_for

    assert fix_for("missing_scope", needed="chat:write") in text  # the run's own words


def test_missing_optional_scopes_are_warnings_naming_the_feature(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s not in ("users:read", "files:write"))
    status, text = doctor(server)
    assert status == 0
    assert "[warn] scope users:read is missing (mentions): add it to turn @name mentions" in text
    assert ("[warn] scope files:write is missing (charts): add it to post the run's chart (a PNG) in the report's "
            "thread when the run ends") in text
    # Where they go, in the manifest's terms, once for all of them.
    [note] = [line for line in text.splitlines() if "oauth_config.scopes.bot" in line]
    assert note.startswith("[note]") and "add users:read, files:write to oauth_config.scopes.bot" in note
    assert "slacknb manifest" in note


def test_every_bot_scope_of_the_table_is_checked(server):
    from slacknb.slack.scopes import BOT_TOKEN, SCOPES

    info = server.workspace.tokens[server.token]
    info.scopes = ("chat:write",)
    text = doctor(server)[1]
    for row in SCOPES:
        if row.token == BOT_TOKEN and row.name != "chat:write":
            assert f"[warn] scope {row.name} is missing ({row.feature}): add it to {row.purpose}" in text


def test_wrong_channel(server):
    status, text = doctor(server, channel="C0NOPE")
    assert status == 1 and "channel C0NOPE not found" in text


def test_a_token_given_as_the_channel_is_refused_without_echo(server):
    status, text = doctor(server, channel="xoxb-9999-8888-notachannel")
    assert status == 1 and "looks like a Slack token, not a channel" in text
    assert "notachannel" not in text


def test_private_channel_without_the_bot(server):
    status, text = doctor(server, channel="C0PRIVATE")
    assert status == 1 and "/invite" in text


def test_public_channel_without_membership_needs_a_scope(server):
    assert doctor(server, channel="C0PUBLIC2")[0] == 0  # chat:write.public
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s not in ("chat:write.public", "channels:join"))
    status, text = doctor(server, channel="C0PUBLIC2")
    assert status == 1 and "/invite @yourbot" in text


def test_archived_channel(server):
    server.workspace.channels[server.channel_id].is_archived = True
    status, text = doctor(server)
    assert status == 1 and "archived" in text


def test_no_token_at_all(server):
    out = io.StringIO()
    assert run_doctor(environ={}, out=out) == 1
    assert "no token: set SLACK_BOT_TOKEN" in out.getvalue()


def test_unreachable_api(server):
    server.down = True
    status, text = doctor(server)
    assert status == 1
    assert "[  ok] Slack API" not in text  # nothing is ok before the API answered
    failed = [line for line in text.splitlines() if line.startswith("[FAIL]")]
    assert len(failed) == 1 and f"Slack API {server.url} could not be reached" in failed[0]
    assert "SLACKNB_API_URL" in failed[0]  # the fix


def test_refused_connection_is_said_once(server):
    status, text = doctor(server, base_url="http://127.0.0.1:9/api/")
    assert status == 1 and text.count("refused") == 1 and "URLError" not in text


def test_fix_texts_are_the_mirrors_own(server):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from slacknb.slack.errors import classify

    server.workspace.tokens[server.token].revoked = True
    try:
        WebClient(token=server.token, base_url=server.url, retry_handlers=[]).auth_test()
    except SlackApiError as error:
        fix = classify(error).fix
    assert fix in doctor(server)[1]


def test_command_line(server):
    env = {**os.environ, "SLACK_BOT_TOKEN": server.token, "SLACKNB_API_URL": server.url}
    env.pop("SLACK_CHANNEL_ID", None)
    done = subprocess.run([sys.executable, "-m", "slacknb", "doctor", "--channel", server.channel_id],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready to post" in done.stdout and server.token not in done.stdout + done.stderr


def test_app_token_is_checked_when_set(server):
    status, text = doctor(server, environ_extra={"SLACK_APP_TOKEN": server.app_token})
    assert status == 0, text
    assert "Socket Mode connections open" in text and "Interactivity & Shortcuts" in text
    assert server.app_token not in text
    assert server.call_counts()["apps.connections.open"] == 1 and server.socket_connections == 0


def test_bad_app_tokens_name_the_fix(server):
    status, text = doctor(server, environ_extra={"SLACK_APP_TOKEN": server.token})
    assert status == 1 and "is not an app-level token" in text and "App-Level Tokens" in text
    status, text = doctor(server, environ_extra={"SLACK_APP_TOKEN": "xapp-1-not-real"})
    assert status == 1 and "invalid_auth" in text and "not-real" not in text
    server.workspace.tokens[server.app_token].scopes = ()
    status, text = doctor(server, environ_extra={"SLACK_APP_TOKEN": server.app_token})
    assert status == 1 and "lacks connections:write" in text


def test_no_app_token_no_app_checks(server):
    status, text = doctor(server)
    assert "SLACK_APP_TOKEN" not in text and server.call_counts()["apps.connections.open"] == 0
