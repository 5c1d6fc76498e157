"""slacknb.ppe.SlackReport in real pytorch-pfn-extras trainings, mirrored to the local Slack server.

Both ways ppe trains run every ending: ``Trainer.run`` (``ppe.engine.create_trainer``)
and a hand-written ``while not manager.stop_trigger`` loop. The endings ppe calls no
hook for (a KeyboardInterrupt, an exception between iterations) are seen where the
exception surfaces: those tests run a real script in its own process, or a cell in a
real IPython shell.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

pytest.importorskip("pytorch_pfn_extras")

import torch  # noqa: E402
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from pytorch_pfn_extras.training import extensions  # noqa: E402

from slacknb.frameworks.ppe import request_stop  # noqa: E402
from slacknb.ppe import SlackReport  # noqa: E402

from support.ppe_training import ENTRIES, Boom, make_manager, make_trainer, train_loop  # noqa: E402
from support.reports import local_report, shows_training, table_lines  # noqa: E402

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(TESTS, "support")
WAYS = ["trainer", "loop"]


def report(server, entries=ENTRIES, **kwargs):
    return local_report(SlackReport, server, entries, **kwargs)


def train(way, tmp_path, extension, *, trigger=(1, "epoch"), also=(), **kwargs):
    """Train one way with ``extension`` (and the ``(extension, trigger)`` pairs ``also``); returns the manager."""
    extensions_ = [(extension, trigger), *also]
    if way == "trainer":
        trainer, loader = make_trainer(tmp_path, **kwargs)
        for added, when in extensions_:
            trainer.extend(added, trigger=when)
        trainer.run(loader)
        return trainer.manager
    manager, model, optimizer, loader = make_manager(tmp_path, **kwargs)
    for added, when in extensions_:
        manager.extend(added, trigger=when)
    train_loop(manager, model, optimizer, loader)
    return manager


@pytest.mark.parametrize("way", WAYS)
def test_completed_run_edits_one_message_and_mentions_once(server, tmp_path, way):
    r = report(server, finish_mentions="@alice")

    def until_training_is_shown(manager):
        # A run shorter than Slack's answers would go from Started to Completed: hold the last
        # epoch until a Training edit is in, so the test sees the message edited as it trains.
        assert server.wait_for(shows_training, timeout=10)

    train(way, tmp_path, r, epochs=3, also=[(until_training_is_shown, (3, "epoch"))])

    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Completed - ")
    rows = table_lines(message.text)
    assert rows[0].split() == ENTRIES
    assert [row.split()[0] for row in rows[1:]] == ["1", "2", "3"]
    assert message.text == r.text
    assert message.history[0].startswith("Started")
    assert any(text.startswith("Training") for text in message.history)
    mention_replies = [m for m in message.replies if "<@U0ALICE>" in m.text]
    assert len(mention_replies) == 1 and "Completed" in mention_replies[0].text
    assert r.slack.status == "synced" and r.slack.sent_text == message.text


@pytest.mark.parametrize("way", WAYS)
def test_an_exception_in_an_iteration_fails_the_run_and_propagates(server, tmp_path, way):
    r = report(server, alert_prefix="@here", finish_mentions="@alice")
    with pytest.raises(Boom):
        train(way, tmp_path, r, epochs=5, fail_at=(25, Boom("loss became <!channel> nan")))

    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Failed - ")
    assert [row.split()[0] for row in table_lines(message.text)[1:]] == ["1", "2"]
    assert "Completed" not in message.text and not any("Completed" in m.text for m in message.replies)
    [alert] = [m for m in message.replies if "Boom" in m.text]
    assert alert.text.startswith("<!here>")
    assert "loss became &lt;!channel&gt; nan" in alert.text and "<!channel>" not in alert.text
    assert "Traceback" in alert.text and "forward" in alert.text
    assert r.state.status == "Failed"


@pytest.mark.parametrize("way", WAYS)
def test_an_early_failure_below_min_iterations_pings_nobody(server, tmp_path, way):
    with pytest.raises(Boom):
        train(way, tmp_path, report(server, finish_mentions="@alice", min_iterations=1000),
              fail_at=(3, Boom("typo")))
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Failed") and message.replies == []


def test_a_run_inside_an_except_block_is_still_completed(server, tmp_path):
    try:
        raise RuntimeError("handled before training")
    except RuntimeError:
        train("loop", tmp_path, report(server), epochs=1)
    assert server.messages(server.channel_id)[0].text.startswith("Completed")


@pytest.mark.parametrize("way", WAYS)
def test_progress_and_eta_follow_the_managers_stop_trigger(server, tmp_path, way):
    r = report(server, template="{status} {progress} {eta}|{content}")
    seen = []
    original = r._run.record

    def record(**kwargs):
        if kwargs.get("render", True):
            seen.append(kwargs["progress"])
        original(**kwargs)

    r._run.record = record
    train(way, tmp_path, r, trigger=(5, "iteration"), stop=(25, "iteration"), log_trigger=(5, "iteration"))
    assert seen == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    text = server.messages(server.channel_id)[0].text
    assert text.startswith("Completed [##########] 100% 0:00:00|")
    assert [row.split()[1] for row in table_lines(text)[1:]] == ["5", "10", "15", "20", "25"]


def test_entries_none_picks_columns_from_the_log(server, tmp_path):
    train("trainer", tmp_path, report(server, entries=None), epochs=1)
    header = table_lines(server.messages()[0].text)[0].split()
    assert header == ["epoch", "iteration", "main/accuracy", "main/loss", "elapsed_time"]


def test_a_given_log_report_and_the_console_table(server, tmp_path):
    out = io.StringIO()
    own = extensions.LogReport(trigger=(1, "epoch"), filename="own-log")
    train("loop", tmp_path, report(server, log_report=own, out=out), trigger=(1, "iteration"), epochs=2)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ENTRIES
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]
    assert server.messages()[0].text.startswith("Completed")


@pytest.mark.parametrize("way", WAYS)
def test_request_stop_ends_at_the_next_iteration_boundary_with_finalize(server, tmp_path, way):
    r = report(server)
    calls = []

    def stop_at_12(manager):
        calls.append(manager.iteration)
        if manager.iteration == 12:
            request_stop(manager)
            request_stop(manager)  # twice is harmless

    if way == "trainer":
        trainer, loader = make_trainer(tmp_path, epochs=5)
        trainer.extend(r, trigger=(1, "epoch"))
        trainer.extend(stop_at_12, trigger=(1, "iteration"))
        trainer.run(loader)
        manager = trainer.manager
    else:
        manager, model, optimizer, loader = make_manager(tmp_path, epochs=5)
        manager.extend(r, trigger=(1, "epoch"))
        manager.extend(stop_at_12, trigger=(1, "iteration"))
        train_loop(manager, model, optimizer, loader)
    assert calls[-1] == 12 and manager.iteration == 12 and manager._finalized
    assert r.state.status == "Completed"
    assert r.state.progress == pytest.approx(1.0)  # finished: the bar is full


def test_bad_arguments_fail_at_construction(server):
    with pytest.raises(TypeError, match="LogReport"):
        report(server, log_report=42)
    with pytest.raises(TypeError, match="entries"):
        report(server, entries="epoch")
    with pytest.raises(ValueError):
        report(server, len_normalizer="newest")
    assert server.messages() == []


def test_the_token_is_never_in_the_repr_or_a_snapshot(server, tmp_path):
    r = report(server)
    manager = train("loop", tmp_path, r, epochs=1)
    assert server.token not in repr(r)
    assert server.token not in repr(manager.state_dict())


# -- endings ppe calls no hook for: a real script, a real IPython cell ----------------------

@pytest.mark.parametrize("way, case, status", [
    ("trainer", "interrupt inside", "Interrupted"),
    ("loop", "interrupt inside", "Interrupted"),
    ("trainer", "interrupt between", "Interrupted"),
    ("loop", "error between", "Failed"),
    ("trainer", "error between", "Failed"),
    ("loop", "interrupt caught", "Interrupted"),
])
def test_a_script_ending_where_ppe_calls_no_hook(slack_env, tmp_path, way, case, status):
    done = subprocess.run([sys.executable, os.path.join(SUPPORT, "ppe_script.py"), way, case, str(tmp_path)],
                          capture_output=True, text=True, timeout=180)
    assert (done.returncode == 0) == (case == "interrupt caught"), done.stderr
    [message] = slack_env.messages(slack_env.channel_id)
    assert message.text.startswith(f"{status} - "), message.text
    assert [row.split()[0] for row in table_lines(message.text)[1:]] == ["1", "2"]
    alerts = [m for m in message.replies if "loader broke" in m.text]
    assert len(alerts) == (status == "Failed")
    if status == "Failed":
        assert "Traceback" in alerts[0].text
    assert slack_env.token not in done.stdout + done.stderr


@pytest.fixture
def shell(slack_env, tmp_path):
    shell = InteractiveShell.instance()
    shell.user_ns.update(out=str(tmp_path), SlackReport=SlackReport)
    shell.run_cell("from support.ppe_training import Boom, make_manager, train_loop")
    yield shell
    InteractiveShell.clear_instance()


def test_a_cell_interrupted_in_a_hand_written_loop_ends_the_run(shell, slack_env):
    shell.run_cell("manager, model, optimizer, loader = make_manager(out, epochs=5, "
                   "fail_at=(25, KeyboardInterrupt()))\n"
                   "report = SlackReport(None, None, None, min_interval=0, flush_timeout=10)\n"
                   "manager.extend(report, trigger=(1, 'epoch'))")
    result = shell.run_cell("train_loop(manager, model, optimizer, loader)")
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    [message] = slack_env.messages(slack_env.channel_id)
    assert message.text.startswith("Interrupted - ")
    # A later cell's error is not this run's: it ended already.
    shell.run_cell("raise Boom('unrelated')")
    assert slack_env.messages(slack_env.channel_id)[0].text.startswith("Interrupted - ")
    assert len(slack_env.messages(slack_env.channel_id)) == 1


def test_a_resumed_run_keeps_the_log(server, tmp_path):
    first, model, optimizer, loader = make_manager(tmp_path / "a", epochs=2)
    first.extend(report(server))
    train_loop(first, model, optimizer, loader)
    torch.save(first.state_dict(), tmp_path / "snapshot.pt")  # as ppe's snapshot extension does

    second, model, optimizer, loader = make_manager(tmp_path / "b", epochs=4)
    second.extend(report(server))
    second.load_state_dict(torch.load(tmp_path / "snapshot.pt", weights_only=False))
    train_loop(second, model, optimizer, loader)

    messages = server.messages(server.channel_id)
    assert len(messages) == 2
    assert [row.split()[0] for row in table_lines(messages[1].text)[1:]] == ["1", "2", "3", "4"]
    assert messages[1].text.startswith("Completed")

