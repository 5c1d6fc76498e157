"""slacknb.optuna.SlackBoard: real Optuna studies, real Chainer trials, the local Slack server."""

from __future__ import annotations

import inspect
import io
import json
import os
import subprocess
import sys
import time

import optuna
import pytest

from slacknb import SlackReport
from slacknb.core.board import board_header
from slacknb.frameworks.study_read import read_study
from slacknb.optuna import SlackBoard
from slacknb.slack.mirror import SlackMirror

from support.reports import table_lines
from support.training import Boom, make_trainer, raise_at_epoch

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
optuna.logging.set_verbosity(optuna.logging.WARNING)

_MISSING = [name for name in ("parent", "adopt", "priority") if name not in inspect.signature(SlackMirror).parameters]
if not hasattr(SlackMirror, "reply"):
    _MISSING.append("reply")
needs_board_api = pytest.mark.skipif(
    bool(_MISSING), reason="needs SlackMirror(parent=(channel, ts)), SlackMirror(adopt=(channel, ts)), "
                           "SlackMirror(priority=1) and SlackMirror.reply(key, text); missing: " + ", ".join(_MISSING))


def trial_report(trial, server=None, **kwargs):
    kwargs.setdefault("out", io.StringIO())
    if server is None:
        return SlackReport(None, None, ["epoch", "main/loss"], trial=trial, local=True, **kwargs)
    kwargs.setdefault("min_interval", 0)
    return SlackReport(server.token, server.channel_id, ["epoch", "main/loss"], trial=trial, base_url=server.url,
                       **kwargs)


def objective_with(tmp_path, reports, server=None, *, prune_in_training=(), prune_after=(), fail_in_training=()):
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trainer = make_trainer(tmp_path / f"trial{trial.number}", epochs=2, seed=trial.number)
        report = reports[trial.number] = trial_report(trial, server)
        trainer.extend(report, trigger=(1, "epoch"))
        if trial.number in prune_in_training:  # as optuna's pruning extensions do, inside trainer.run
            raise_at_epoch(trainer, 1, optuna.TrialPruned())
        if trial.number in fail_in_training:
            raise_at_epoch(trainer, 1, Boom(f"trial {trial.number} broke"))
        trainer.run()
        if trial.number in prune_after:
            raise optuna.TrialPruned()
        return float(report.state.log[-1]["main/loss"]) + lr

    return objective


# -- without Slack: the board in this process, the trials' statuses -------------------------------

def test_bad_arguments_are_refused_at_construction():
    study = optuna.create_study()
    with pytest.raises(TypeError, match="optuna.Study"):
        SlackBoard("lr-search")
    with pytest.raises(TypeError, match="a board takes: access_token"):
        SlackBoard(study, local=True, entries=["epoch"])
    with pytest.raises(ValueError, match="max_bytes"):
        SlackBoard(study, local=True, max_bytes=10)
    frozen = study.ask()
    study.tell(frozen, 1.0)
    with pytest.raises(TypeError, match="the optuna.Trial your objective receives"):
        SlackReport(None, None, local=True, trial=study.trials[0])


def test_a_local_board_shows_every_trial_and_each_report_ends_as_its_trial(tmp_path):
    study = optuna.create_study(study_name="lr-search")
    board = SlackBoard(study, local=True)
    reports = {}
    objective = objective_with(tmp_path, reports, prune_in_training=(1,), prune_after=(2,), fail_in_training=(3,))
    study.optimize(objective, n_trials=5, catch=(Boom,))  # no callbacks: the board adds itself
    assert board.wait_idle(10)
    statuses = {number: str(report.state.status) for number, report in reports.items()}
    assert statuses == {0: "Completed", 1: "Pruned", 2: "Pruned", 3: "Failed", 4: "Completed"}
    state, _ = read_study(study, now=time.time())
    assert board_header(state).startswith(f"lr-search \u00b7 minimize \u00b7 2 complete, 2 pruned, 1 failed \u00b7 "
                                          f"best {study.best_value:g} (trial {study.best_trial.number}: lr=")
    rows = [line.split() for line in table_lines(board.text)[1:]]
    assert [row[:2] for row in rows] == [["0", "Complete"], ["1", "Pruned"], ["2", "Pruned"], ["3", "Fail"],
                                        ["4", "Complete"]]
    assert rows[1][3] == "1"  # pruned at epoch 1: the report's row, on the board
    assert reports[0].label == "lr-search trial 0"
    assert type(study).optimize is optuna.Study.optimize  # only this study object is wrapped


