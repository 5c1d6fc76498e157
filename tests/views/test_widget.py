"""ReportWidget and NotebookView: what the widget shows, what goes over the comm, what is displayed.

Widgets run on a recording comm (a real ``comm.base_comm.BaseComm`` whose
``publish_msg`` keeps every message instead of sending it to a kernel), so the
tests count the messages a browser would get. Display goes through IPython's
real display machinery into ``capture_output``. The end-to-end tests run a
ReportRun with a real SlackMirror against the local Slack server.
"""

from __future__ import annotations

import json
import time

import comm
import ipywidgets
import pytest
from comm.base_comm import BaseComm
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from traitlets.config import Config

from slacknb.core.outcome import Ending
from slacknb.slack.mirror import MirrorState, SlackMirror
from slacknb.views.notebook import NotebookView, mimebundle
from slacknb.core.render import Renderer
from slacknb.core.state import COMPLETED, FAILED, INTERRUPTED, STARTED, TRAINING, ReportState
from slacknb.run import Frame, ReportRun
from slacknb.views.widget import ReportWidget, widget_for
from support.markup import CONTEXT, ENTRIES, LINK, make_log, parse, table_rows

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Wire:
    """Every comm message the widgets would send to the front end."""

    def __init__(self):
        self.messages: list[tuple[str, str, dict]] = []

    def create_comm(self, **kwargs):
        return RecordingComm(self, **kwargs)

    def mark(self) -> int:
        return len(self.messages)

    def updates(self, since: int = 0) -> list[tuple[str, dict]]:
        """(model id, state) of each state update sent since ``since``."""
        return [(comm_id, data["state"]) for msg_type, comm_id, data in self.messages[since:]
                if msg_type == "comm_msg" and data.get("method") == "update"]


class RecordingComm(BaseComm):
    def __init__(self, wire: Wire, **kwargs):
        self.wire = wire
        super().__init__(**kwargs)

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        self.wire.messages.append((msg_type, self.comm_id, json.loads(json.dumps(data or {}))))


@pytest.fixture
def wire(monkeypatch):
    recorder = Wire()
    monkeypatch.setattr(comm, "create_comm", recorder.create_comm)
    return recorder


@pytest.fixture
def shell():
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    yield ip
    InteractiveShell.clear_instance()


def frame_of(state: ReportState, sync: MirrorState | None = None) -> Frame:
    renderer = Renderer(context=CONTEXT)
    sync = sync if sync is not None else MirrorState("synced", permalink=LINK)
    return Frame(state, renderer.entries(state), renderer.render(state), sync)


def training(n_rows=3, **fields) -> ReportState:
    fields = {"status": TRAINING, "elapsed": 61.2, "progress": 0.25, "eta": 183.6, **fields}
    return ReportState(log=make_log(n_rows), entries=ENTRIES, **fields)


def shown_preview(widget: ReportWidget) -> str:
    return parse(widget.preview.value).find("slacknb-preview-source").text()


# -- what the widget shows -------------------------------------------------------------

def test_widget_shows_status_bar_table_sync_and_preview(wire):
    widget = ReportWidget(context=CONTEXT)
    frame = frame_of(training(label="mnist"))
    assert widget.update(frame) is True
    status = parse(widget.status_line.value)
    assert status.find("slacknb-status").attrs["data-status"] == "Training"
    assert status.find("slacknb-badge").text() == "Training"
    assert status.find("slacknb-where").text() == "gpu-host:/srv/exp"
    assert status.find("slacknb-elapsed").text() == "elapsed 0:01:01"
    assert status.find("slacknb-eta").text() == "ETA 0:03:03"
    assert status.find("slacknb-label").text() == "mnist"
    assert (widget.bar.value, widget.bar.bar_style, widget.bar.description) == (0.25, "", "25%")
    assert widget.bar.layout.display == ""
    assert [r[0] for r in table_rows(parse(widget.table.value))] == ["1", "2", "3"]
    assert parse(widget.sync.value).find("slacknb-sync-text").text() == "synced"
    assert parse(widget.sync.value).find("slacknb-link").attrs["href"] == LINK
    assert shown_preview(widget) == frame.preview
    assert widget._dom_classes == ("slacknb-report", "slacknb-training")
    assert widget.frame is frame


