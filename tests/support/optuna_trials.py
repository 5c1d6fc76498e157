"""One process of an Optuna study on a journal file, each trial a small Chainer training with its
SlackReport(trial=trial), the study on a SlackBoard. Slack comes from the environment
(SLACK_BOT_TOKEN, SLACK_CHANNEL_ID, SLACKNB_API_URL), as a user sets it.

Usage: python optuna_trials.py JOURNAL STUDY TRIALS [--start-at UNIX] [--epochs N] [--prune N ...]
       [--fail N ...] [--seconds-per-epoch S] [--board-interval S] [--report-interval S] [--out JSON]

``--prune``/``--fail`` name trial numbers that end pruned (TrialPruned after training) or failed
(caught by optimize's catch); ``--out`` gets each trial's end (wall clock) and its report's status.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import threading
import time

import chainer
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from slacknb import SlackReport  # noqa: E402
from slacknb.optuna import SlackBoard  # noqa: E402
from support.training import Boom, make_trainer  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("journal")
parser.add_argument("study")
parser.add_argument("trials", type=int)
parser.add_argument("--start-at", type=float, default=0.0)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--prune", type=int, nargs="*", default=[])
parser.add_argument("--fail", type=int, nargs="*", default=[])
parser.add_argument("--seconds-per-epoch", type=float, default=0.0)
parser.add_argument("--board-interval", type=float, default=None)
parser.add_argument("--report-interval", type=float, default=None)
parser.add_argument("--out", default=None)
args = parser.parse_args()

optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name=args.study, storage=JournalStorage(JournalFileBackend(args.journal)),
                            load_if_exists=True)
board = SlackBoard(study, finish_mentions="@alice", min_interval=args.board_interval)
ended, reports = {}, {}


@chainer.training.make_extension(trigger=(1, "epoch"))
def slow(trainer):
    threading.Event().wait(args.seconds_per_epoch)


def objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    trainer = make_trainer(tempfile.mkdtemp(), epochs=args.epochs, seed=trial.number)
    report = SlackReport(None, None, ["epoch", "main/loss", "elapsed_time"], trial=trial, out=io.StringIO(),
                         min_interval=args.report_interval)
    reports[trial.number] = report
    trainer.extend(report, trigger=(1, "epoch"))
    trainer.extend(slow)
    trainer.run()
    if trial.number in args.fail:
        raise Boom(f"trial {trial.number} broke")
    if trial.number in args.prune:
        raise optuna.TrialPruned()
    return float(report.state.log[-1]["main/loss"]) * lr / lr


def note_end(study, trial):
    ended[trial.number] = time.time()


threading.Event().wait(max(0.0, args.start_at - time.time()))
study.optimize(objective, n_trials=args.trials, callbacks=[board, note_end], catch=(Boom,))
assert board.wait_idle(120), "the board did not show this process's trials"
if args.out:
    with open(args.out, "w") as f:
        json.dump({"ended": ended, "status": {n: str(r.state.status) for n, r in reports.items()}}, f)
