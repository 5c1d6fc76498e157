"""SlackReport in real Chainer training runs, mirrored to the local Slack server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
import warnings

import chainer
import pytest
from chainer.training import extensions

from slacknb import SlackReport

from support.charts import text_replies
from support.reports import local_report, table_lines
from support.training import ENTRIES, Boom, make_trainer, raise_at_epoch

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def report(server, entries=ENTRIES, **kwargs):
    return local_report(SlackReport, server, entries, **kwargs)


def test_completed_run_edits_one_message_and_mentions_once(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=3)
    r = report(server, finish_mentions="@alice")
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()

    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed - ")
    rows = table_lines(message.text)
    assert rows[0].split() == ENTRIES
    assert [row.split()[0] for row in rows[1:]] == ["1", "2", "3"]
    assert message.text == r.text  # Slack has exactly what the renderer makes
    assert message.history[0].startswith("Started")
    mention_replies = [m for m in message.replies if "<@U0ALICE>" in m.text]
    assert len(mention_replies) == 1 and "Completed" in mention_replies[0].text
    assert r.slack.status == "synced" and r.slack.sent_text == message.text


def test_nothing_is_posted_at_construction(server, tmp_path):
    report(server)
    report(server)
    assert server.messages() == []
    assert server.call_counts()["chat.postMessage"] == 0


def test_failed_run_reports_failure_and_exception_still_propagates(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=5)
    raise_at_epoch(trainer, 2, Boom("loss became <!channel> nan"))
    trainer.extend(report(server, alert_prefix="@here"), trigger=(1, "epoch"))
    with pytest.raises(Boom):
        trainer.run()

    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Failed - ")
    assert "Completed" not in message.text
    [alert] = [m for m in message.replies if "Boom" in m.text]
    assert alert.text.startswith("<!here>")
    assert "loss became &lt;!channel&gt; nan" in alert.text
    assert "<!channel>" not in alert.text
    assert "Traceback" in alert.text


def test_early_failure_below_min_iterations_pings_nobody(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=5)
    raise_at_epoch(trainer, 1, Boom("typo"))
    trainer.extend(report(server, finish_mentions="@alice", min_iterations=1000), trigger=(1, "epoch"))
    with pytest.raises(Boom):
        trainer.run()
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Failed") and text_replies(message) == []


@pytest.mark.parametrize("alert, replies", [("none", 0), ("failed", 0), ("completed", 1), ("all", 1)])
def test_alert_choice_decides_the_completion_reply(server, tmp_path, alert, replies):
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.extend(report(server, finish_mentions="U0BOB", alert=alert), trigger=(1, "epoch"))
    trainer.run()
    [message] = server.messages(server.channel_id)
    assert len(text_replies(message)) == replies


def test_keyboard_interrupt_is_reported_as_interrupted(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=5)
    raise_at_epoch(trainer, 2, KeyboardInterrupt())
    trainer.extend(report(server), trigger=(1, "epoch"))
    with pytest.raises(KeyboardInterrupt):
        trainer.run()
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Interrupted - ")


def test_run_inside_an_except_block_is_still_completed(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.extend(report(server), trigger=(1, "epoch"))
    try:
        raise RuntimeError("handled before training")
    except RuntimeError:
        trainer.run()
    assert server.messages(server.channel_id)[0].text.startswith("Completed")


def test_progress_and_iteration_trigger(server, tmp_path):
    trainer = make_trainer(tmp_path, stop=(25, "iteration"), log_trigger=(5, "iteration"))
    r = report(server, template="{status} {progress} {eta}|{content}")
    trainer.extend(r, trigger=(5, "iteration"))
    trainer.run()
    text = server.messages(server.channel_id)[0].text
    assert text.startswith("Completed [##########] 100% 0:00:00|")
    assert r.state.progress == 1.0


def test_resumed_run_keeps_the_log(server, tmp_path):
    first = make_trainer(tmp_path / "a", epochs=2)
    first.extend(report(server), trigger=(1, "epoch"))
    first.extend(extensions.snapshot(filename="snap"), trigger=(2, "epoch"))
    first.run()

    second = make_trainer(tmp_path / "b", epochs=4)
    resumed = report(server)
    second.extend(resumed, trigger=(1, "epoch"))
    chainer.serializers.load_npz(str(tmp_path / "a" / "snap"), second)
    second.run()

    messages = server.messages(server.channel_id)
    assert len(messages) == 2
    rows = table_lines(messages[1].text)
    assert [row.split()[0] for row in rows[1:]] == ["1", "2", "3", "4"]
    assert messages[1].text.startswith("Completed")


def test_snapshot_holds_no_token(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.extend(report(server), trigger=(1, "epoch"))
    trainer.extend(extensions.snapshot(filename="snap"), trigger=(1, "epoch"))
    trainer.run()
    assert server.token.encode() not in (tmp_path / "snap").read_bytes()


def test_two_reports_in_one_process_each_own_their_message(server, tmp_path):
    a, b = make_trainer(tmp_path / "a", epochs=2), make_trainer(tmp_path / "b", epochs=3)
    a.extend(report(server, label="a", template="{label} {status}\n{content}"), trigger=(1, "epoch"))
    b.extend(report(server, label="b", template="{label} {status}\n{content}"), trigger=(1, "epoch"))
    a.run()
    b.run()
    texts = sorted(m.text for m in server.messages(server.channel_id))
    assert texts[0].startswith("a Completed") and len(table_lines(texts[0])) == 3
    assert texts[1].startswith("b Completed") and len(table_lines(texts[1])) == 4


def test_console_gets_the_printreport_table(server, tmp_path):
    out = io.StringIO()
    trainer = make_trainer(tmp_path, epochs=2)
    trainer.extend(report(server, out=out), trigger=(1, "epoch"))
    trainer.run()
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ENTRIES
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]
    assert "\033" not in out.getvalue()


def test_entries_none_picks_columns_from_the_log(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.extend(report(server, entries=None), trigger=(1, "epoch"))
    trainer.run()
    header = table_lines(server.messages()[0].text)[0].split()
    assert header == ["epoch", "iteration", "main/accuracy", "main/loss", "elapsed_time"]


def test_local_only_without_token_trains_normally(tmp_path, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID"):
        monkeypatch.delenv(name, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = SlackReport(None, None, ENTRIES, out=io.StringIO())
    assert len([w for w in caught if "local" in str(w.message)]) == 1
    trainer = make_trainer(tmp_path, epochs=1)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    assert r.state.status == "Completed" and not r.available


@pytest.mark.parametrize("kwargs, error", [
    (dict(len_normalizer="newest"), ValueError),
    (dict(template="{status"), ValueError),
    (dict(max_bytes=10), ValueError),
    (dict(entries="epoch"), TypeError),
    (dict(alert="sometimes"), ValueError),
    (dict(min_iterations=-1), ValueError),
    (dict(plot="main/loss"), ValueError),
    (dict(plot=["a/loss", "b", "c", "d", "e"]), ValueError),
])
def test_bad_arguments_fail_at_construction(server, kwargs, error):
    entries = kwargs.pop("entries", ENTRIES)
    with pytest.raises(error):
        report(server, entries, **kwargs)


def test_slack_outage_does_not_break_training(server, tmp_path):
    server.down = True
    trainer = make_trainer(tmp_path, epochs=2)
    r = report(server, flush_timeout=1.0)
    trainer.extend(r, trigger=(1, "epoch"))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        trainer.run()
    assert r.state.status == "Completed"
    assert server.token not in repr(r)


def test_chainer_slack_report_script_runs_unchanged(server, tmp_path):
    """A script written for chainer-slack-report, with only the import changed."""
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {TESTS!r})
        from slacknb import SlackReport  # was: from chainer_slack_report import SlackReport
        from support.training import make_trainer
        trainer = make_trainer({str(tmp_path / 'out')!r}, epochs=2)
        r = SlackReport(os.environ.get("SLACK_ACCESS_TOKEN", None),
                        os.environ.get("SLACK_CHANNEL_ID", None),
                        ['epoch', 'main/loss', 'main/accuracy', 'elapsed_time'],
                        template="{{status}} - {{elapsed}} {{content}}\\n{{finish_mentions}}",
                        finish_mentions="@alice", len_normalizer="FIFO", log_report="LogReport")
        trainer.extend(r, trigger=(1, 'epoch'))
        trainer.run()
    """))
    env = {**os.environ, "SLACK_ACCESS_TOKEN": server.token, "SLACK_CHANNEL_ID": server.channel_id,
           "SLACKNB_API_URL": server.url}
    env.pop("SLACK_BOT_TOKEN", None)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].split() == ["epoch", "main/loss", "main/accuracy", "elapsed_time"]
    assert server.token not in done.stdout + done.stderr
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed - ")
    assert sum("<@U0ALICE>" in m.text for m in message.replies) == 1


