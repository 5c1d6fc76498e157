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
