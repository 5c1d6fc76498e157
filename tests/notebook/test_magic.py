"""The %%slackreport magic in a real InteractiveShell, with real Chainer runs and the local Slack server."""

from __future__ import annotations

import textwrap
import warnings

import pytest
from chainer.training import Trainer
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from slacknb.notebook.magic import SlackReportMagics
from slacknb.frameworks.chainer_patch import is_patched

from support.charts import text_replies
from support.training import Boom

ORIGINAL_RUN = Trainer.__dict__["run"]


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture
def env(slack_env):
    return slack_env


def make_shell(tmp_path, config=None):
    config = config or Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "slacknb")
    shell.user_ns["out"] = str(tmp_path / "result")
    shell.run_cell("from support.training import make_trainer, raise_at_epoch, Boom\n"
                   "from chainer.training import extensions")
    return shell


@pytest.fixture
def config():
    config = Config()
    # Edits as fast as the run makes them: tests wait for the final state, not for min_interval.
    config.SlackReportMagics.interval = 0.0
    # The end of a run waits for Slack on purpose here (0 by default): the tests read what
    # Slack has right after the cell.
    config.SlackReportMagics.flush_timeout = 10.0
    return config


@pytest.fixture
def ip(env, tmp_path, config, capfd):
    shell = make_shell(tmp_path, config)
    yield shell
    InteractiveShell.clear_instance()
    assert Trainer.__dict__["run"] is ORIGINAL_RUN and not is_patched()
    printed = capfd.readouterr()
    assert env.token not in printed.out + printed.err


def cell(ip, line, body):
    """Run a %%slackreport cell the way IPython runs it; returns run_cell's result."""
    return ip.run_cell(f"%%slackreport {line}\n" + textwrap.dedent(body))


def magic(ip, line, body):
    """Call the magic directly: its value is returned, its exception raised."""
    return ip.run_cell_magic("slackreport", line, textwrap.dedent(body))


def rows(text):
    """Column headers and first cells of the table in a message."""
    lines = text.split("```")[1].strip("\n").splitlines()
    return lines[0].split(), [line.split()[0] for line in lines[1:]]


TRAIN = """
trainer = make_trainer(out, epochs=3)
trainer.run()
"""


# -- refusing tokens and bad options ------------------------------------------------------

@pytest.mark.parametrize("line", [
    "--label xoxb-1234-abcdef",
    "-c C0TRAINING -t 'xoxp-99-zz {status}'",
    "--token abcdef123",
    "--access-token=abcdef123",
    "SLACK_BOT_TOKEN=abcdef123",
    "-m xapp-1-A0-secret",
])
def test_a_token_on_the_line_is_refused_without_echo(ip, env, line):
    with pytest.raises(UsageError) as caught:
        magic(ip, line, "ran = True")
    message = str(caught.value)
    assert "SLACK_BOT_TOKEN" in message and "history" in message
    for secret in ("xoxb-1234", "xoxp-99", "abcdef123", "xapp-1"):
        assert secret not in message
    assert "ran" not in ip.user_ns
    assert env.calls == []


@pytest.mark.parametrize("line, fix", [
    ("--max-bytes 10", "256 to 40000"),
    ("--interval -1", "--interval must be from 0"),
    ("--interval 1e10", "--interval must be from 0 up to 86,400 seconds"),
    ("--hide 'hunter2('", "hide: pattern 1 of 1 is not a regular expression"),
    ("-t '{status'", "template"),
    ("-c 'my channel'", "channel ID"),
    ("--alert sometimes", "invalid choice"),
    ("--flush-timeout -1", "--flush-timeout"),
])
def test_bad_options_fail_before_the_body_runs(ip, env, line, fix):
    with pytest.raises(UsageError, match="(?i)" + fix.replace("-", r"\-")):
        magic(ip, line, "ran = True")
    assert "ran" not in ip.user_ns and env.calls == []


def test_lines_that_merely_mention_tokens_are_accepted(ip, env):
    assert magic(ip, "--label tokens_per_second --local", "7") == 7


# -- trainers in the cell ----------------------------------------------------------------

def test_training_cell_is_one_message_and_its_value_is_the_cells(ip, env, capfd):
    result = cell(ip, "-m @alice", TRAIN + "trainer.updater.epoch\n")
    assert result.success and result.result == 3
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Completed - ")
    columns, epochs = rows(message.text)
    assert epochs == ["1", "2", "3"] and "main/loss" in columns
    assert message.history[0].startswith("Started")
    [reply] = text_replies(message)
    assert reply.text.startswith("<@U0ALICE>") and "Completed" in reply.text
    # Outside a kernel the local view is the console table.
    printed = capfd.readouterr().out
    assert "main/loss" in printed and env.token not in printed


def test_line_options_reach_the_report(ip, env):
    line = ("-c C0PUBLIC2 -e epoch main/loss -t '{status} {label}\\n{content}' --label 'run 1' "
            "--alert completed -m @bob --max-bytes 2000 -n fifo")
    assert cell(ip, line, TRAIN).success
    assert env.messages(env.channel_id) == []
    [message] = env.messages("C0PUBLIC2")
    assert message.text.startswith("Completed run 1\n```")
    assert rows(message.text) == (["epoch", "main/loss"], ["1", "2", "3"])
    assert ["<@U0BOB>" in r.text for r in text_replies(message)] == [True]


