"""The ``{trend}`` sparkline: bounded width, honest shape, odd values handled."""

import math

import pytest
from hypothesis import given, strategies as st

from slacknb.core.trend import BARS, GAP, MAX_WIDTH, WINDOW, main_loss_key, sparkline, trend

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
anything = st.one_of(st.floats(), st.none(), st.text(max_size=3))
widths = st.integers(min_value=1, max_value=MAX_WIDTH)


def loss_log(values):
    return [{"epoch": i + 1, "main/loss": v} for i, v in enumerate(values)]


def bars_of(text: str) -> str:
    key, bars, latest = text.split(" ")
    return bars


@given(st.lists(anything, max_size=300), widths)
def test_width_is_bounded_and_only_bars_or_gaps(values, width):
    line = sparkline(values, width=width)
    assert len(line) == min(width, len(values))
    assert set(line) <= set(BARS) | {GAP}


@given(st.lists(finite, min_size=1, max_size=500), widths)
def test_trend_of_any_log_is_bounded(values, width):
    text = trend(loss_log(values), width=width)
    assert text.startswith("main/loss ")
    assert 1 <= len(bars_of(text)) <= width


@given(st.lists(finite, min_size=2, max_size=400), widths)
def test_falling_loss_never_draws_a_rising_bar(values, width):
    falling = sorted(values, reverse=True)
    levels = [BARS.index(c) for c in bars_of(trend(loss_log(falling), width=width))]
    assert levels == sorted(levels, reverse=True)


@given(st.lists(finite, min_size=2, max_size=400, unique=True), st.integers(min_value=2, max_value=MAX_WIDTH))
def test_rising_series_spans_lowest_to_highest_bar(values, width):
    line = sparkline(sorted(values)[:width], width=width)
    levels = [BARS.index(c) for c in line]
    assert levels == sorted(levels)
    assert line[0] == BARS[0] and line[-1] == BARS[-1]


@given(st.lists(finite, max_size=50), st.lists(st.sampled_from([math.nan, math.inf, -math.inf, None]), min_size=1))
def test_nan_and_inf_are_gaps_and_do_not_squash_the_scale(values, odd):
    line = sparkline([*values, *odd], width=MAX_WIDTH)
    assert line.endswith(GAP * min(len(odd), MAX_WIDTH))
    if len(set(values)) > 1 and len(values) + len(odd) <= MAX_WIDTH:
        assert BARS[0] in line and BARS[-1] in line


@given(finite, widths)
def test_one_point(value, width):
    assert trend(loss_log([value]), width=width) == f"main/loss {BARS[0]} {value:.4g}"


@given(finite, st.integers(min_value=1, max_value=300), widths)
def test_constant_series_is_flat(value, count, width):
    assert set(bars_of(trend(loss_log([value] * count), width=width))) == {BARS[0]}


def test_reads_like_the_issue_example():
    values = [2.0, 1.2, 0.7, 0.4, 0.3, 0.1]
    assert trend(loss_log(values), width=6) == "main/loss █▅▃▂▂▁ 0.1"


def test_diverged_run_shows_gap_and_latest_nan():
    text = trend(loss_log([1.0, 0.5, 0.25, math.nan]), width=4)
    assert text == f"main/loss █▃▁{GAP} nan"


def test_cost_is_bounded_in_the_log_length():
    class CountingRow(dict):
        reads = 0

        def get(self, key, default=None):
            CountingRow.reads += 1
            return super().get(key, default)

    log = [CountingRow({"main/loss": 1 / (i + 1)}) for i in range(100_000)]
    trend(log, width=12)
    assert CountingRow.reads <= 12 * WINDOW


def test_no_loss_no_trend():
    assert trend([]) == ""
    assert trend([{"epoch": 1, "main/accuracy": 0.5}]) == ""


def test_main_loss_key_prefers_main_then_training_losses():
    assert main_loss_key([{"validation/main/loss": 1, "main/loss": 2}]) == "main/loss"
    assert main_loss_key([{"val/loss": 1, "train/loss": 2}]) == "train/loss"
    assert main_loss_key([{"loss": 1}]) == "loss"
    assert main_loss_key([{"validation/main/loss": 1}]) is None


@pytest.mark.parametrize("width", [0, MAX_WIDTH + 1, 2.5, True, "8"])
def test_bad_width_names_the_range(width):
    with pytest.raises(ValueError, match=f"1 to {MAX_WIDTH}"):
        trend(loss_log([1.0]), width=width)


def test_loss_falling_over_decades_is_drawn_on_a_log_scale():
    values = [10.0 ** -e for e in range(8)]  # 1 .. 1e-7
    bars = bars_of(trend(loss_log(values), width=8))
    levels = [BARS.index(c) for c in bars]
    assert levels == [7, 6, 5, 4, 3, 2, 1, 0]  # one step per decade, not one tall bar then flat


def test_values_whose_number_or_text_raises_never_stop_the_trend():
    from support.hostile import RaisingNumber, RaisingStr

    log = loss_log([1.0, RaisingNumber(), 0.5, RaisingStr()])
    assert trend(log).split(" ")[2] == "?"
    assert trend(loss_log([2.0, 1.0, "x" * 100_000])).split(" ")[2] == "x" * 19 + "\u2026"
    trend([{"main/\ud800loss": 1.0}, {"main/\ud800loss": 0.5}]).encode("utf-8")
