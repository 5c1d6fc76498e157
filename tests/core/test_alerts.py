"""The end-of-run reply texts: pure functions, no Slack needed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from slacknb.core.alerts import (
    REPLY_CHARS,
    escaped_tail,
    failure_alert,
    finish_reply,
    outcome_line,
    wants_reply,
)
from slacknb.core.state import FINAL_STATUSES, Status


def test_status_words_and_prepositions():
    assert outcome_line("completed", "0:03:12") == ":white_check_mark: *Completed* in 0:03:12"
    assert outcome_line("failed", "0:03:12") == ":x: *Failed* after 0:03:12"
    assert outcome_line("interrupted", "0:03:12") == ":warning: *Interrupted* after 0:03:12"
    with pytest.raises(ValueError, match="completed, failed, interrupted"):
        outcome_line("crashed", "0:00:01")


def test_finish_reply_puts_mentions_first_and_escapes_the_label():
    text = finish_reply(outcome="completed", elapsed="0:03:12", label="a<b>&c", mentions="<@U0ALICE> <!here>")
    assert text == "<@U0ALICE> <!here> :white_check_mark: *Completed* in 0:03:12 \u00b7 a&lt;b&gt;&amp;c"
    assert finish_reply(outcome="failed", elapsed="1:00:00") == ":x: *Failed* after 1:00:00"


def test_failure_alert_layout():
    text = failure_alert(
        elapsed="0:03:12",
        label="mnist",
        error="ValueError: lr <0",
        traceback_tail="Traceback (most recent call last):\n  File \"x.py\"\nValueError: lr <0",
        console_tail="loss=nan",
        prefix="<!here>",
    )
    lines = text.split("\n")
    assert lines[0] == "<!here> :x: *Failed* after 0:03:12 \u00b7 mnist"
    assert lines[1] == "ValueError: lr &lt;0"
    assert lines[2] == "Traceback (last lines):" and lines[3] == "```"
    assert "Console (last lines):" in lines and lines[-1] == "```" and "loss=nan" in lines


def test_failure_alert_without_details_is_just_the_status_line():
    assert failure_alert(elapsed="0:00:05") == ":x: *Failed* after 0:00:05"
    assert failure_alert(elapsed="0:00:05", traceback_tail="  \n", console_tail="") == ":x: *Failed* after 0:00:05"


def test_traceback_tail_keeps_the_last_twenty_lines():
    tb = "\n".join(f"line {i}" for i in range(100))
    tail = escaped_tail(tb, max_lines=20, max_chars=2500)
    kept = tail.split("\n")
    assert kept[0] == "\u2026" and kept[1:] == [f"line {i}" for i in range(80, 100)]


def test_tail_is_bounded_after_escaping_and_never_splits_an_entity():
    tail = escaped_tail("x\n" + "&" * 5000, max_lines=20, max_chars=100)
    assert tail == "\u2026\n" + "&amp;" * 19  # 19 whole entities fit in the 98 characters left
    assert escaped_tail("<" * 50, max_lines=20, max_chars=30) == "\u2026" + "&lt;" * 7


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=3000),
    st.text(max_size=3000),
    st.text(max_size=600),
    st.text(max_size=60),
)
def test_any_alert_stays_under_slacks_limit_and_its_code_blocks_hold(traceback_tail, console_tail, error, label):
    text = failure_alert(
        elapsed="0:00:01", label=label, error=error, traceback_tail=traceback_tail, console_tail=console_tail
    )
    assert len(text) <= REPLY_CHARS
    # Everything the user did not author is escaped: the only "<" could come from a prefix.
    assert "<" not in text and ">" not in text
    assert text.count("```") % 2 == 0



def test_terminated_reads_by_which_signal_in_its_alert_and_finish_reply():
    assert outcome_line("terminated", "0:12:03", "mnist", cause="SIGTERM") == (
        ":no_entry: *Terminated* by SIGTERM after 0:12:03 \u00b7 mnist")
    text = failure_alert(outcome="Terminated", elapsed="0:12:03", label="mnist", error="SIGTERM",
                         console_tail="epoch 3\n", prefix="<!here>")
    lines = text.split("\n")
    assert lines[0] == "<!here> :no_entry: *Terminated* by SIGTERM after 0:12:03 \u00b7 mnist"
    assert lines[1] == "Console (last lines):" and "epoch 3" in lines  # the signal is not repeated
    assert finish_reply(outcome="terminated", elapsed="0:12:03", mentions="<@U0ALICE>") == (
        "<@U0ALICE> :no_entry: *Terminated* after 0:12:03")


@pytest.mark.parametrize("alert, status, iterations, expected", [
    ("all", "Terminated", 5, True),
    ("failed", "Terminated", 5, True),
    ("failed", "Terminated", 1, False),       # min_iterations=2: a quick debug run pings nobody
    ("completed", "Terminated", 5, False),
    ("none", "Terminated", 5, False),
    ("failed", "Failed", 5, True),
    ("completed", "Stopped", 0, True),
    ("failed", "Completed", 5, False),
    ("all", "Interrupted", 0, True),
    ("failed", "Interrupted", 5, False),
])
def test_which_endings_send_a_reply(alert, status, iterations, expected):
    assert wants_reply(alert, Status(status), iterations=iterations, min_iterations=2) is expected


def test_terminated_is_final_and_stalled_is_not():
    assert Status.TERMINATED in FINAL_STATUSES and Status.TERMINATED.final
    assert not Status.STALLED.final and str(Status.STALLED) == "Stalled" and f"{Status.TERMINATED}" == "Terminated"
