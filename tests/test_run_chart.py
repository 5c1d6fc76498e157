"""The end of a run puts its chart into the report's thread: real Chainer training, real
slack_sdk calls (``files_upload_v2``) to the local Slack server, faults injected there."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image

from slacknb import SlackReport
from slacknb.core.chart import BOTTOM_PX, PANEL_PX, TOP_PX, WIDTH_PX, chart_png
from slacknb.core.state import ReportState

from support.reports import local_report
from support.training import ENTRIES, Boom, make_trainer, raise_at_epoch

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TWO_PANELS = (WIDTH_PX, 2 * PANEL_PX + TOP_PX + BOTTOM_PX)  # loss and accuracy


def report(server, **kwargs):
    return local_report(SlackReport, server, ENTRIES, label="mnist", **kwargs)


def shared_charts(server, message) -> list[bytes]:
    """The bytes of every file shared into the thread of ``message``."""
    uploads = server.uploads
    return [uploads[f["id"]]["bytes"] for reply in message.replies for f in reply.files]


def picture(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes the whole image: a truncated PNG fails here
    return image


def train(server, tmp_path, *, epochs=3, fail_at=None, failure=Boom, **kwargs):
    trainer = make_trainer(tmp_path, epochs=epochs)
    if fail_at is not None:
        raise_at_epoch(trainer, fail_at, failure("loss diverged"))
    r = report(server, **kwargs)
    trainer.extend(r, trigger=(1, "epoch"))
    if fail_at is None:
        trainer.run()
    else:
        with pytest.raises(failure):
            trainer.run()
    return r


def test_a_completed_run_leaves_its_chart_in_the_thread_once(server, tmp_path):
    r = train(server, tmp_path, finish_mentions="@alice")
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed")
    [png] = shared_charts(server, message)
    assert picture(png).size == TWO_PANELS
    # In order: the mention reply, then the chart; the chart is the final state's.
    reply, shared = message.replies
    assert reply.text.startswith("<@U0ALICE>") and shared.files[0]["name"] == "mnist-completed.png"
    assert png == chart_png(ReportState(status="Completed", log=r.state.log, label="mnist"))
    [upload] = server.uploads.values()
    assert upload["thread_ts"] == message.ts and upload["channel_id"] == server.channel_id
    assert server.call_counts()["files.completeUploadExternal"] == 1


def test_a_failed_runs_chart_ends_at_the_failure(server, tmp_path):
    r = train(server, tmp_path, epochs=6, fail_at=3)
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Failed")
    [png] = shared_charts(server, message)
    assert [row["epoch"] for row in r.state.log] == [1, 2, 3]  # logged, then epoch 3 raised
    assert png == chart_png(ReportState(status="Failed", log=r.state.log, label="mnist"))
    assert picture(png).size == TWO_PANELS


@pytest.mark.parametrize("faults, shares_tried", [
    ([("files.completeUploadExternal", dict(error="ratelimited", retry_after=1))], 2),
    ([("files.getUploadURLExternal", dict(error="ratelimited", retry_after=1)),
      ("files.getUploadURLExternal", dict(status=503)),
      ("files.completeUploadExternal", dict(error="internal_error"))], 2),
    # Shared, but the answer was lost: found in the thread, not shared again.
    ([("files.completeUploadExternal", dict(drop=True, after=True))], 1),
], ids=["429", "429-503-internal_error", "dropped-after-sharing"])
def test_faults_and_a_429_on_the_upload_still_leave_exactly_one_chart(server, tmp_path, faults, shares_tried):
    for method, fault in faults:
        server.inject(method, **fault)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about: the chart arrives
        train(server, tmp_path, finish_mentions="@alice")
    [message] = server.messages(server.channel_id)
    [png] = shared_charts(server, message)
    assert picture(png).size == TWO_PANELS
    assert len([f for reply in message.replies for f in reply.files]) == 1
    assert server.call_counts()["files.completeUploadExternal"] == shares_tried


def test_without_files_write_the_run_ends_well_with_one_warning_naming_the_scope(server, tmp_path):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "files:write")
    with pytest.warns(Warning) as caught:
        r = train(server, tmp_path, finish_mentions="@alice")
    named = [w for w in caught if "files:write" in str(w.message)]
    assert len(named) == 1, [str(w.message) for w in caught]
    assert r.state.status == "Completed"
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed") and message.text == r.text
    [reply] = message.replies
    assert reply.text.startswith("<@U0ALICE>") and shared_charts(server, message) == []


def test_plot_chooses_the_entries_and_empty_means_no_upload(server, tmp_path):
    train(server, tmp_path, plot=["main/loss"])
    [message] = server.messages(server.channel_id)
    [png] = shared_charts(server, message)
    assert picture(png).size == (WIDTH_PX, PANEL_PX + TOP_PX + BOTTOM_PX)
    server.reset()
    train(server, tmp_path, plot=[])
    [message] = server.messages(server.channel_id)
    assert shared_charts(server, message) == [] and server.uploads == {}


def test_without_matplotlib_the_run_ends_well_with_one_line_saying_how_to_get_charts(
        server, tmp_path, monkeypatch, capsys):
    import sys

    from slacknb.core import chart

    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)  # as if not installed
    monkeypatch.setattr(chart, "_told_missing", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):  # two runs in one process: still one line
            r = train(server, tmp_path, finish_mentions="@alice")
            assert r.state.status == "Completed"
    assert [line for line in capsys.readouterr().err.splitlines() if "matplotlib" in line] == [chart.MISSING]
    assert server.uploads == {}
    for message in server.messages(server.channel_id):
        assert message.text.startswith("Completed") and [r.text[:10] for r in message.replies] == ["<@U0ALICE>"]


def test_an_interrupted_run_leaves_its_chart_too(server, tmp_path):
    r = train(server, tmp_path, epochs=6, fail_at=3, failure=KeyboardInterrupt)
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Interrupted")
    [png] = shared_charts(server, message)
    assert png == chart_png(ReportState(status="Interrupted", log=r.state.log, label="mnist"))
    assert [f["name"] for reply in message.replies for f in reply.files] == ["mnist-interrupted.png"]
