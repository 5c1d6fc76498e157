"""The end of a run tells the truth, at the default settings (the end is delivered in the
background, ``flush_timeout`` 0): the mention survives a dropped look-up, a run shorter than the
look-up still names its people in the final message, the chart is extra and never holds a script
for minutes, and what goes wrong after the end is said before the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from slacknb.core.context import RunContext
from slacknb.core.outcome import Ending
from slacknb.core.render import Renderer
from slacknb.core.state import Status
from slacknb.run import ReportRun
from slacknb.slack.mirror import SlackMirror

from support.charts import run_log
from support.mirror import States

TESTS = str(Path(__file__).resolve().parents[1])
CONTEXT = RunContext("gpu-host", "/home/me/exp", "train.py", "", "")


def background_mirror(server, states=None, **options) -> SlackMirror:
    """A mirror at the defaults a user gets: no flush wait, Slack's own backoff."""
    return SlackMirror(server.token, server.channel_id, base_url=server.url, on_state=states, **options)


def test_one_dropped_users_list_does_not_lose_the_mention(server):
    server.inject("users.list", drop=True)
    states = States()
    mirror = background_mirror(server, states, mentions="@alice", backoff_base=0.05)
    mirror.update("epoch 1")
    assert mirror.finish("final", outcome="completed", elapsed="0:00:10") is False  # returned at once
    assert mirror.wait_delivered(30)
    [message] = server.messages()
    [reply] = message.replies
    assert reply.text.startswith("<@U0ALICE> :white_check_mark: *Completed*")
    assert server.call_counts()["users.list"] >= 2  # the dropped call was made again
    mirror.close()


def test_a_run_shorter_than_the_look_up_names_its_mentions_in_the_final_message(server):
    server.latency = 0.3  # every answer takes a while: the run is over before users.list answers
    mirror = background_mirror(server, mentions="@alice U0BOB")
    run = ReportRun(renderer=Renderer(template="{status}\n{content}\n{finish_mentions}", context=CONTEXT),
                    mirror=mirror)
    run.start(log=[], entries=["epoch"], label="short")
    run.record(elapsed=0.04)
    run.finish(Ending(Status.COMPLETED))
    assert mirror.wait_delivered(30)
    [message] = server.messages()
    assert message.text.startswith("Completed") and message.text.endswith("<@U0ALICE> <@U0BOB>")
    assert message.replies[0].text.startswith("<@U0ALICE> <@U0BOB> :white_check_mark:")
    assert run.frame().preview == message.text  # the notebook's preview is exactly what Slack shows
    mirror.close()


def test_a_failing_chart_upload_backs_off_a_few_seconds_and_never_reads_the_thread(server):
    server.inject("files.getUploadURLExternal", status=500, times=2)
    mirror = background_mirror(server, mentions="U0ALICE", backoff_base=0.05)
    chart = run_log(20)
    from slacknb.core.chart import Drawing

    mirror.finish("final", outcome="completed", elapsed="0:00:01",
                  chart=Drawing("Completed", "mnist", chart, len(chart), None, "mnist-completed.png"))
    assert mirror.wait_delivered(30)
    [message] = server.messages()
    assert [bool(reply.files) for reply in message.replies] == [False, True]  # the reply, then the chart
    # files.getUploadURLExternal cannot have shared anything: the thread is never read for it.
    assert server.call_counts()["conversations.replies"] == 0
    mirror.close()


def script(tmp_path, body: str, **env) -> subprocess.CompletedProcess:
    """Run a training script as a user would, its Slack settings in the environment."""
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {TESTS!r})
        from support.training import make_trainer
        trainer = make_trainer({str(tmp_path / 'out')!r}, epochs=2)
    """) + textwrap.dedent(body))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SLACK")}
    environment.update(env)
    return subprocess.run([sys.executable, str(path)], env=environment, capture_output=True, text=True,
                          timeout=200, cwd=tmp_path)


def slack_env(server, **more) -> dict:
    return {"SLACK_BOT_TOKEN": server.token, "SLACK_CHANNEL_ID": server.channel_id, "SLACKNB_API_URL": server.url,
            **more}


REPORT = """
    from slacknb import SlackReport
    trainer.extend(SlackReport(None, None, ["epoch", "main/loss"], finish_mentions={mentions!r}),
                   trigger=(1, "epoch"))
    trainer.run()