def test_the_widget_preview_shows_mentions_as_names_once_the_sync_state_knows_them(wire):
    import dataclasses

    named = dataclasses.make_dataclass("NamedState", [("names", dict, dataclasses.field(default_factory=dict))],
                                       bases=(MirrorState,), frozen=True)
    widget = ReportWidget(context=CONTEXT)
    state = training(mentions="<@U0ALICE>")
    widget.update(frame_of(state, named("synced", permalink=LINK)))
    mentions = lambda: [m.text() for m in parse(widget.preview.value).find_all("slacknb-mention")]  # noqa: E731
    assert mentions() == ["@U0ALICE"]
    # The look-up's names arrive with a later sync state: the same text now reads as Slack shows it.
    assert widget.update(frame_of(state, named("synced", permalink=LINK, names={"U0ALICE": "alice"}))) is True
    assert mentions() == ["@alice"] and "<@U0ALICE>" in shown_preview(widget)


@pytest.mark.parametrize("status, progress, value, style, display", [
    (STARTED, None, 0.0, "", "none"),
    (TRAINING, None, 0.0, "", "none"),       # unknown length: no bar rather than a stuck one
    (TRAINING, 0.5, 0.5, "", ""),
    (COMPLETED, 1.0, 1.0, "success", ""),
    (FAILED, 0.42, 0.42, "danger", ""),      # the bar stops where training stopped
    (INTERRUPTED, 0.7, 0.7, "warning", ""),
    (FAILED, None, 1.0, "danger", ""),       # still a red bar without a known length
])
def test_bar_follows_progress_and_colours_the_end(wire, status, progress, value, style, display):
    widget = ReportWidget(context=CONTEXT)
    widget.update(frame_of(training(status=status, progress=progress)))
    assert (widget.bar.value, widget.bar.bar_style, widget.bar.layout.display) == (value, style, display)
    assert widget._dom_classes[-1] == "slacknb-" + status.lower()
    assert parse(widget.status_line.value).find("slacknb-badge").text() == status


def test_table_keeps_the_newest_rows_last(wire):
    state = training(n_rows=2000)
    widget = ReportWidget(context=CONTEXT, max_rows=50)
    widget.update(frame_of(state))
    table = parse(widget.table.value)
    assert [r[0] for r in table_rows(table)] == [str(i) for i in range(1951, 2001)]
    assert table.find("slacknb-earlier").text() == "1,950 earlier rows not shown"
    state.log.append({"epoch": 2001, "main/loss": 0.5, "elapsed_time": 9.0})
    widget.update(frame_of(state))
    table = parse(widget.table.value)
    assert table_rows(table)[-1] == ["2001", "0.5", "9"]
    assert table_rows(table)[0][0] == "1952"
    assert table.find("slacknb-table").attrs["data-rows"] == "2001"


def test_table_columns_follow_the_entries(wire):
    state = ReportState(status=TRAINING, log=[{"epoch": 1}])  # entries=None: picked from the log
    widget = ReportWidget(context=CONTEXT)
    widget.update(frame_of(state))
    assert [th.text() for th in parse(widget.table.value).find_all(tag="th")] == ["epoch"]
    state.log.append({"epoch": 2, "main/loss": 0.25})
    widget.update(frame_of(state))
    table = parse(widget.table.value)
    assert [th.text() for th in table.find_all(tag="th")] == ["epoch", "main/loss"]
    assert table_rows(table) == [["1", ""], ["2", "0.25"]]


