"""The console tail a cell's failure alert shows: what was printed last, bounded."""

from __future__ import annotations

import io
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from slacknb.notebook.tail import ConsoleTail, TailBuffer, TeeStream


def test_tail_keeps_the_last_lines_and_writes_through():
    sink = io.StringIO()
    tail = TailBuffer(max_lines=3, max_chars=100)
    tee = TeeStream(sink, tail)
    for i in range(10):
        tee.write(f"line {i}\n")
    tee.write("partial")
    assert sink.getvalue() == "".join(f"line {i}\n" for i in range(10)) + "partial"
    assert tail.text() == "line 8\nline 9\npartial"
    assert tee.getvalue() == sink.getvalue()  # other attributes are the stream's


def test_tail_cleans_progress_bars_and_colours():
    tail = TailBuffer()
    tail.write("\x1b[31mred\x1b[0m\n")
    tail.write("10%\r")
    tail.write("20%\r")
    tail.write("done\r\n")
    tail.write("\x1b[2Aup\x1b[J\n")
    tail.write("50%\r")
    assert tail.text() == "red\ndone\nup\n50%"


def test_tail_bounds_one_endless_line():
    tail = TailBuffer(max_lines=5, max_chars=50)
    for _ in range(1000):
        tail.write("x" * 97)
    assert tail.text() == "x" * 50


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.text(alphabet="ab\n", max_size=30), max_size=30),
       max_lines=st.integers(1, 6), max_chars=st.integers(5, 40))
def test_tail_is_the_longest_suffix_within_bounds(chunks, max_lines, max_chars):
    tail = TailBuffer(max_lines=max_lines, max_chars=max_chars)
    for chunk in chunks:
        tail.write(chunk)
    lines = "".join(chunks).split("\n")
    if not lines[-1]:
        lines.pop()  # a finished last line leaves no empty partial
    lines = [line[-max_chars:] for line in lines]

    def fits(kept):
        return len(kept) <= max_lines and len("\n".join(kept)) <= max_chars

    expected = []
    for line in reversed(lines):
        if not fits([line] + expected):
            break
        expected.insert(0, line)
    if not expected and lines:
        expected = [lines[-1][-max_chars:]]
    assert tail.text() == "\n".join(expected)


def test_console_tail_tees_both_streams_and_restores_them(capsys):
    before = sys.stdout, sys.stderr
    with ConsoleTail() as outer:
        print("outer")
        with ConsoleTail() as inner:
            print("inner", file=sys.stderr)
        assert (sys.stdout, sys.stderr) != before
        print("outer again")
    assert (sys.stdout, sys.stderr) == before
    assert outer.text() == "outer\ninner\nouter again"
    assert inner.text() == "inner"
    captured = capsys.readouterr()
    assert captured.out == "outer\nouter again\n" and captured.err == "inner\n"


def test_console_tail_leaves_a_stream_the_cell_replaced():
    replacement = io.StringIO()
    saved = sys.stdout
    try:
        with ConsoleTail():
            sys.stdout = replacement
        assert sys.stdout is replacement
    finally:
        sys.stdout = saved
