from hypothesis import given, strategies as st

from slacknb.core.slack_text import code_block, escape


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