def test_config_beats_environment_and_the_line_beats_config(env, tmp_path, config):
    config.SlackReportMagics.channel = "C0PUBLIC2"
    config.SlackReportMagics.entries = ["epoch", "main/accuracy"]
    config.SlackReportMagics.label = "from-config"
    config.SlackReportMagics.template = "{status} {label}|{content}"
    shell = make_shell(tmp_path, config)
    try:
        assert cell(shell, "", TRAIN).success
        [message] = env.messages("C0PUBLIC2")
        assert message.text.startswith("Completed from-config|")
        assert rows(message.text)[0] == ["epoch", "main/accuracy"]
        env.reset()
        assert cell(shell, f"-c {env.channel_id} --label from-line -e epoch", TRAIN).success
        [message] = env.messages(env.channel_id)
        assert message.text.startswith("Completed from-line|") and rows(message.text)[0] == ["epoch"]
    finally:
        InteractiveShell.clear_instance()


def test_failing_training_fails_the_cell_and_alerts_with_the_console(ip, env):
    body = """
    print("loading data <done>")
    trainer = make_trainer(out, epochs=5)
    raise_at_epoch(trainer, 2, Boom("loss is nan"))
    trainer.run()
    """
    result = cell(ip, "--prefix @here", body)
    assert isinstance(result.error_in_exec, Boom)
    [message] = env.messages(env.channel_id)  # the trainer reported it: no second message for the cell
    assert message.text.startswith("Failed - ")
    [alert] = [r for r in message.replies if "Boom" in r.text]
    assert alert.text.startswith("<!here>") and "loss is nan" in alert.text
    assert "loading data &lt;done&gt;" in alert.text.split("Console")[1]
    assert "slacknb/magic.py" not in alert.text
    assert ip.run_cell("after = 1").success  # the kernel goes on as usual


def test_early_crash_below_min_iterations_says_failed_and_pings_nobody(ip, env):
    body = """
    trainer = make_trainer(out, epochs=5)
    raise_at_epoch(trainer, 1, Boom("typo"))
    trainer.run()
    """
    with pytest.raises(Boom):
        magic(ip, "--min-iterations 1000 -m @alice", body)
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Failed") and text_replies(message) == []


def test_interrupted_training_propagates_keyboard_interrupt(ip, env):
    body = """
    trainer = make_trainer(out, epochs=5)
    raise_at_epoch(trainer, 2, KeyboardInterrupt())
    trainer.run()
    """
    with pytest.raises(KeyboardInterrupt):
        magic(ip, "", body)
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Interrupted - ")


def test_a_trainer_with_its_own_slack_report_keeps_it(ip, env):
    body = """
    from slacknb import SlackReport
    trainer = make_trainer(out, epochs=2)
    mine = SlackReport(channel_id="C0PUBLIC2", template="mine {status}", min_interval=0, flush_timeout=10)
    trainer.extend(mine, trigger=(1, "epoch"))
    trainer.run()
    """
    assert cell(ip, "-t 'magic {status}'", body).success
    assert [m.text for m in env.messages()] == ["mine Completed"]


def test_trainer_without_log_report_gets_one(ip, env):
    body = """
    trainer = make_trainer(out, stop=(20, "iteration"))
    trainer._extensions.pop("LogReport")
    trainer.extend(extensions.LogReport(trigger=(5, "iteration")), name="every5")
    trainer.run()
    """
    assert cell(ip, "-e iteration,main/loss", body).success
    [message] = env.messages(env.channel_id)
    assert rows(message.text) == (["iteration", "main/loss"], ["5", "10", "15", "20"])


def test_failure_after_training_is_reported_by_the_cell(ip, env):
    body = TRAIN + "raise ValueError('evaluation broke')\n"
    with pytest.raises(ValueError, match="evaluation broke"):
        magic(ip, "--label eval", body)
    trained, evaluated = env.messages(env.channel_id)
    assert trained.text.startswith("Completed") and rows(trained.text)[1] == ["1", "2", "3"]
    assert evaluated.text.startswith("Failed")
    [alert] = text_replies(evaluated)
    assert "evaluation broke" in alert.text and "eval" in alert.text


def test_nested_cells_inner_options_win_and_patch_is_removed(ip, env):
    body = f"""
    get_ipython().run_cell_magic("slackreport", "-c C0PUBLIC2", {TRAIN!r})
    raise Boom("after the inner cell")
    """
    with pytest.raises(Boom):
        magic(ip, "", body)
    [inner] = env.messages("C0PUBLIC2")
    assert inner.text.startswith("Completed")
    [outer] = env.messages(env.channel_id)
    assert outer.text.startswith("Failed")