# -- on the local Slack server -----------------------------------------------------------------

def board_of(server):
    [message] = server.messages(server.channel_id)
    return message


@needs_board_api
def test_one_process_several_trials_make_one_board_with_each_trials_report_in_its_thread(server, tmp_path):
    study = optuna.create_study(study_name="lr-search")
    board = SlackBoard(study, server.token, server.channel_id, base_url=server.url, finish_mentions="@alice",
                       min_interval=0)
    reports = {}
    study.optimize(objective_with(tmp_path, reports, server), n_trials=4, callbacks=[board])
    assert board.wait_idle(60)
    best = study.best_trial
    assert server.wait_for(lambda s: any("<@U0ALICE>" in r.text for m in s.messages() for r in m.replies)
                           and [r.text.split()[0] for m in s.messages() for r in m.replies
                                if "main/loss" in r.text] == ["Completed"] * 4, timeout=60)
    message = board_of(server)
    assert message.text.splitlines()[0].startswith(f"lr-search \u00b7 minimize \u00b7 4 complete \u00b7 "
                                                   f"best {best.value:g} (trial {best.number}: lr=")
    assert [line.split()[:2] for line in table_lines(message.text)[1:]] == [[str(n), "Complete"] for n in range(4)]
    trials = [reply for reply in message.replies if "main/loss" in reply.text]
    assert len(trials) == 4 and all(reply.text.startswith("Completed") for reply in trials)
    # Edited in place (a trial whose post had to wait for the channel's limit posts its final text).
    assert trials[0].history[0].startswith(("Started", "Training")) and len(trials[0].history) >= 2
    [ended] = [reply for reply in message.replies if "optimize ended" in reply.text]
    assert f"(trial {best.number}: lr=" in ended.text and "4 complete" in ended.text
    # The one reply that mentions (a new message: it notifies), with the best trial so far.
    [end] = [reply for reply in message.replies if "<@U0ALICE>" in reply.text]
    assert end.text.startswith("<@U0ALICE> :white_check_mark: *Completed*")
    assert f"lr-search: best {best.value:g} (trial {best.number}: lr=" in end.text and len(end.history) == 1
    assert all(report._run.mirror.wait_delivered(30) for report in reports.values())
    assert {reports[n].slack.ts for n in range(4)} == {r.ts for r in trials}


@needs_board_api
@pytest.mark.timeout(300)
def test_two_processes_at_once_on_one_journal_file_keep_one_board_with_every_trial(slack_env, tmp_path):
    journal = str(tmp_path / "journal.log")
    start_at = time.time() + 10  # both processes have imported Chainer and Optuna by then
    script = os.path.join(TESTS, "support", "optuna_trials.py")
    outs = [str(tmp_path / f"process{i}.json") for i in range(2)]
    processes = [subprocess.Popen([sys.executable, script, journal, "shared", "3", "--start-at", repr(start_at),
                                   "--epochs", "2", "--out", out], cwd=ROOT) for out in outs]
    for process in processes:
        assert process.wait(timeout=240) == 0
    server = slack_env
    assert server.wait_for(lambda s: sum("optimize ended" in r.text for m in s.messages() for r in m.replies) == 2,
                           timeout=60)
    message = board_of(server)  # ONE board, whichever process posted it
    assert message.text.splitlines()[0].startswith("shared \u00b7 minimize \u00b7 6 complete \u00b7 best ")
    assert [line.split()[1] for line in table_lines(message.text)[1:]] == ["Complete"] * 6
    assert sum("main/loss" in reply.text for reply in message.replies) == 6
    statuses = [json.load(open(out))["status"] for out in outs]
    assert sorted(s for status in statuses for s in status.values()) == ["Completed"] * 6


