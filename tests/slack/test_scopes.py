"""The one table of scopes: every scope slacknb's code names is in it, once, with a feature."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from slacknb.slack import scopes
from slacknb.slack.scopes import APP_TOKEN, BOT_TOKEN, CHARTS, FEATURES, SCOPES, bot_scopes, scope

PACKAGE = Path(scopes.__file__).resolve().parents[1]
# Slack's scope names: a resource, a colon, an action (and a qualifier: chat:write.public).
SCOPE_NAME = re.compile(
    r"\b(?:chat|channels|groups|im|mpim|users|files|connections|reactions|pins|team|usergroups|emoji|bookmarks"
    r"|reminders|app_mentions|links|calls|dnd|search|remote_files|canvases|lists|assistant)"
    r":(?:read|write|history|join|manage|customize|public|email)(?:\.[a-z_]+)*")


def scopes_named_in_the_package() -> dict[str, set[str]]:
    """Every scope name written anywhere in slacknb (fix texts, docstrings, the local server), by file."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "scopes.py":
            continue
        for name in SCOPE_NAME.findall(path.read_text()):
            found.setdefault(name.rstrip("."), set()).add(str(path.relative_to(PACKAGE.parent)))
    return found


def test_every_scope_the_code_names_is_in_the_table():
    named = scopes_named_in_the_package()
    # The scan must see the scopes of the fix texts, or it proves nothing.
    assert {"chat:write", "files:write", "users:read", "channels:history", "connections:write"} <= set(named)
    table = {row.name for row in SCOPES}
    missing = {name: sorted(files) for name, files in named.items() if name not in table}
    assert not missing, f"named in the code but not in slacknb/slack/scopes.py: {missing}"


def test_each_scope_is_declared_once_with_a_known_feature_and_token():
    names = [row.name for row in SCOPES]
    assert len(names) == len(set(names))
    for row in SCOPES:
        assert row.feature in FEATURES and row.token in (BOT_TOKEN, APP_TOKEN) and row.purpose
        assert SCOPE_NAME.fullmatch(row.name), row.name
    assert [row.name for row in SCOPES if row.required] == ["chat:write"]
    # The app-level token's scope is made by hand: never a bot scope.
    assert [row.name for row in SCOPES if row.token == APP_TOKEN] == ["connections:write"]
    assert {row.feature for row in SCOPES} == set(FEATURES)  # no feature without its scopes


def test_bot_scopes_leave_out_the_features_asked():
    every = bot_scopes()
    assert "connections:write" not in every and every[0] == "chat:write"
    assert bot_scopes(without={CHARTS}) == [name for name in every if name != "files:write"]
    with pytest.raises(ValueError, match="unknown features"):
        bot_scopes(without={"emoji"})


def test_scope_looks_a_row_up():
    assert scope("files:write").feature == CHARTS
    with pytest.raises(KeyError):
        scope("admin:everything")
