"""Mentions: pure parsing and formatting, then resolution against the local server."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, strategies as st
from slack_sdk import WebClient

from slacknb.slack.mentions import (
    Mention,
    MentionResolver,
    format_mentions,
    parse_mentions,
    translate_prefix,
)


def kinds(spec):
    return [(m.kind, m.value) for m in parse_mentions(spec)]


def test_ids_specials_groups_emails_and_names_are_told_apart():
    assert kinds("U0ALICE, @W0BOB S0TEAM @here channel @Everyone carol@example.com @dave Erin") == [
        ("user", "U0ALICE"),
        ("user", "W0BOB"),
        ("group", "S0TEAM"),
        ("special", "here"),
        ("special", "channel"),
        ("special", "everyone"),
        ("email", "carol@example.com"),
        ("name", "dave"),
        ("name", "erin"),
    ]


def test_ready_made_control_sequences_are_accepted():
    assert kinds("<@U0ALICE> <!subteam^S0TEAM|devs> <!here>") == [
        ("user", "U0ALICE"),
        ("group", "S0TEAM"),
        ("special", "here"),
    ]


def test_duplicates_and_blanks_are_dropped_and_lists_keep_spaces_in_names():
    assert kinds(" ,, @alice alice ;U1X U1X ") == [("name", "alice"), ("user", "U1X")]
    assert kinds(["Alice Smith", "U0BOB", ""]) == [("name", "alice smith"), ("user", "U0BOB")]
    assert parse_mentions(None) == () and parse_mentions("") == ()


def test_wrong_types_are_refused():
    with pytest.raises(TypeError, match="mentions"):
        parse_mentions(42)
    with pytest.raises(TypeError, match="string"):
        parse_mentions(["U1", None])


def test_markup_and_formatting():
    assert Mention("user", "U1", "U1").markup == "<@U1>"
    assert Mention("group", "S1", "S1").markup == "<!subteam^S1>"
    assert Mention("special", "here", "@here").markup == "<!here>"
    assert Mention("name", "alice", "@alice").markup is None
    assert format_mentions(["<@U1>", None, "", "<!here>"]) == "<@U1> <!here>"
    assert format_mentions([]) == ""


def test_alert_prefix_translation():
    assert translate_prefix("@here") == "<!here>"
    translated = translate_prefix(":rotating_light: @channel look, @U0ALICE")
    assert translated == ":rotating_light: <!channel> look, <@U0ALICE>"
    assert translate_prefix("<!here> already") == "<!here> already"
    assert translate_prefix("mail me@here.com") == "mail me@here.com"


@given(st.lists(st.text(max_size=12), max_size=8))
def test_parsing_never_fails_on_strings_and_never_yields_none_or_brackets(words):
    parsed = parse_mentions(words)
    text = format_mentions(m.markup for m in parsed)
    assert "None" not in text and "[]" not in text


# -- resolution against the local server --------------------------------------------


def resolver_for(server, token=None):
    client = WebClient(token=token or server.token, base_url=server.url, retry_handlers=[])
    stop = threading.Event()
    return MentionResolver(client, wait=lambda seconds: not stop.wait(seconds))


def test_names_resolve_by_name_display_name_or_real_name_across_pages(server):
    users = server.workspace.users
    last = users[-1]
    last.display_name = "Zed"
    alice = next(u for u in users if u.name == "alice")
    alice.real_name = "Alice Liddell"
    resolution = resolver_for(server).resolve(parse_mentions(["@zed", "Alice Liddell", "U0BOB", "@here"]), timeout=5)
    assert resolution.markup == f"<@{last.id}> <@U0ALICE> <@U0BOB> <!here>"
    assert resolution.unresolved == () and resolution.problem == ""
    assert server.call_counts()["users.list"] == 2


def test_the_user_directory_is_cached_per_workspace(server):
    resolver_for(server).resolve(parse_mentions("@alice"), timeout=5)
    resolver_for(server).resolve(parse_mentions("@bob"), timeout=5)
    assert server.call_counts()["users.list"] == 2  # one read of two pages, then the cache


def test_deleted_users_and_unknown_names_stay_unresolved(server):
    bob = next(u for u in server.workspace.users if u.name == "bob")
    bob.deleted = True
    resolution = resolver_for(server).resolve(parse_mentions("@bob @ghost alice"), timeout=5)
    assert resolution.markup == "<@U0ALICE>" and resolution.unresolved == ("@bob", "@ghost")


def test_emails_use_lookup_by_email(server):
    resolution = resolver_for(server).resolve(parse_mentions("ALICE@example.com nobody@example.com"), timeout=5)
    assert resolution.markup == "<@U0ALICE>" and resolution.unresolved == ("nobody@example.com",)
    assert server.call_counts()["users.lookupByEmail"] == 2 and server.call_counts()["users.list"] == 0


def test_a_missing_scope_is_named(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s not in ("users:read", "users:read.email"))
    resolution = resolver_for(server).resolve(parse_mentions("@alice alice@example.com U0BOB"), timeout=5)
    assert resolution.markup == "<@U0BOB>" and resolution.unresolved == ("@alice", "alice@example.com")
    assert "users:read" in resolution.problem and "users:read.email" in resolution.problem


def test_a_rate_limited_page_is_waited_out(server):
    server.inject("users.list", error="ratelimited", retry_after=1)
    resolution = resolver_for(server).resolve(parse_mentions("@alice"), timeout=5)
    assert resolution.markup == "<@U0ALICE>" and server.early_retries == 0


def test_resolution_gives_up_at_its_deadline(server):
    server.inject("users.list", error="ratelimited", retry_after=3)
    resolution = resolver_for(server).resolve(parse_mentions("@alice U0BOB"), timeout=1)
    assert resolution.markup == "<@U0BOB>" and resolution.unresolved == ("@alice",)
    assert "ratelimited" in resolution.problem
