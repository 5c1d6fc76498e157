"""When a run is stalled (a table of samples on a fake timeline) and what its reply says."""

from __future__ import annotations

import os

import pytest

from slacknb.core.stall import (
    AUTO_FLOOR,
    Resumed,
    Stalled,
    StallState,
    duration_words,
    resumed_reply,
    stall_reply,
    step,
    threshold,
    where_text,
)


@pytest.mark.parametrize("stall_after, longest, expected", [
    (None, None, None),          # automatic, no iteration yet: nothing to learn from
    (None, 1.0, AUTO_FLOOR),     # fast iterations: the 5-minute floor
    (None, 29.9, AUTO_FLOOR),
    (None, 60.0, 600.0),         # 10 times the longest interval
    (0.0, 60.0, None),           # off
    (2.0, None, 2.0),            # fixed, from the start
    (2.0, 60.0, 2.0),
])
def test_threshold(stall_after, longest, expected):
    assert threshold(stall_after, longest) == expected


def run_samples(stall_after, samples, start_iteration=0):
    """Feed (time, iteration) samples from t=0; the events, as (time, event) pairs."""
    state = StallState(start_iteration, 0.0, 1_000_000.0)
    events = []
    for now, iteration in samples:
        state, event = step(state, iteration, now=now, wall=1_000_000.0 + now, stall_after=stall_after)
        if event is not None:
            events.append((now, event))
    return events


def test_automatic_waits_for_a_first_iteration_then_uses_the_floor():
    # The first iteration may compile or download for a long time: not a stall.
    assert run_samples(None, [(t, 0) for t in range(0, 2000, 100)]) == []
    events = run_samples(None, [(10.0, 1), (309.0, 1), (310.0, 1), (311.0, 1), (400.0, 1)])
    assert events == [(310.0, Stalled(idle=300.0, iteration=1, wall=1_000_010.0))]  # once


def test_automatic_learns_the_longest_interval():
    samples = [(10.0, 1), (20.0, 2), (80.0, 3), (679.0, 3), (680.0, 3)]  # 60 s once: 600 s
    assert run_samples(None, samples) == [(680.0, Stalled(idle=600.0, iteration=3, wall=1_000_080.0))]


def test_a_fixed_threshold_counts_from_the_start_and_resumes():
    samples = [(1.0, 0), (1.99, 0), (2.0, 0), (3.0, 0), (6.5, 1), (7.0, 2), (8.9, 2), (9.0, 2)]
    assert run_samples(2.0, samples) == [
        (2.0, Stalled(idle=2.0, iteration=0, wall=1_000_000.0)),
        (6.5, Resumed(lasted=6.5, iteration=1, wall=1_000_006.5)),
        (9.0, Stalled(idle=2.0, iteration=2, wall=1_000_007.0)),  # a second stall is a new one
    ]


def test_zero_turns_the_watch_off():
    assert run_samples(0.0, [(10.0, 1), (10_000.0, 1), (100_000.0, 1)]) == []


def test_a_resumed_run_starts_from_its_first_iteration_count():
    assert run_samples(2.0, [(1.0, 500), (3.0, 500)], start_iteration=500) == [
        (3.0, Stalled(idle=3.0, iteration=500, wall=1_000_000.0))]


@pytest.mark.parametrize("seconds, words", [(0, "0 s"), (59.9, "59 s"), (60, "1 min"), (12 * 60 + 59, "12 min"),
                                            (3600, "1 h 00 min"), (2 * 3600 + 5 * 60, "2 h 05 min")])
def test_duration_words(seconds, words):
    assert duration_words(seconds) == words


def test_the_stall_reply_reads_as_the_issue_says_and_mentions_first():
    event = Stalled(idle=12 * 60 + 3, iteration=3201, wall=1_796_000_000.0)
    text = stall_reply(event, "WHERE", mentions="<@U0ALICE>")
    first, where = text.split("\n")
    assert first == ("<@U0ALICE> :hourglass_flowing_sand: Stalled: no iteration for 12 min (last: iteration 3,201 at "
                     "<!date^1796000000^{date_short_pretty} {time_secs}|2026-11-30 00:53:20 UTC>)")
    assert where == "WHERE"
    assert "no iteration yet" in stall_reply(Stalled(5.0, 0, 1_796_000_000.0), "")


def test_the_resumed_reply_says_how_long_and_keeps_where_it_waited():
    stalled = Stalled(idle=12 * 60, iteration=3201, wall=1_796_000_000.0)
    text = resumed_reply(Resumed(lasted=14 * 60, iteration=3202, wall=1_796_000_840.0), stalled, "WHERE")
    assert text.startswith(":arrow_forward: Stalled for 14 min, then resumed: iteration 3,202 ended at <!date^1796000840^")
    assert "(last: iteration 3,201 at <!date^1796000000^" in text
    assert text.endswith("Where it waited:\nWHERE")


def test_where_text_is_faulthandlers_layout_innermost_first_home_shortened(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    frames = [(str(tmp_path / "proj" / "train.py"), 31, "slow_iteration"),
              ("/usr/lib/python3.11/threading.py", 320, "wait")] + [("/x/a<b>.py", n, "f") for n in range(10)]
    text = where_text(frames, limit=3)
    assert text.splitlines() == [
        "```",
        "Training thread (most recent call first):",
        f'  File "~{os.sep}proj{os.sep}train.py", line 31 in slow_iteration',
        '  File "/usr/lib/python3.11/threading.py", line 320 in wait',
        '  File "/x/a&lt;b&gt;.py", line 0 in f',
        "  ... 9 more",
        "```",
    ]
    assert where_text([]) == ""