@needs_board_api
def test_a_pruned_trial_reads_pruned_in_its_report_and_on_the_board(server, tmp_path):
    study = optuna.create_study(study_name="prune")
    board = SlackBoard(study, server.token, server.channel_id, base_url=server.url, min_interval=0)
    reports = {}
    study.optimize(objective_with(tmp_path, reports, server, prune_in_training=(1,), prune_after=(2,)),
                   n_trials=3, callbacks=[board])
    assert board.wait_idle(60)
    assert server.wait_for(lambda s: sum(r.text.startswith("Pruned") for m in s.messages() for r in m.replies) == 2,
                           timeout=60)
    message = board_of(server)
    assert "1 complete, 2 pruned" in message.text.splitlines()[0]
    assert [line.split()[1] for line in table_lines(message.text)[1:]] == ["Complete", "Pruned", "Pruned"]
    assert [str(reports[n].state.status) for n in range(3)] == ["Completed", "Pruned", "Pruned"]
    assert not any(":x:" in reply.text for reply in message.replies)  # a pruned trial is no failure


@needs_board_api
def test_a_failing_trial_gets_the_failure_alert_in_its_own_report(server, tmp_path):
    study = optuna.create_study(study_name="fail")
    board = SlackBoard(study, server.token, server.channel_id, base_url=server.url, min_interval=0,
                       finish_mentions="@alice")
    reports = {}
    study.optimize(objective_with(tmp_path, reports, server, fail_in_training=(1,)), n_trials=2,
                   callbacks=[board], catch=(Boom,))
    assert board.wait_idle(60)
    assert server.wait_for(lambda s: any("Boom" in r.text and r.text.startswith(":x:")
                                         for m in s.messages() for r in m.replies), timeout=60)
    message = board_of(server)
    [alert] = [reply for reply in message.replies if "Boom" in reply.text and reply.text.startswith(":x:")]
    assert "fail trial 1" in alert.text and "trial 1 broke" in alert.text
    [report] = [reply for reply in message.replies if reply.ts == reports[1].slack.ts]
    assert report.text.startswith("Failed")
    assert [line.split()[1] for line in table_lines(message.text)[1:]] == ["Complete", "Fail"]
    with pytest.raises(Boom):  # uncaught: optimize raises, and its end reply says so
        study.optimize(objective_with(tmp_path, reports, server, fail_in_training=(2,)), n_trials=1)
    assert board.wait_idle(60) and reports[2]._run.mirror.wait_delivered(30)
    assert server.wait_for(lambda s: any("optimize failed" in r.text for m in s.messages() for r in m.replies),
                           timeout=60)


def test_a_ppe_trials_report_reads_pruned_when_the_loop_prunes_it(tmp_path):
    pytest.importorskip("pytorch_pfn_extras")
    from slacknb.ppe import SlackReport as PpeReport
    from support.ppe_training import make_manager, train_loop

    study = optuna.create_study(study_name="ppe-search")
    board = SlackBoard(study, local=True)
    reports = {}

    def objective(trial):
        pruned_at = 15 if trial.number == 1 else None  # in the hand-written loop, as should_prune() would
        manager, model, optimizer, loader = make_manager(tmp_path / f"trial{trial.number}", epochs=2,
                                                         fail_at=(pruned_at, optuna.TrialPruned()) if pruned_at else None)
        report = reports[trial.number] = PpeReport(None, None, ["epoch", "main/loss"], trial=trial, local=True,
                                                   out=io.StringIO())
        manager.extend(report, trigger=(1, "epoch"))
        train_loop(manager, model, optimizer, loader)
        return report.state.log[-1]["main/loss"] + trial.suggest_float("wd", 0, 1e-3)

    study.optimize(objective, n_trials=2, callbacks=[board])
    assert [str(reports[n].state.status) for n in range(2)] == ["Completed", "Pruned"]
    assert [line.split()[:2] for line in table_lines(board.text)[1:]] == [["0", "Complete"], ["1", "Pruned"]]
    assert reports[1].state.log and reports[1].label == "ppe-search trial 1"