@pytest.mark.parametrize("sync, expected", [
    (MirrorState("synced", permalink=LINK), "synced"),
    (MirrorState("posting", "sending the report to Slack"), "posting the message"),
    (MirrorState("sending", "sending the report to Slack", permalink=LINK), "sending"),
    (MirrorState("retrying", "Slack answered HTTP 502", 2.4, permalink=LINK),
     "retrying in 3s: Slack answered HTTP 502"),
    (MirrorState("rate_limited", "Slack asked to wait", 7.0, permalink=LINK),
     "rate-limited, retrying in 7s: Slack asked to wait"),
    (MirrorState("local", "no channel: set SLACK_CHANNEL_ID"), "local only: no channel: set SLACK_CHANNEL_ID"),
    (MirrorState("disabled", "token revoked: make a new one", permalink=LINK),
     "disabled: token revoked: make a new one"),
])
def test_sync_line_for_every_mirror_state(wire, sync, expected):
    widget = ReportWidget(context=CONTEXT)
    frame = frame_of(training(), sync)
    widget.update(frame)
    line = parse(widget.sync.value)
    assert line.find("slacknb-sync").attrs["data-sync"] == sync.status
    assert line.find("slacknb-sync-text").text() == expected
    links = line.find_all("slacknb-link")
    assert [a.attrs["href"] for a in links] == ([sync.permalink] if sync.permalink else [])
    assert shown_preview(widget) == frame.preview


# -- what goes over the comm -----------------------------------------------------------

def test_changes_are_batched_one_message_per_changed_part(wire):
    state = training(progress=0.5)
    widget = ReportWidget(context=CONTEXT, plot=[])  # charts: see test_chart_*
    widget.update(frame_of(state))
    since = wire.mark()
    state.status, state.progress, state.eta = COMPLETED, 1.0, 0.0
    assert widget.update(frame_of(state)) is True
    updates = wire.updates(since)
    models = [model for model, _ in updates]
    assert len(models) == len(set(models)), "a part got more than one message"
    by_model = dict(updates)
    # The bar's three changed traits travel together.
    assert by_model[widget.bar.model_id] == {"value": 1.0, "bar_style": "success", "description": "100%"}
    assert set(by_model) == {widget.status_line.model_id, widget.bar.model_id,
                             widget.preview.model_id, widget.model_id}
    assert by_model[widget.model_id] == {"_dom_classes": ["slacknb-report", "slacknb-completed"]}


def test_a_new_second_resends_only_what_shows_it(wire):
    state = training()
    widget = ReportWidget(context=CONTEXT, plot=[])  # charts: see test_chart_*
    widget.update(frame_of(state))
    since = wire.mark()
    state.elapsed += 1  # the status line and the Slack text show elapsed; the table does not
    widget.update(frame_of(state))
    assert sorted(m for m, _ in wire.updates(since)) == sorted([widget.status_line.model_id, widget.preview.model_id])
    since = wire.mark()
    state.log.append({"epoch": 4, "main/loss": 0.1, "elapsed_time": 4.5})
    widget.update(frame_of(state))
    by_model = dict(wire.updates(since))
    # A new row: the table, the Slack text and the status line's {trend}.
    assert set(by_model) == {widget.table.model_id, widget.preview.model_id, widget.status_line.model_id}
    assert set(by_model[widget.table.model_id]) == {"value"}


def test_a_frame_that_shows_nothing_new_sends_nothing(wire):
    state = training()
    widget = ReportWidget(context=CONTEXT, plot=[])  # charts: see test_chart_*
    widget.update(frame_of(state))
    since = wire.mark()
    assert widget.update(frame_of(state)) is False
    state.elapsed += 0.3  # same whole second: looks the same
    state.progress += 0.0001
    assert widget.update(frame_of(state)) is False
    assert widget.update(frame_of(state), force=True) is False  # forced, computed, still nothing new
    assert wire.messages[since:] == []


# -- NotebookView: what is displayed ---------------------------------------------------

