import io
import pytest

import numpy as np
from chainer.training.extensions import PrintReport

from slacknb.core.table import format_header, format_row, pick_entries


def printreport_output(entries, log):
    """What Chainer's PrintReport itself writes for ``log`` (escape codes removed)."""
    out = io.StringIO()
    report = PrintReport(entries, out=out)
    out.write(report._header)
    for observation in log:
        report._print(observation)
    return out.getvalue().replace("\033[J", "")


def test_same_layout_as_printreport():
    entries = ["epoch", "main/loss", "validation/main/accuracy", "elapsed_time"]
    log = [{"epoch": 1, "main/loss": 0.123456789, "elapsed_time": 1.5},
           {"epoch": 2, "main/loss": np.float32(1e-7), "validation/main/accuracy": 0.9,
            "elapsed_time": 12345.678}]
    expected = [line.rstrip() for line in printreport_output(entries, log).splitlines()]
    ours = [format_header(entries)] + [format_row(entries, o) for o in log]
    assert ours == expected


def test_non_numeric_values_do_not_break_the_row():
    assert format_row(["epoch", "note"], {"epoch": 1, "note": "warm-up"}).split() == ["1", "warm-up"]


def test_auto_entries_order():
    log = [{"elapsed_time": 1, "lr": 0.1, "validation/main/loss": 1, "main/loss": 2,
            "iteration": 10, "epoch": 1, "main/accuracy": 0.5}]
    assert pick_entries(log) == ["epoch", "iteration", "main/accuracy", "main/loss",
                                 "validation/main/loss", "lr", "elapsed_time"]


# -- the Slack table: aligned to what it shows -------------------------------------------

import re

from hypothesis import given, settings, strategies as st

from slacknb.core.context import RunContext
from slacknb.core.render import Renderer, utf8_len
from slacknb.core.state import ReportState
from slacknb.views.console import ConsoleView

CONTEXT = RunContext("h", "/p", "train.py", "", "")
WIDE_LOG = [{"epoch": 1, "main/loss": 12345.678901, "lr": 1e-7, "elapsed_time": 1.5},
            {"epoch": 2, "main/loss": 0.5, "lr": 0.001, "elapsed_time": 123456.25},
            {"epoch": 10, "main/loss": 0.03125, "lr": np.float32(0.1), "elapsed_time": 7}]
WIDE_ENTRIES = ["epoch", "main/loss", "lr", "elapsed_time"]


def slack_table(log, entries, **options) -> list[str]:
    state = ReportState(status="Training", log=log, entries=entries)
    text = Renderer(context=CONTEXT, template="{content}", **options).render(state)
    return text.split("```")[1].strip("\n").splitlines()


def anchors(line: str) -> list[int]:
    """Where each value's decimal point is (or would be, after its last digit)."""
    found = []
    for match in re.finditer(r"\S+", line):
        point = match.group().find(".")
        found.append(match.start() + (point if point >= 0 else len(match.group())))
    return found


def test_every_column_aligns_on_the_decimal_point():
    header, *rows = slack_table(WIDE_LOG, WIDE_ENTRIES)
    assert header.split() == WIDE_ENTRIES
    assert len({tuple(anchors(row)) for row in rows}) == 1, rows
    # A value wider than its header no longer pushes the next columns right:
    # every column ends at the same place in every row, under its header's end.
    ends = [m.end() for m in re.finditer(r"\S+", header)]
    assert all(max(m.end() for m in re.finditer(r"\S+", row)) <= ends[-1] + 2 for row in rows)


def test_numbers_have_printreport_digits():
    _, *rows = slack_table(WIDE_LOG, WIDE_ENTRIES)
    assert [row.split() for row in rows] == [
        ["1", "12345.7", "0.0000001", "1.5"],
        ["2", "0.5", "0.001", "123456"],
        ["10", "0.03125", "0.1", "7"],
    ]


def test_a_falling_loss_keeps_one_notation():
    log = [{"epoch": i, "main/loss": loss} for i, loss in enumerate([0.0123457, 0.000103481, 9.01748e-05, 2e-9], 1)]
    _, *rows = slack_table(log, ["epoch", "main/loss"])
    assert [row.split()[1] for row in rows] == ["0.0123457", "0.000103481", "0.0000901748", "2e-09"]
    assert len({tuple(anchors(row)) for row in rows[:3]}) == 1  # aligned on the point


