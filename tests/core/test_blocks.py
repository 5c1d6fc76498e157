"""The report as Block Kit sections with a Stop button: same text, within Slack's limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slacknb.core.render import Renderer
from slacknb.core.state import ReportState
from slacknb.core.blocks import SECTION_CHARS, STOP_ACTION_ID, report_blocks, split_sections


def content(text: str) -> list[str]:
    """The lines that are not a bare fence, without trailing blank ones (Slack drops those)."""
    kept = [line for line in text.split("\n") if line != "```"]
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


lines = st.lists(st.one_of(st.text(alphabet="ab &<>*_~`\u00e9\u3042", max_size=120), st.just("```")), max_size=80)


@given(lines, st.integers(min_value=40, max_value=400))
@settings(max_examples=300, deadline=None)
def test_pieces_fit_and_read_as_the_text(parts, limit):
    text = "\n".join(parts)
    pieces = split_sections(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    if all(len(line) <= limit - 8 for line in parts):
        # Every line arrives whole and in order; only fences were added.
        assert content("\n".join(pieces)) == content(text)
    if text.count("```") % 2 == 0 and all("```" not in p or p == "```" for p in parts):
        assert all(p.count("```") % 2 == 0 for p in pieces)


def test_a_4000_byte_report_fits_two_sections_and_keeps_its_code_block():
    state = ReportState(log=[{"epoch": i, "main/loss": 1 / (i + 1), "main/accuracy": 0.5} for i in range(400)])
    text = Renderer(max_bytes=4000).render(state)
    assert 3000 < len(text.encode()) <= 4000
    blocks = report_blocks(text, "feedc0ffee")
    sections = [b for b in blocks if b["type"] == "section"]
    assert len(sections) == 2
    assert all(len(s["text"]["text"]) <= SECTION_CHARS for s in sections)
    assert all(s["text"]["text"].count("```") % 2 == 0 for s in sections)
    assert content("\n".join(s["text"]["text"] for s in sections)) == content(text)
    assert sections[0]["text"]["text"].endswith("\n```") and sections[1]["text"]["text"].startswith("```\n")


def test_short_report_is_one_section_then_the_stop_button():
    blocks = report_blocks("Training - 0:00:01\n```\nepoch\n1\n```", "abc123")
    assert [b["type"] for b in blocks] == ["section", "actions"]
    assert blocks[0]["text"] == {"type": "mrkdwn", "text": "Training - 0:00:01\n```\nepoch\n1\n```"}
    [button] = blocks[1]["elements"]
    assert (button["action_id"], button["value"], button["style"]) == (STOP_ACTION_ID, "abc123", "danger")
    assert button["confirm"]["title"]["text"] == "Stop this run?"
