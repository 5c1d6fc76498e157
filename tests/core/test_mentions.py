"""Mentions as people write them: pure parsing, formatting, the prefix and the final text's slot."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from slacknb.core.mentions import (
    Mention,
    fill_slot,
    format_mentions,
    mention_slot,
    parse_mentions,
    people_only,
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


def test_parsed_mentions_pass_through_parsing_unchanged():
    parsed = parse_mentions("@alice U0BOB @here")
    assert parse_mentions(parsed) == parsed
    assert [m.raw for m in people_only(parsed)] == ["@alice", "U0BOB"]


def test_the_slot_is_as_wide_as_the_markup_will_likely_be_and_is_filled_once():
    mentions = parse_mentions("@alice U0BOB @here")
    slot = mention_slot(mentions)
    likely = len("<@U0123456789> <@U0123456789> <!here>")
    assert likely <= len(slot.encode()) < likely + 6
    text = f"Completed in 0:01:00\n{slot}"
    assert fill_slot(text, "<@U0ALICE> <@U0BOB> <!here>") == "Completed in 0:01:00\n<@U0ALICE> <@U0BOB> <!here>"
    assert fill_slot(text, "") == "Completed in 0:01:00\n"
    assert mention_slot(()) == "" and fill_slot("no slot", "<@U1>") == "no slot"

