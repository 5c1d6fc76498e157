from hypothesis import given, strategies as st

from slacknb.core.slack_text import code_block, escape, slack_date, utc_text


def test_escape_neutralises_control_sequences():
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def test_escape_leaves_other_characters_alone():
    assert escape("it's \"fine\" ü") == "it's \"fine\" ü"


@given(st.text())
def test_code_block_cannot_be_closed_early(text):
    block = code_block(escape(text))
    inner = block[4:-4]
    assert block.startswith("```\n") and block.endswith("\n```")
    assert "```" not in inner
    assert "<" not in inner and ">" not in inner


def test_slack_date_markup_and_fallback():
    assert slack_date(0) == "<!date^0^{ago}|1970-01-01 00:00:00 UTC>"
    assert slack_date(1796102577.99, "{date_num} {time_secs}") == \
        "<!date^1796102577^{date_num} {time_secs}|2026-12-01 05:22:57 UTC>"
    assert slack_date(None) == "" and slack_date(float("nan")) == ""
    assert utc_text(86399) == "1970-01-01 23:59:59 UTC"


from slacknb.core.slack_text import ELLIPSIS, PLACEHOLDER, cut, cut_utf8, encodable, shorten, text_of, utf8_len
from support.hostile import RaisingStr


def test_text_of_never_raises_and_is_always_sendable():
    assert text_of(RaisingStr()) == PLACEHOLDER
    assert text_of("ab\ud800c") == "ab?c"
    assert text_of(3.5) == "3.5" and text_of("é") == "é"


@given(st.text())
def test_encodable_keeps_the_length_and_encodes(text):
    out = encodable(text)
    assert len(out) == len(text)
    out.encode("utf-8")


def test_byte_counts_and_cuts_never_raise_on_a_lone_surrogate():
    assert utf8_len("a\ud800") == 4  # more than the '?' that is sent instead
    assert cut_utf8("a\ud800b", 10) == "ab"
    assert utf8_len(cut("\ud800" * 500, 300)) <= 300


def test_shorten_ends_with_an_ellipsis_within_the_width():
    assert shorten("abcdef", 6) == "abcdef"
    assert shorten("abcdefg", 6) == "abcde" + ELLIPSIS