def test_columns_are_as_wide_as_the_widest_value_shown():
    log = [{"epoch": 1, "main/loss": 123456789.5}] + [{"epoch": i, "main/loss": 0.25} for i in range(2, 400)]
    header, *rows = slack_table(log, ["epoch", "main/loss"], normalizer="fifo", max_bytes=256)
    assert rows[0].split()[0] != "1"  # the wide first row is not shown...
    assert header == "epoch  main/loss"  # ...so it widens nothing
    assert rows[-1] == "  399       0.25"


def test_text_values_are_escaped_and_aligned():
    log = [{"epoch": 1, "note": "<!channel> & `x`"}, {"epoch": 22, "note": "ok"}]
    header, *rows = slack_table(log, ["epoch", "note"])
    assert "<!channel>" not in "\n".join(rows) and "&lt;!channel&gt; &amp;" in rows[0]
    assert rows[1].endswith("ok") and rows[0].index("1") == rows[1].index("22") + 1


def test_the_console_keeps_printreports_exact_layout():
    out = io.StringIO()
    view = ConsoleView(out)

    class Frame:
        state = ReportState(log=WIDE_LOG)
        entries = tuple(WIDE_ENTRIES)

    view.refresh(Frame)
    expected = [line.rstrip() for line in printreport_output(WIDE_ENTRIES, WIDE_LOG).splitlines()]
    assert out.getvalue().splitlines() == expected


values = st.one_of(st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False, width=32),
                   st.sampled_from(["", "warm-up", "<&>"]))


@settings(max_examples=60, deadline=None)
@given(log=st.lists(st.fixed_dictionaries({"a": values, "bb/cc": values, "d": values}), min_size=1, max_size=300),
       budget=st.integers(256, 3000), strategy=st.sampled_from(["thin_out", "fifo", "lifo"]))
def test_any_log_fits_and_stays_aligned(log, budget, strategy):
    state = ReportState(status="Training", log=log, entries=["a", "bb/cc", "d"])
    text = Renderer(context=CONTEXT, max_bytes=budget, normalizer=strategy).render(state)
    assert utf8_len(text) <= budget
    if "```" in text and "[... cut" not in text:
        rows = [r for r in text.split("```")[1].strip("\n").splitlines()[1:]
                if "&" not in r and len(r.split()) == 3]  # rows with all three values numbers
        assert len({tuple(anchors(row)) for row in rows}) <= 1, rows


@settings(max_examples=80, deadline=None)
@given(log=st.lists(st.fixed_dictionaries({}, optional={"a": values, "bb/cc": values, "d": values}),
                    min_size=1, max_size=30))
def test_a_rows_cost_is_the_bytes_of_its_text(log):
    from slacknb.core.table import AlignedRows, empty_layout, merge_layout

    entries = ("a", "bb/cc", "d")
    rows = AlignedRows()
    rows.use(log, entries)
    layout = merge_layout(empty_layout(entries), *(rows.own_layout(log, entries, i) for i in range(len(log))))
    cost, text = rows.costs(log, entries, layout), rows.texts(log, entries, layout)
    for i in range(len(log)):
        assert cost(i) == len(text(i).encode("utf-8")) + 1, (log[i], text(i))


# -- values that are not plain numbers or text: never raise, never widen the table ---------

from slacknb.core.table import MAX_CELL, cells, format_value, value_text
from support.hostile import HOSTILE, RaisingNumber, RaisingStr


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__)
def test_every_hostile_value_makes_one_line_cell_within_the_width(value):
    parts, _, _ = cells(("v",), {"v": value})
    text = parts[0] + parts[1]
    assert len(text) <= MAX_CELL and "\n" not in text
    text.encode("utf-8")
    format_value(value, 10).encode("utf-8")  # the console's cell: whole, but it never raises


def test_a_value_whose_str_or_number_raises_shows_as_a_placeholder():
    assert cells(("a", "b"), {"a": RaisingStr(), "b": RaisingNumber()})[0] == ("?", "", "?", "")
    assert format_value(RaisingNumber(), 3) == "?  "
    assert value_text("a\ud800b") == "a?b"


def test_one_over_wide_value_is_cut_and_every_row_stays():
    log = [{"epoch": i, "main/loss": 0.5 / i, "note": "ok"} for i in range(1, 40)]
    log[5]["note"] = "x" * 100_000
    log[7]["note"] = np.arange(1000)
    log[9]["epoch"] = 10 ** 500
    header, *rows = slack_table(log, ["epoch", "main/loss", "note"])
    assert len(rows) == 39 and all(len(row) <= 3 * MAX_CELL + 2 * 2 for row in rows)
    assert rows[5].endswith("x" * (MAX_CELL - 1) + "\u2026")
    assert "[  0   1   2" in rows[7] and rows[7].endswith("\u2026")
    assert rows[9].split()[0].endswith("\u2026")