def test_view_displays_the_widget_once_and_the_final_report_with_it(wire, shell):
    view = NotebookView(context=CONTEXT)
    state = training()
    with capture_output() as captured:
        view.show()
        for _ in range(3):
            state.log.append({"epoch": len(state.log) + 1, "main/loss": 0.1})
            state.elapsed += 1
            view.refresh(frame_of(state))
        shown = len(captured.outputs)
        state.status, state.progress = COMPLETED, 1.0
        final = frame_of(state)
        view.refresh(final)
        view.finish(final)  # same frame as the refresh: must still be shown and saved
    outputs = captured.outputs
    assert shown == 1, "refreshes go over the comm, not through new displays"
    first, last = outputs[0], outputs[-1]
    assert first.data[WIDGET_VIEW]["model_id"] == view.widget.model_id
    assert not first.update and last.update
    assert last.transient["display_id"] == first.transient["display_id"]
    assert last.data[WIDGET_VIEW]["model_id"] == view.widget.model_id
    html = parse(last.data["text/html"])
    assert html.find("slacknb-report").attrs["data-status"] == "Completed"
    assert len(table_rows(html)) == 6
    assert last.data["text/plain"].startswith("[Completed]  gpu-host:/srv/exp")
    assert view.widget.bar.bar_style == "success"


def test_view_without_widgets_updates_a_text_html_display(shell):
    view = NotebookView(widgets=False, context=CONTEXT)
    state = training()
    with capture_output() as captured:
        view.show()
        frame = frame_of(state)
        view.refresh(frame)
        view.refresh(frame_of(state))  # nothing new: no update
        state.log.append({"epoch": 4, "main/loss": 0.1})
        view.refresh(frame_of(state))
        state.status = FAILED
        failed = frame_of(state, MirrorState("retrying", "Slack answered HTTP 500", 1.5))
        view.refresh(failed)
        view.finish(failed)  # the same frame again, never skipped
    outputs = captured.outputs
    assert view.widget is None
    assert [o.update for o in outputs] == [False, True, True, True, True]
    assert len({o.transient["display_id"] for o in outputs}) == 1
    assert all(WIDGET_VIEW not in o.data for o in outputs)
    assert "waiting for the first report" in outputs[0].data["text/plain"]
    assert [len(table_rows(parse(o.data["text/html"]))) for o in outputs[1:]] == [3, 4, 4, 4]
    last = parse(outputs[-1].data["text/html"])
    assert last.find("slacknb-report").attrs["data-status"] == "Failed"
    assert last.find("slacknb-progress").attrs["data-bar-style"] == "danger"
    assert last.find("slacknb-sync-text").text() == "retrying in 2s: Slack answered HTTP 500"
    assert "Slack: retrying in 2s" in outputs[-1].data["text/plain"]


def test_refresh_before_show_displays_first(wire, shell):
    view = NotebookView(context=CONTEXT)
    with capture_output() as captured:
        view.refresh(frame_of(training()))
    assert len(captured.outputs) == 1
    assert captured.outputs[0].data[WIDGET_VIEW]["model_id"] == view.widget.model_id


def test_each_run_gets_its_own_widget(wire, shell):
    view = NotebookView(context=CONTEXT)
    with capture_output() as captured:
        view.show()
        first = view.widget
        view.show()
    assert view.widget is not first
    ids = [o.data[WIDGET_VIEW]["model_id"] for o in captured.outputs]
    assert ids == [first.model_id, view.widget.model_id]


def test_options_are_checked():
    with pytest.raises(TypeError, match="widgets must be True, False or None"):
        NotebookView(widgets="yes")
    with pytest.raises(ValueError, match="max_rows must be a whole number"):
        NotebookView(max_rows=0)
    with pytest.raises(ValueError, match="max_rows must be a whole number"):
        ReportWidget(max_rows=True)


# -- mimebundle: how the report object displays itself --------------------------------

