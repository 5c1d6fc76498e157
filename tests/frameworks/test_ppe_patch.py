"""%%slackreport with ppe: every manager that starts training in the cell is reported.

A real InteractiveShell runs the cells, with real ppe trainings (``Trainer.run`` and
hand-written loops) and the local Slack server.
"""

from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("pytorch_pfn_extras")

from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from pytorch_pfn_extras.training.manager import _BaseExtensionsManager  # noqa: E402
from traitlets.config import Config  # noqa: E402

from slacknb.frameworks.ppe_patch import ManagerPatch, is_patched  # noqa: E402

from support.ppe_training import Boom, make_manager, train_loop  # noqa: E402

ORIGINAL_START = _BaseExtensionsManager.__dict__["start_extensions"]


@pytest.fixture
def ip(slack_env, tmp_path, capfd):
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.SlackReportMagics.interval = 0.0  # tests wait for the final state, not for min_interval
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "slacknb")
    shell.user_ns["out"] = str(tmp_path / "result")
    shell.run_cell("from support.ppe_training import Boom, FailingLoader, make_manager, make_trainer, train_loop\n"
                   "from pytorch_pfn_extras.training import extensions")
    yield shell
    InteractiveShell.clear_instance()
    assert _BaseExtensionsManager.__dict__["start_extensions"] is ORIGINAL_START and not is_patched()
    printed = capfd.readouterr()
    assert slack_env.token not in printed.out + printed.err


def cell(ip, line, body):
    """Run a %%slackreport cell the way IPython runs it; returns run_cell's result."""
    return ip.run_cell(f"%%slackreport {line}\n" + textwrap.dedent(body))


def rows(text):
    lines = text.split("```")[1].strip("\n").splitlines()
    return lines[0].split(), [line.split()[0] for line in lines[1:]]


TRAINER = """
trainer, loader = make_trainer(out, epochs=3, log_report=False)
trainer.run(loader)
"""
LOOP = """
manager, model, optimizer, loader = make_manager(out, epochs=3)
train_loop(manager, model, optimizer, loader)
"""


@pytest.mark.parametrize("body", [TRAINER, LOOP], ids=["trainer", "loop"])
def test_a_training_cell_is_one_message(ip, slack_env, body):
    assert cell(ip, "-e epoch iteration main/loss -m @alice", body).success
    [message] = slack_env.messages(slack_env.channel_id)
    assert message.text.startswith("Completed - ")
    assert rows(message.text) == (["epoch", "iteration", "main/loss"], ["1", "2", "3"])
    assert message.history[0].startswith("Started")
    assert sum("<@U0ALICE>" in reply.text for reply in message.replies) == 1


def test_a_manager_with_its_own_slack_report_keeps_it(ip, slack_env):
    body = """
    from slacknb.ppe import SlackReport
    manager, model, optimizer, loader = make_manager(out, epochs=2)
    manager.extend(SlackReport(channel_id="C0PUBLIC2", template="mine {status}", min_interval=0))
    train_loop(manager, model, optimizer, loader)
    """
    assert cell(ip, "-t 'magic {status}'", body).success
    assert [m.text for m in slack_env.messages()] == ["mine Completed"]


def test_the_log_reports_trigger_is_the_reports(ip, slack_env):
    body = """
    manager, model, optimizer, loader = make_manager(out, stop=(20, "iteration"), log_trigger=(5, "iteration"))
    train_loop(manager, model, optimizer, loader)
    """
    assert cell(ip, "-e iteration,main/loss", body).success
    [message] = slack_env.messages(slack_env.channel_id)
    assert rows(message.text) == (["iteration", "main/loss"], ["5", "10", "15", "20"])


@pytest.mark.parametrize("body", [
    "manager, model, optimizer, loader = make_manager(out, epochs=5, fail_at=(25, Boom('loss is nan')))\n"
    "train_loop(manager, model, optimizer, loader)",
    "trainer, loader = make_trainer(out, epochs=5, fail_at=(25, Boom('loss is nan')))\ntrainer.run(loader)",
    "manager, model, optimizer, loader = make_manager(out, epochs=5)\n"
    "train_loop(manager, model, optimizer, FailingLoader(loader, 25, Boom('loss is nan')))",
], ids=["loop", "trainer", "between iterations"])
def test_a_failing_training_fails_the_cell_and_alerts_once_with_the_console(ip, slack_env, body):
    result = cell(ip, "--prefix @here", 'print("loading data <done>")\n' + body)
    assert isinstance(result.error_in_exec, Boom)
    [message] = slack_env.messages(slack_env.channel_id)  # the report said it: no second message for the cell
    assert message.text.startswith("Failed - ") and rows(message.text)[1] == ["1", "2"]
    [alert] = [r for r in message.replies if "Boom" in r.text]
    assert alert.text.startswith("<!here>") and "loss is nan" in alert.text
    assert "loading data &lt;done&gt;" in alert.text.split("Console")[1]
    assert ip.run_cell("after = 1").success


@pytest.mark.parametrize("body", [
    "trainer, loader = make_trainer(out, epochs=5, fail_at=(25, KeyboardInterrupt()))\ntrainer.run(loader)",
    "manager, model, optimizer, loader = make_manager(out, epochs=5)\n"
    "train_loop(manager, model, optimizer, FailingLoader(loader, 25, KeyboardInterrupt()))",
], ids=["trainer", "loop between iterations"])
def test_an_interrupted_training_is_interrupted_once(ip, slack_env, body):
    result = cell(ip, "", body)
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    [message] = slack_env.messages(slack_env.channel_id)
    assert message.text.startswith("Interrupted - ")
    assert not any("Failed" in reply.text for reply in message.replies)


def test_a_failure_after_training_is_the_cells(ip, slack_env):
    result = cell(ip, "--label eval", LOOP + "raise ValueError('evaluation broke')\n")
    assert isinstance(result.error_in_exec, ValueError)
    trained, evaluated = slack_env.messages(slack_env.channel_id)
    assert trained.text.startswith("Completed")
    assert evaluated.text.startswith("Failed") and "evaluation broke" in evaluated.replies[0].text


def test_nested_patches_ending_out_of_order_restore_the_original(tmp_path):
    outer, inner = ManagerPatch(lambda m: None), ManagerPatch(lambda m: None)
    outer.__enter__()
    inner.__enter__()
    manager, model, optimizer, loader = make_manager(tmp_path, epochs=1)
    train_loop(manager, model, optimizer, loader)
    outer.__exit__(None, None, None)
    assert is_patched()
    inner.__exit__(None, None, None)
    assert _BaseExtensionsManager.__dict__["start_extensions"] is ORIGINAL_START and not is_patched()
    assert outer.trainers == [manager] and inner.trainers == [manager]


def test_an_attach_that_raises_warns_once_and_training_goes_on(tmp_path):
    def broken(manager):
        raise RuntimeError("no luck")

    with pytest.warns(RuntimeWarning, match="no luck"), ManagerPatch(broken) as patch:
        manager, model, optimizer, loader = make_manager(tmp_path, epochs=1)
        train_loop(manager, model, optimizer, loader)
    assert manager.iteration == 10 and patch.iterations == 10
