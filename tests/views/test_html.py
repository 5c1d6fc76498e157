"""The report as text/html and text/plain: content, layout, escaping, standalone HTML."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from slacknb.core.trend import trend
from slacknb.views import html as report_html
from slacknb.core.context import RunContext
from slacknb.slack.mirror import MirrorState
from slacknb.core.render import Renderer
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED, STALLED, STARTED, TERMINATED, TRAINING, ReportState
from slacknb.run import Frame
from slacknb.core.table import RowFormat, format_header

from support.markup import CONTEXT, ENTRIES, LINK, make_log, parse, table_rows

def text_of(frame, **options):
    return report_html.frame_text(frame, context=CONTEXT, **options)


def html_of(frame, **options):
    return report_html.frame_html(frame, context=CONTEXT, **options)


def make_frame(state, sync=None, context=CONTEXT):
    renderer = Renderer(context=context)
    sync = sync if sync is not None else MirrorState("synced", permalink=LINK)
    return Frame(state, renderer.entries(state), renderer.render(state), sync)


# -- text/plain -----------------------------------------------------------------------

def test_text_is_status_bar_printreport_table_and_slack_line():
    log = make_log(3)
    state = ReportState(status=TRAINING, log=log, entries=ENTRIES, elapsed=65.7, progress=0.3, eta=153.2)
    text = text_of(make_frame(state))
    fmt = RowFormat(ENTRIES)
    assert text.splitlines() == [
        "[Training]  gpu-host:/srv/exp  elapsed 0:01:05  ETA 0:02:33  " + trend(log),
        "[######--------------] 30%",
        format_header(ENTRIES),
        fmt(log[0]), fmt(log[1]), fmt(log[2]),
        f"Slack: synced  {LINK}",
    ]


def test_text_keeps_the_newest_rows_and_counts_the_rest():
    log = make_log(120)
    state = ReportState(status=COMPLETED, log=log, entries=ENTRIES, elapsed=10, progress=1.0)
    lines = text_of(make_frame(state), max_rows=5).splitlines()
    assert lines[0] == "[Completed]  gpu-host:/srv/exp  elapsed 0:00:10  " + trend(log)  # no ETA once finished
    assert lines[3] == "(115 earlier rows not shown)"
    assert lines[4:9] == [RowFormat(ENTRIES)(o) for o in log[-5:]]
    assert lines[8].split()[0] == "120"


def test_text_without_rows_progress_or_link():
    state = ReportState(status=STARTED, label="mnist")
    text = text_of(make_frame(state, MirrorState("local", "no channel given")))
    assert text.splitlines() == [
        "[Started]  gpu-host:/srv/exp  elapsed 0:00:00  mnist",
        "(no log rows yet)",
        "Slack: local only: no channel given",
    ]


def test_context_defaults_to_this_process():
    frame = make_frame(ReportState())
    assert report_html.frame_text(frame).splitlines()[0].split()[1].startswith(socket.gethostname() + ":")


# -- text/html ------------------------------------------------------------------------

def test_html_parts_carry_stable_classes_and_data_attributes():
    log = make_log(4)
    state = ReportState(status=TRAINING, log=log, entries=ENTRIES, elapsed=3725, progress=0.25, eta=11175)
    frame = make_frame(state)
    root = parse(html_of(frame))
    report = root.find("slacknb-report")
    assert report.attrs["data-status"] == "Training" and report.attrs["data-sync"] == "synced"
    status = root.find("slacknb-status")
    assert status.attrs["data-status"] == "Training"
    assert root.find("slacknb-badge").text() == "Training"
    assert root.find("slacknb-where").text() == "gpu-host:/srv/exp"
    assert root.find("slacknb-elapsed").text() == "elapsed 1:02:05"
    assert root.find("slacknb-eta").text() == "ETA 3:06:15"
    bar = root.find("slacknb-progress")
    assert bar.attrs["data-bar-style"] == ""
    assert "width:25.0%" in bar.find_all(tag="div")[1].attrs["style"]
    assert root.find("slacknb-percent").text() == "25%"
    table = root.find("slacknb-table")
    assert table.attrs["data-rows"] == "4"
    assert [th.text() for th in table.find_all(tag="th")] == ENTRIES
    assert table_rows(table) == [[str(o["epoch"]), f"{o['main/loss']:g}", f"{o['elapsed_time']:g}"] for o in log]
    assert root.find("slacknb-sync").attrs["data-sync"] == "synced"
    assert root.find("slacknb-link").attrs["href"] == LINK
    assert root.find("slacknb-preview-source").text() == frame.preview
    assert root.find("slacknb-preview-note").text() == "what Slack will show"


@pytest.mark.parametrize("status, progress, style, width", [
    (TRAINING, 0.5, "", "50.0%"),
    (COMPLETED, 1.0, "success", "100.0%"),
    (FAILED, 0.42, "danger", "42.0%"),
    (INTERRUPTED, 0.7, "warning", "70.0%"),
    (FAILED, None, "danger", "100.0%"),  # unknown length: a full red bar still says it
    (TERMINATED, 0.3, "danger", "30.0%"),
    (STALLED, 0.3, "warning", "30.0%"),
])
def test_html_bar_follows_progress_and_colours_the_end(status, progress, style, width):
    root = parse(html_of(make_frame(ReportState(status=status, progress=progress))))
    bar = root.find("slacknb-progress")
    assert bar.attrs["data-bar-style"] == style
    assert f"width:{width}" in bar.find_all(tag="div")[1].attrs["style"]
    assert root.find("slacknb-report").attrs["data-status"] == status


def test_html_bar_hidden_while_the_length_is_unknown():
    root = parse(html_of(make_frame(ReportState(status=TRAINING, progress=None))))
    assert root.find_all("slacknb-progress") == []


def test_html_table_keeps_newest_rows_last_and_counts_the_rest():
    log = make_log(2000)
    root = parse(html_of(make_frame(ReportState(status=TRAINING, log=log, entries=ENTRIES))))
    table = root.find("slacknb-table")
    assert table.attrs["data-rows"] == "2000"
    rows = table_rows(table)
    assert len(rows) == report_html.MAX_ROWS
    assert [r[0] for r in rows] == [str(i) for i in range(1951, 2001)]
    assert root.find("slacknb-earlier").text() == "1,950 earlier rows not shown"


def test_html_table_cells_format_numbers_like_printreport():
    log = [{"epoch": 1, "main/loss": np.float32(0.1234567), "lr": 1e-05, "note": "warm"}, {"epoch": 2}]
    root = parse(html_of(make_frame(
        ReportState(log=log, entries=["epoch", "main/loss", "lr", "note"]))))
    assert table_rows(root) == [["1", "0.123457", "1e-05", "warm"], ["2", "", "", ""]]


def test_html_escapes_everything_it_did_not_write():
    context = RunContext("host<i>", "/tmp/<script>alert(1)</script>", "t.py", "", "")
    log = [{"<b>loss</b>": "<img src=x onerror=alert(1)>", "a&b": 1.0}]
    state = ReportState(status=TRAINING, log=log, label="<u>run</u> & co")
    sync = MirrorState("disabled", 'channel "<#C1>" not found: /invite @bot',
                       permalink='https://x/"><script>alert(1)</script>')
    frame = make_frame(state, sync, context)
    markup = report_html.frame_html(frame, context=context)
    root = parse(markup)
    tags = {n.tag for n in root.walk()}
    assert not tags & {"script", "b", "i", "u", "img"}
    assert "onerror" not in {a for n in root.walk() for a in n.attrs}
    assert root.find("slacknb-where").text() == "host<i>:/tmp/<script>alert(1)</script>"
    assert root.find("slacknb-label").text() == "<u>run</u> & co"
    assert [th.text() for th in root.find_all(tag="th")] == ["<b>loss</b>", "a&b"]
    assert table_rows(root) == [["<img src=x onerror=alert(1)>", "1"]]
    assert root.find("slacknb-sync-text").text() == 'disabled: channel "<#C1>" not found: /invite @bot'
    assert root.find("slacknb-link").attrs["href"] == 'https://x/"><script>alert(1)</script>'
    # The preview is Slack's text, Slack's own &lt; escapes included, character for character.
    assert "&lt;b&gt;loss&lt;/b&gt;" in frame.preview
    assert root.find("slacknb-preview-source").text() == frame.preview


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "", None])
def test_only_http_links_are_linked(url):
    root = parse(html_of(make_frame(ReportState(), MirrorState("synced", permalink=url))))
    assert root.find_all("slacknb-link") == []


def test_html_is_standalone():
    markup = html_of(make_frame(ReportState(status=FAILED, log=make_log(3), progress=0.5)))
    root = parse(markup)
    assert not {n.tag for n in root.walk()} & {"script", "link", "style", "iframe"}
    events = [a for n in root.walk() for a in n.attrs if a.startswith("on")]
    assert events == []
    assert "http" not in markup.replace(LINK, "")  # nothing loaded from anywhere


@given(names=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=4, unique=True),
       values=st.lists(st.one_of(st.text(max_size=12), st.floats(allow_nan=False), st.integers()),
                       min_size=4, max_size=4))
@settings(max_examples=60, deadline=None)
def test_any_metric_name_and_value_shows_literally(names, values):
    observation = dict(zip(names, values))
    state = ReportState(log=[observation], entries=names)
    root = parse(report_html.table_html(state.log, names))
    assert [th.text() for th in root.find_all(tag="th")] == names
    assert table_rows(root) == [[report_html.cell_text(observation, n) for n in names]]


# -- the Slack line -------------------------------------------------------------------

@pytest.mark.parametrize("sync, expected", [
    (MirrorState("synced", "Slack shows the latest report"), "synced"),
    (MirrorState("posting", "sending the report to Slack"), "posting the message"),
    (MirrorState("sending", "sending the report to Slack"), "sending"),
    (MirrorState("sending", "next edit after the minimum interval", 4.2), "sending (next edit in 5s)"),
    (MirrorState("retrying", "Slack answered HTTP 503", 2.01), "retrying in 3s: Slack answered HTTP 503"),
    (MirrorState("retrying", "connection reset", 0.0), "retrying now: connection reset"),
    (MirrorState("rate_limited", "Slack asked to wait (429)", 30.0),
     "rate-limited, retrying in 30s: Slack asked to wait (429)"),
    (MirrorState("local", "Slack mirroring is off: set SLACK_CHANNEL_ID"),
     "local only: Slack mirroring is off: set SLACK_CHANNEL_ID"),
    (MirrorState("disabled", "the token was revoked: make a new one"),
     "disabled: the token was revoked: make a new one"),
    (MirrorState("disabled"), "disabled"),
])
def test_sync_text_for_every_state(sync, expected):
    assert report_html.sync_text(sync) == expected
    root = parse(report_html.sync_html(sync))
    assert root.find("slacknb-sync-text").text() == expected
    assert root.find("slacknb-sync").attrs["data-sync"] == sync.status


def test_preview_note_says_whether_slack_has_the_text():
    frame = make_frame(ReportState(status=TRAINING))
    shown = MirrorState("synced", sent_text=frame.preview)
    behind = MirrorState("sending", sent_text="older text")
    assert report_html.preview_note(frame.preview, shown) == "exactly what Slack shows"
    assert report_html.preview_note(frame.preview, behind) == "what Slack will show"
    assert report_html.preview_note(frame.preview, MirrorState("local")) == "what Slack would show"


# -- frames that look the same --------------------------------------------------------

def test_signature_changes_exactly_when_the_view_would():
    log = make_log(3)
    state = ReportState(status=TRAINING, log=log, entries=ENTRIES, elapsed=5.1, progress=0.10001, eta=45.2)
    before = report_html.frame_signature(make_frame(state))
    state.elapsed, state.progress, state.eta = 5.9, 0.10004, 45.9  # same second, same 0.1 %
    assert report_html.frame_signature(make_frame(state)) == before
    changes = [
        lambda: log.append({"epoch": 4}),
        lambda: setattr(state, "elapsed", 6.0),
        lambda: setattr(state, "progress", 0.2),
        lambda: setattr(state, "status", COMPLETED),
        lambda: setattr(state, "label", "x"),
    ]
    for change in changes:
        previous = report_html.frame_signature(make_frame(state))
        change()
        assert report_html.frame_signature(make_frame(state)) != previous
    frame = make_frame(state)
    other_sync = Frame(frame.state, frame.entries, frame.preview, MirrorState("retrying", "x", 3.0))
    assert report_html.frame_signature(other_sync) != report_html.frame_signature(frame)


def test_the_status_badge_colours_terminated_and_stalled_of_their_own():
    from slacknb.views.html import STATUS_COLORS

    for status in (TERMINATED, STALLED):
        html = html_of(make_frame(ReportState(status=status)))
        assert f"background:{STATUS_COLORS[status]}" in html and f">{status}</span>" in html
    assert len({STATUS_COLORS[s] for s in (TERMINATED, STALLED, FAILED, INTERRUPTED)}) == 4


# -- secrets and hostile values: the notebook shows what Slack gets, scrubbed ----------------

from slacknb.core.scrub import Scrubber
from slacknb.core.table import MAX_CELL
from support.hostile import APP, BOT, HOSTILE


def scrubbed_frame(state):
    scrub = Scrubber(secrets=("plain-secret-value",), patterns=(r"hunter\d",))
    renderer = Renderer(context=RunContext("h", "/w", "train.py", "", ""), scrub=scrub)
    return Frame(state, renderer.entries(state), renderer.render(state), MirrorState("synced"), scrub=scrub)


def test_the_views_hide_what_slack_never_gets():
    log = [{"epoch": 1, "note": "plain-secret-value"}, {"epoch": 2, "note": f"auth {BOT}"},
           {"epoch": 3, "note": "pw hunter2"}, {"epoch": 4, "main/loss": 0.5}]
    frame = scrubbed_frame(ReportState(status=TRAINING, log=log, label=APP))
    for shown in (report_html.frame_html(frame), report_html.frame_text(frame)):
        assert "plain-secret-value" not in shown and BOT not in shown and APP not in shown and "hunter2" not in shown
        assert shown.count("[hidden]") >= 4


def test_a_frame_without_the_runs_scrub_still_hides_token_shapes():
    frame = make_frame(ReportState(status=TRAINING, log=[{"epoch": 1, "note": BOT}], label=APP))
    assert BOT not in html_of(frame) and APP not in text_of(frame)


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: type(v).__name__)
def test_any_logged_value_shows_in_the_notebook_within_a_cell(value):
    frame = make_frame(ReportState(status=COMPLETED, log=[{"epoch": 1, "note": value}], entries=["epoch", "note"]))
    for shown in (html_of(frame), text_of(frame)):
        shown.encode("utf-8")
    cells = table_rows(parse(html_of(frame)))
    assert len(cells[-1][1]) <= MAX_CELL