def test_mimebundle_offers_the_live_widget_of_the_same_run(wire):
    state = training()
    widget = ReportWidget(context=CONTEXT)
    widget.update(frame_of(state))
    bundle = mimebundle(frame_of(state), context=CONTEXT)
    assert bundle[WIDGET_VIEW] == {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    assert parse(bundle["text/html"]).find("slacknb-report").attrs["data-status"] == "Training"
    assert bundle["text/plain"].splitlines()[0].startswith("[Training]  gpu-host:/srv/exp")
    assert widget_for(state) is widget
    other = mimebundle(frame_of(training()), context=CONTEXT)  # another run: no widget shows it
    assert set(other) == {"text/plain", "text/html"}


def test_view_mimebundle_without_widgets_is_text_and_html():
    view = NotebookView(widgets=False, context=CONTEXT)
    bundle = view.mimebundle(frame_of(training()))
    assert set(bundle) == {"text/plain", "text/html"}


# -- end to end: a run mirrored to the local Slack server ------------------------------


def run_for(server, view, **mirror_options) -> ReportRun:
    mirror_options = {"min_interval": 0, "flush_timeout": 10, "request_timeout": 3, **mirror_options}
    mirror = SlackMirror(server.token, server.channel_id, base_url=server.url, **mirror_options)
    return ReportRun(renderer=Renderer(context=CONTEXT), mirror=mirror, views=[view])


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_a_run_mirrored_to_slack_shows_synced_link_and_exact_text_and_no_token(wire, shell, server):
    view = NotebookView(context=CONTEXT)
    run = run_for(server, view)
    log = []
    with capture_output() as captured:
        run.start(log=log, entries=ENTRIES, label="mnist")
        for i in range(5):
            log.append({"epoch": i + 1, "main/loss": 1 / (i + 2), "elapsed_time": i * 1.5})
            run.record(elapsed=i * 1.5, progress=(i + 1) / 5, iterations=i + 1, log_grew=True)
            run.push(force=True)
        assert run.finish(Ending(COMPLETED)) is True
    widget = view.widget
    mirror = run.mirror.state
    [message] = server.messages(server.channel_id)
    assert mirror.status == "synced" and mirror.permalink
    assert parse(widget.sync.value).find("slacknb-sync-text").text() == "synced"
    assert parse(widget.sync.value).find("slacknb-link").attrs["href"] == mirror.permalink
    assert shown_preview(widget) == message.text == mirror.sent_text
    assert parse(widget.preview.value).find("slacknb-preview-note").text() == "exactly what Slack shows"
    assert widget.bar.bar_style == "success" and widget.bar.value == 1.0
    assert [r[0] for r in table_rows(parse(widget.table.value))] == ["1", "2", "3", "4", "5"]
    # Nothing a saved notebook keeps carries the token: widget state, comm traffic, outputs.
    saved = json.dumps(ipywidgets.Widget.get_manager_state(drop_defaults=False))
    traffic = json.dumps(wire.messages)
    outputs = json.dumps([o.data for o in captured.outputs])
    assert server.token not in saved + traffic + outputs
    assert "Completed" in parse(captured.outputs[-1].data["text/html"]).find("slacknb-badge").text()


def test_the_slack_panel_follows_the_delivery_after_the_run_returned(wire, shell, server):
    view = NotebookView(context=CONTEXT)
    run = run_for(server, view, flush_timeout=0)
    log = [{"epoch": 1, "main/loss": 0.5, "elapsed_time": 1.0}]
    with capture_output():
        run.start(log=log, entries=ENTRIES)
        assert run.mirror.wait_posted(10)
        # Slow enough to outlast the end of finish(), which waits for the widget's final chart.
        slow = server.inject("chat.update", delay=5, times=None)
        assert run.finish(Ending(COMPLETED)) is False  # returned at once: the final edit is on its way
        assert run.mirror.state.delivering
        assert parse(view.widget.sync.value).find("slacknb-sync-text").text() != "synced"
        slow.cancel()
        # The worker's new states reach the widget (the run subscribed it), no push needed.
        wait_until(lambda: parse(view.widget.sync.value).find("slacknb-sync-text").text() == "synced", 20)
    assert shown_preview(view.widget) == server.messages()[0].text == run.mirror.state.sent_text


def test_rate_limited_slack_shows_when_it_retries(wire, shell, server):
    view = NotebookView(context=CONTEXT)
    run = run_for(server, view)
    limit = server.inject("chat.postMessage", error="ratelimited", retry_after=1, times=None)
    with capture_output():
        run.start(log=[], entries=ENTRIES)

        def shown_rate_limited() -> bool:
            # The mirror's state moves on its own thread: refresh until a frame caught it.
            wait_until(lambda: run.mirror.state.status == "rate_limited")
            run.push(force=True)
            return view.widget.frame.sync.status == "rate_limited"

        wait_until(shown_rate_limited)
        line = parse(view.widget.sync.value)
        assert line.find("slacknb-sync").attrs["data-sync"] == "rate_limited"
        assert line.find("slacknb-sync-text").text().startswith("rate-limited, retrying in 1s: ")
        limit.cancel()
        assert run.finish(Ending(INTERRUPTED)) is True
    assert parse(view.widget.sync.value).find("slacknb-sync-text").text() == "synced"
    # No known length: the bar appears only at the end, full and orange.
    bar = view.widget.bar
    assert (bar.value, bar.bar_style, bar.layout.display) == (1.0, "warning", "")


def test_a_failing_display_costs_one_warning_and_stops_neither_training_nor_slack(wire, server):
    calls = []

    def broken_display(obj, display_id=False):
        calls.append(obj)
        raise RuntimeError("no front end")

    view = NotebookView(context=CONTEXT, display=broken_display)
    run = run_for(server, view)
    log = [{"epoch": 1, "main/loss": 0.5}]
    with pytest.warns(RuntimeWarning, match="notebook view stopped.*RuntimeError: no front end") as caught:
        run.start(log=log, entries=ENTRIES)
        run.record(elapsed=1.0, log_grew=True)
        assert run.finish(Ending(COMPLETED)) is True
    assert len(caught) == 1 and len(calls) == 1
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed")


def test_every_display_of_a_report_carries_the_same_bundle(wire):
    from slacknb.views.notebook import ReportSnapshot, report_bundle

    frame = frame_of(training(label="mnist"))
    expected = report_bundle(frame, context=CONTEXT)
    widget = ReportWidget(context=CONTEXT)
    widget.update(frame)
    shown = {
        "widget": widget._repr_mimebundle_(),
        "snapshot": ReportSnapshot(frame, context=CONTEXT)._repr_mimebundle_(),
        "mimebundle": mimebundle(frame, widget=widget, context=CONTEXT),
    }
    for name, data in shown.items():
        assert {k: data[k] for k in expected} == expected, name
    assert shown["mimebundle"]["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.model_id


# -- the chart -------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chart_images(html: str) -> list[bytes]:
    import base64

    return [base64.b64decode(img.attrs["src"].split(",", 1)[1])
            for img in parse(html).find_all("slacknb-chart", tag="img")]


def test_chart_under_the_bar_is_drawn_off_the_training_thread_and_ends_final(wire, monkeypatch):
    import io
    import threading

    from PIL import Image

    from slacknb.core import chart

    drawn_on = []
    real = chart.chart_png

    def recording(state, **kwargs):
        drawn_on.append(threading.get_ident())
        return real(state, **kwargs)

    monkeypatch.setattr(chart, "chart_png", recording)
    widget = ReportWidget(context=CONTEXT)
    assert widget.children.index(widget.chart) == widget.children.index(widget.bar) + 1
    assert widget.chart.layout.display == "none"  # nothing drawn yet: no empty box
    state = training()
    widget.update(frame_of(state))
    for epoch in range(4, 30):
        state.log.append({"epoch": epoch, "main/loss": 1.0 / epoch, "elapsed_time": epoch})
        widget.update(frame_of(state))
    state.status = COMPLETED
    widget.update(frame_of(state), force=True)
    final = widget.wait_chart(timeout=60)
    assert drawn_on and threading.get_ident() not in drawn_on
    assert final.startswith(PNG_SIGNATURE) and widget.chart.value == final
    assert widget.chart.layout.display == ""
    assert Image.open(io.BytesIO(final)).size == (chart.WIDTH_PX, chart.PANEL_PX + chart.TOP_PX + chart.BOTTOM_PX)
    # The picture went to the front end as a binary buffer of the chart's model.
    assert any(comm_id == widget.chart.model_id and ["value"] in data.get("buffer_paths", [])
               for _, comm_id, data in wire.messages if data.get("method") == "update")
    # The saved text/html carries the same final chart as an inline PNG.
    assert chart_images(widget._repr_mimebundle_()["text/html"]) == [final]


def test_chart_changes_as_the_run_trains(wire):
    import threading

    widget = ReportWidget(context=CONTEXT)
    drawn, changed = [], threading.Condition()

    def on_drawn(png):
        with changed:
            drawn.append(png)
            changed.notify_all()

    widget.drawer.on_drawn = on_drawn
    state = training()
    widget.update(frame_of(state))
    with changed:
        assert changed.wait_for(lambda: drawn, timeout=60)
    for epoch in range(4, 12):
        state.log.append({"epoch": epoch, "main/loss": 3.0 / epoch, "elapsed_time": epoch})
        widget.update(frame_of(state))
    state.status = COMPLETED
    widget.update(frame_of(state), force=True)
    assert widget.wait_chart(timeout=60) is not None
    assert len(set(drawn)) >= 2 and drawn[-1] == widget.drawer.latest


def test_view_saves_the_final_chart_with_the_widget_and_without(wire, shell):
    for widgets in (None, False):
        view = NotebookView(context=CONTEXT, widgets=widgets)
        state = training()
        with capture_output() as captured:
            view.show()
            state.log.append({"epoch": 4, "main/loss": 0.1, "elapsed_time": 4.5})
            view.refresh(frame_of(state))
            state.status = FAILED
            view.finish(frame_of(state))
        *live, last = captured.outputs
        assert all(not chart_images(o.data.get("text/html", "")) for o in live), "the fallback shows the final chart only"
        [png] = chart_images(last.data["text/html"])
        assert png.startswith(PNG_SIGNATURE)


def test_plot_empty_means_no_chart_anywhere(wire, shell):
    view = NotebookView(context=CONTEXT, plot=[])
    state = training()
    with capture_output() as captured:
        view.show()
        view.refresh(frame_of(state))
        state.status = COMPLETED
        view.finish(frame_of(state))
    assert view.widget.chart.layout.display == "none" and view.widget.drawer.latest is None
    assert not chart_images(captured.outputs[-1].data["text/html"])
    with pytest.raises(ValueError, match="list of entry names"):
        NotebookView(plot="main/loss")


def test_the_widget_hides_the_runs_secrets_in_its_table_and_status_line(wire):
    from slacknb.core.scrub import Scrubber

    scrub = Scrubber(secrets=("plain-secret-value",))
    state = ReportState(status=TRAINING, log=[{"epoch": 1, "note": "plain-secret-value"}], entries=["epoch", "note"],
                        label="run plain-secret-value")
    renderer = Renderer(context=CONTEXT, scrub=scrub)
    widget = ReportWidget(context=CONTEXT)
    widget.update(Frame(state, renderer.entries(state), renderer.render(state), MirrorState("synced"), scrub=scrub))
    shown = json.dumps(wire.updates())
    assert "plain-secret-value" not in shown and "[hidden]" in widget.table.value
    assert "plain-secret-value" not in widget.status_line.value + widget.preview.value


def test_max_rows_takes_any_integral_number(wire):
    import numpy as np

    widget = ReportWidget(context=CONTEXT, max_rows=np.int64(2))
    assert widget.max_rows == 2 and type(widget.max_rows) is int
    widget.update(frame_of(training(n_rows=5)))
    assert len(table_rows(parse(widget.table.value))) == 2
    with pytest.raises(ValueError, match="max_rows"):
        ReportWidget(context=CONTEXT, max_rows=2.0)
