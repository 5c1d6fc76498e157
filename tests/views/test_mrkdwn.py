"""The preview shows the message as Slack shows it: mrkdwn made HTML, every text escaped."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, strategies as st

from support.markup import parse
from slacknb.core.slack_text import escape, slack_date
from slacknb.slack.mirror import MirrorState
from slacknb.views.mrkdwn import mrkdwn_html, mrkdwn_text, preview_html

NOW = 1796102577  # 2026-12-01 05:22:57 UTC


def test_bold_italic_strike_and_inline_code():
    root = parse(mrkdwn_html("*Completed* after _3 h_ ~ok~ `gpu:~/x$ train.py`"))
    assert root.find(tag="strong").text() == "Completed"
    assert root.find(tag="em").text() == "3 h"
    assert root.find(tag="del").text() == "ok"
    assert root.find(tag="code").text() == "gpu:~/x$ train.py"
    assert "*" not in root.text() and "`" not in root.text()


def test_markers_inside_words_are_text():
    assert mrkdwn_text("a*b*c snake_case_name 2*3") == "a*b*c snake_case_name 2*3"


def test_code_block_keeps_its_text_and_slacks_escapes_are_undone():
    text = "Training\n```\nepoch  &lt;b&gt;\n    1  *x*\n```\n<@U0ALICE>"
    root = parse(mrkdwn_html(text))
    assert root.find(tag="pre").text() == "epoch  <b>\n    1  *x*"  # no emphasis inside code
    assert root.find("slacknb-mention").text() == "@U0ALICE"
    assert mrkdwn_text(text) == "Training\nepoch  <b>\n    1  *x*\n@U0ALICE"


def test_zero_width_spaces_that_guard_backticks_are_not_shown():
    assert parse(mrkdwn_html("```\n`\u200b`\u200b`\n```")).find(tag="pre").text() == "```"


@pytest.mark.parametrize("markup, shown", [
    ("<@U0ALICE|alice>", "@alice"), ("<!here>", "@here"), ("<!channel>", "@channel"),
    ("<!subteam^S0TEAM|@ml-team>", "@ml-team"), ("<#C0TRAINING|training>", "#training"),
    ("<https://example.com/a?b=1&amp;c=2|the run>", "the run"),
])
def test_control_sequences_read_as_slack_shows_them(markup, shown):
    assert mrkdwn_text(markup) == shown


def test_links_are_http_only():
    assert parse(mrkdwn_html("<https://x.y/z|open>")).find(tag="a").attrs["href"] == "https://x.y/z"
    assert parse(mrkdwn_html("<javascript:alert(1)|x>")).find_all(tag="a") == []


def test_the_staleness_date_reads_as_a_time():
    root = parse(mrkdwn_html(f"Training (updated {slack_date(NOW)})"))
    assert root.text() == "Training (updated 05:22:57 UTC)"
    assert root.find(tag="time").attrs["datetime"] == "2026-12-01T05:22:57Z"
    assert "<!date" not in root.text()
    assert mrkdwn_text(slack_date(NOW, "{date_num}")) == "2026-12-01 05:22:57 UTC"  # the fallback


@given(st.text())
def test_any_text_is_escaped(text):
    # Whatever a metric name or a traceback holds, only tags made here reach the page.
    markup = mrkdwn_html(escape(text))
    tags = {node.tag for node in parse(markup).walk()}
    assert tags <= {"strong", "em", "del", "code", "pre", "span", "a", "time"}


def test_preview_shows_the_rendered_message_and_its_exact_source():
    text = f"*Completed* - 0:00:20 (updated {slack_date(NOW)})\n```\nepoch\n    1\n```"
    root = parse(preview_html(text, MirrorState("synced", sent_text=text)))
    assert root.find("slacknb-preview-note").text() == "exactly what Slack shows"
    assert root.find("slacknb-preview").find(tag="strong").text() == "Completed"
    assert "<!date" not in root.find("slacknb-preview").text()
    assert root.find("slacknb-preview-source").text() == text


def test_overlapping_emphasis_still_nests():
    root = parse(mrkdwn_html("*a _b* c_"))  # parse() fails on tags that do not nest
    assert root.find(tag="strong").text() == "a _b"


def test_an_unclosed_fence_is_text():
    root = parse(mrkdwn_html("a ```\ncode\n``` b ```c"))
    assert [pre.text() for pre in root.find_all(tag="pre")] == ["code"] and root.text().endswith(" b ```c")
    root = parse(mrkdwn_html("x ```never closed"))
    assert root.find_all(tag="pre") == [] and root.text() == "x ```never closed"


def test_user_ids_read_as_names_where_known():
    names = {"U0ALICE": "alice"}
    assert mrkdwn_text("<@U0ALICE> <@U0BOB> <@U0ALICE|ally>", names) == "@alice @U0BOB @ally"


# The mirror's state carries ``names`` (user ID -> name, from the mention look-ups).
NamedState = dataclasses.make_dataclass(
    "NamedState", [("names", dict, dataclasses.field(default_factory=dict))], bases=(MirrorState,), frozen=True)


def test_the_preview_shows_mentions_by_the_names_the_sync_state_knows():
    text = "Stopped by <@U0ALICE> - 0:00:20\n<@U0ALICE> <@U0BOB>"
    root = parse(preview_html(text, NamedState("synced", sent_text=text, names={"U0ALICE": "alice"})))
    assert [m.text() for m in root.find("slacknb-preview").find_all("slacknb-mention")] == [
        "@alice", "@alice", "@U0BOB"]
    assert root.find("slacknb-preview-source").text() == text  # the source stays exactly what Slack got


def test_without_names_the_preview_shows_user_ids():
    text = "<@U0ALICE>"
    for sync in (MirrorState("synced", sent_text=text), NamedState("synced", sent_text=text, names={})):
        assert parse(preview_html(text, sync)).find("slacknb-mention").text() == "@U0ALICE"