"""


def test_problems_found_after_the_end_are_printed_once_before_the_script_exits(server, tmp_path):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s != "files:write")
    done = script(tmp_path, REPORT.format(mentions="@alice @nobody"), **slack_env(server))
    assert done.returncode == 0, done.stderr
    # Each once: the mention as a warning at the script's line (it is found early, during the run),
    # the chart on stderr before the process exits.
    lines = done.stderr.splitlines()
    assert sum("files:write" in line for line in lines) == 1, done.stderr
    assert sum("@nobody" in line and "will not be notified" in line for line in lines) == 1, done.stderr
    assert "waiting up to" not in done.stderr  # a wait too short to notice is not announced
    [message] = server.messages()
    assert message.replies[0].text.startswith("<@U0ALICE> ")
    assert server.token not in done.stdout + done.stderr


def test_an_invalid_token_in_a_short_run_is_said_at_exit(server, tmp_path):
    done = script(tmp_path, REPORT.format(mentions="@alice"), **slack_env(server, SLACK_BOT_TOKEN="xoxb-not-valid"))
    assert done.returncode == 0, done.stderr
    assert "invalid_auth" in done.stderr and "SLACK_BOT_TOKEN" in done.stderr
    assert "xoxb-not-valid" not in done.stderr + done.stdout


def test_slack_unreachable_until_the_delivery_timeout_is_said_at_exit(server, tmp_path):
    body = """
        from slacknb import SlackReport
        trainer.extend(SlackReport(None, None, ["epoch", "main/loss"], delivery_timeout=3), trigger=(1, "epoch"))
        trainer.run()
    """
    done = script(tmp_path, body, **slack_env(server, SLACKNB_API_URL="http://127.0.0.1:9/api/"))
    assert done.returncode == 0, done.stderr
    assert "Slack did not receive the final report edit" in done.stderr, done.stderr


def test_warnings_point_at_the_users_line(tmp_path):
    body = """
        from slacknb import SlackReport
        report = SlackReport(None, None, ["epoch"])  # no token, no channel
    """
    done = script(tmp_path, body)
    assert done.returncode == 0, done.stderr
    lines = (tmp_path / "train.py").read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "report = SlackReport" in text)
    assert f"train.py:{line}: SlackMirrorWarning: Slack mirroring is off" in done.stderr, done.stderr


def test_the_chart_never_holds_a_script_for_minutes(server, tmp_path):
    server.inject("files.getUploadURLExternal", status=500, times=1000)
    started = time.monotonic()
    done = script(tmp_path, REPORT.format(mentions="@alice"), **slack_env(server))
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "left out after waiting 5 s for it: chart" in done.stderr, done.stderr
    [message] = server.messages()
    assert message.text.startswith("Completed") and message.replies[0].text.startswith("<@U0ALICE>")
    assert took < 60, f"the script took {took:.0f} s to exit"  # it waited 120 s for the chart before


def test_a_script_with_its_own_print_report_gets_no_second_table(server, tmp_path):
    body = """
        from chainer.training import extensions
        from slacknb import SlackReport
        trainer.extend(extensions.PrintReport(["epoch", "main/loss"]))
        trainer.extend(SlackReport(None, None, ["epoch", "main/loss"]), trigger=(1, "epoch"))
        trainer.run()
    """
    done = script(tmp_path, body, **slack_env(server))
    assert done.returncode == 0, done.stderr
    headers = [line for line in done.stdout.splitlines() if line.split()[:2] == ["epoch", "main/loss"]]
    assert len(headers) == 1, done.stdout  # PrintReport's own, and only that
    assert "slacknb: the report is in Slack: http" in done.stderr


def test_a_final_text_that_is_the_first_post_notifies_nobody_the_reply_does(server):
    mirror = background_mirror(server, mentions="@channel @alice U0BOB")
    mirror.finish(f"Completed\n{mirror.mention_slot}", outcome="completed", elapsed="0:00:01")
    assert mirror.wait_delivered(30)
    [message] = server.messages()
    # Posted with plain names (a new message with a mention would notify), then edited to name
    # them as mentions (an edit notifies nobody); only the reply notifies.
    assert message.history == ["Completed\n@channel @alice @bob", "Completed\n<!channel> <@U0ALICE> <@U0BOB>"]
    [reply] = message.replies
    assert reply.text.startswith("<!channel> <@U0ALICE> <@U0BOB> :white_check_mark:")
    mirror.close()


def test_a_final_edit_names_the_people_it_notifies_as_mentions(server):
    states = States()
    mirror = background_mirror(server, states, mentions="@alice")
    mirror.update("Started")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "Started" and s.mentions)
    mirror.finish(f"Completed\n{mirror.mention_slot}", outcome="completed", elapsed="0:00:01")
    assert mirror.wait_delivered(30)
    [message] = server.messages()
    assert message.text == "Completed\n<@U0ALICE>"  # an edit: a mention that notifies nobody, shown as Slack shows it
    mirror.close()