def test_local_true_never_talks_to_slack_even_with_settings(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # local was asked for: nothing to warn about
        r = report(server, local=True)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    assert r.slack.status == "local" and r.state.status == "Completed"
    assert server.calls == []


def test_a_broken_console_tail_does_not_mask_the_training_error(server, tmp_path):
    def broken_tail():
        raise OSError("console closed")

    trainer = make_trainer(tmp_path, epochs=3)
    raise_at_epoch(trainer, 1, Boom("the real error"))
    trainer.extend(report(server, console_tail=broken_tail), trigger=(1, "epoch"))
    with pytest.warns(RuntimeWarning, match="console closed"), pytest.raises(Boom, match="the real error"):
        trainer.run()
    assert server.messages(server.channel_id)[0].text.startswith("Failed")


# -- live, honest, no wait at the end (issue 13) ------------------------------------------------

def test_trainer_run_returns_without_waiting_for_slack(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=2)
    r = report(server, flush_timeout=0, finish_mentions="U0ALICE")
    trainer.extend(r, trigger=(1, "epoch"))
    slow = server.inject("chat.update", delay=1.0, times=None)  # every edit takes a second
    trainer.run()
    # Back from trainer.run() while the final edit is still on its way: nothing waited for it.
    # (Under load the first post may not even be out yet: no message shows the final text.)
    assert r.slack.delivering and all(m.text != r.text for m in server.messages())
    slow.cancel()
    assert r._run.mirror.wait_delivered(20)
    [message] = server.messages()
    assert message.text == r.text and message.replies[0].text.startswith("<@U0ALICE> ")
    assert r.slack.status == "synced" and not r.slack.delivering


def slow_steps(seconds_per_iteration):
    """An extension that makes each iteration take a while, as real training does."""
    def step(trainer):
        time.sleep(seconds_per_iteration)
    return step


def test_a_four_second_run_alone_shows_intermediate_edits(server, tmp_path):
    trainer = make_trainer(tmp_path, epochs=40)  # 400 iterations of 10 ms: about 4 s
    trainer.extend(slow_steps(0.01), trigger=(1, "iteration"))
    r = report(server, min_interval=None)  # automatic: about one edit a second for a run alone
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    [message] = server.messages()
    intermediate = message.history[1:-1]
    assert len(intermediate) >= 1 and message.text == r.text
    edits = [c.at for c in server.calls if c.method == "chat.update"]
    assert all(b - a >= 1.0 - 0.02 for a, b in zip(edits, edits[1:-1]))  # paced, the final excepted


def test_a_three_second_outage_mid_run_is_met_with_calls_and_recovered(server, tmp_path):
    outage = {}

    def outage_from_1_to_4_seconds(trainer):
        if "down" not in outage and trainer.elapsed_time >= 1.0:
            outage["down"], server.down = time.monotonic(), True
        elif "up" not in outage and trainer.elapsed_time >= 4.0:
            outage["up"], server.down = time.monotonic(), False

    trainer = make_trainer(tmp_path, epochs=60)  # about 6 s
    trainer.extend(slow_steps(0.01), trigger=(1, "iteration"))
    trainer.extend(outage_from_1_to_4_seconds, trigger=(1, "iteration"))
    r = report(server, min_interval=None, flush_timeout=0)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    assert r._run.mirror.wait_delivered(30)
    during = [c for c in server.calls if outage["down"] <= c.at < outage["up"]]
    assert during and all(c.status == 0 for c in during)  # tried while Slack was away
    [message] = server.messages()
    assert message.text == r.text and r.slack.status == "synced"  # and caught up


def test_the_console_says_once_where_the_report_is(server, tmp_path, capsys):
    trainer = make_trainer(tmp_path, epochs=3)
    r = report(server)
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    lines = [line for line in capsys.readouterr().err.splitlines() if "slacknb" in line]
    assert lines == [f"slacknb: the report is in Slack: {r.slack.permalink}"]


def test_a_local_run_says_nothing_about_slack_on_the_console(tmp_path, capsys):
    trainer = make_trainer(tmp_path, epochs=2)
    trainer.extend(SlackReport(None, None, ENTRIES, local=True, out=io.StringIO()), trigger=(1, "epoch"))
    trainer.run()
    assert "slacknb" not in capsys.readouterr().err