def test_local_sends_nothing_and_does_not_warn(ip, env, capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert magic(ip, "--local", TRAIN + "trainer.updater.epoch") == 3
        assert magic(ip, "--local", "'no trainer'") == "no trainer"
    assert env.calls == []
    assert "main/loss" in capfd.readouterr().out


# -- a cell without a trainer -------------------------------------------------------------

def test_cell_without_trainer_is_one_job(ip, env):
    assert magic(ip, "-m @alice", "x = 6\nx * 7") == 42
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Completed - 0:00:0")
    assert ["Completed" in r.text for r in text_replies(message)] == [True]


def test_failing_cell_without_trainer_alerts_with_its_console_tail(ip, env):
    body = "".join(f"print('step {i}')\n" for i in range(100)) + "{}['missing']\n"
    result = cell(ip, "", body)
    assert isinstance(result.error_in_exec, KeyError)
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Failed - ")
    [alert] = text_replies(message)
    console = alert.text.split("Console (last lines):")[1]
    assert "step 99" in console and "step 10\n" not in console  # bounded
    assert "KeyError: 'missing'" in alert.text


def test_interrupted_cell_without_trainer(ip, env):
    with pytest.raises(KeyboardInterrupt):
        magic(ip, "", "raise KeyboardInterrupt")
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Interrupted - ")


def test_value_rules_match_a_plain_cell(ip, env):
    assert magic(ip, "", "a = 1\nb = 2") is None
    assert magic(ip, "", "a + b") == 3
    assert magic(ip, "", "a + b;  # quiet") is None
    assert ip.run_cell("%%slackreport\nb * 10\n").result == 20
    assert ip.user_ns["_"] == 20  # the value went through the display hook like any cell's


def test_long_cell_is_posted_while_it_runs(ip, env):
    # With --grace 0 the Started message is posted from a timer thread; the
    # body waits for it on the server's condition, then finishes.
    ip.user_ns["server"] = env
    body = """
    posted = server.wait_for(lambda s: len(s.messages()) == 1, timeout=10)
    started = server.messages()[0].text
    """
    assert cell(ip, "--grace 0", body).success
    assert ip.user_ns["posted"] and ip.user_ns["started"].startswith("Started")
    # A job has no log to wait for: its table's place says what it does.
    assert ip.user_ns["started"].splitlines()[1] == "_running the cell_"
    [message] = env.messages(env.channel_id)
    assert message.text.startswith("Completed") and "running the cell" not in message.text


def test_training_after_the_job_was_posted_is_alerted_once(ip, env):
    ip.user_ns["server"] = env
    body = "assert server.wait_for(lambda s: len(s.messages()) == 1, timeout=10)\n" + TRAIN
    assert cell(ip, "--grace 0 -m @alice", body).success
    job, trained = env.messages(env.channel_id)
    assert job.text.startswith("Completed") and job.history[0].startswith("Started")
    assert trained.text.startswith("Completed") and rows(trained.text)[1] == ["1", "2", "3"]
    # One ending, one ping: the trainer's report sent it, the cell's job stays quiet.
    assert text_replies(job) == [] and len(text_replies(trained)) == 1


def test_magic_help_is_the_docstring(ip):
    doc = SlackReportMagics.slackreport.__doc__
    assert "--min-iterations N" in doc and "c.SlackReportMagics.channel" in doc
    assert "SLACK_BOT_TOKEN" in doc


def test_plot_comes_from_the_line_or_config_and_is_checked(ip):
    from IPython.core.magic_arguments import parse_argstring

    from slacknb.notebook.line import resolve

    magics = SlackReportMagics(shell=ip)

    def plot(line):
        return resolve(magics, parse_argstring(magics.slackreport, "--local " + line)).plot

    assert plot("") is None  # the default curves: every */loss and */accuracy
    assert plot("--plot main/loss validation/main/loss,lr") == ("main/loss", "validation/main/loss", "lr")
    assert plot("--plot ''") == ()  # no chart
    magics.plot = ["main/accuracy"]
    assert plot("") == ("main/accuracy",)
    assert plot("--plot main/loss") == ("main/loss",)
    with pytest.raises(UsageError, match="at most 4"):
        plot("--plot a/loss b c d e")


def test_hide_patterns_come_from_the_line_or_config_one_per_word(ip):
    from IPython.core.magic_arguments import parse_argstring

    from slacknb.notebook.line import resolve

    magics = SlackReportMagics(shell=ip)

    def hide(line):
        return resolve(magics, parse_argstring(magics.slackreport, "--local " + line)).hide

    assert hide("") == ()
    assert hide(r"--hide 'hunter\d{2,5}' 'a,b'") == (r"hunter\d{2,5}", "a,b")  # a comma stays in its pattern
    magics.hide = ["from-config"]
    assert hide("") == ("from-config",)


def test_stall_after_comes_from_the_line_or_config(ip):
    from IPython.core.magic_arguments import parse_argstring

    from slacknb.notebook.line import resolve

    magics = SlackReportMagics(shell=ip)

    def stall_after(line):
        return resolve(magics, parse_argstring(magics.slackreport, "--local " + line)).stall_after

    assert stall_after("") is None  # automatic
    assert stall_after("--stall-after 90") == 90.0
    magics.stall_after = 0.0
    assert stall_after("") == 0.0  # config: off
    with pytest.raises(UsageError, match="--stall-after must be from 0"):
        stall_after("--stall-after -5")
