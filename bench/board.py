"""An Optuna study's board with N trials running at once, in N processes, under Slack's rate limits.

Usage: python bench/board.py [--trials 1 8 32] [--epochs 10] [--seconds-per-epoch 1] [--per-process 1]

For each N, N processes (tests/support/optuna_trials.py: each a SlackBoard on one journal-file
storage, trials of a small Chainer training with SlackReport(trial=trial)) start at the same
moment against ONE channel of the local Slack server with Slack's rate limits on (chat.update
50 a minute for the app, chat.postMessage one a second per channel, bursts of 3). Each trial
trains --epochs epochs of --seconds-per-epoch seconds. Printed per N:
- boards: top-level messages (should be 1), and 429 answers;
- board edits per minute, while trials run;
- the longest gap between two versions of the board while trials run (goal: 2 s at most);
- per-trial report edits per minute (median over the trials);
- from a trial's end (its datetime_complete in the storage) to the board showing its final
  state: median and max (goal: 10 s at most).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from slacknb.testing import SlackServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "support", "optuna_trials.py")
FINAL = ("Complete", "Pruned", "Fail")


def board_rows(text: str) -> dict[int, str]:
    """trial number -> state word, from the board's table."""
    if text.count("```") < 2:
        return {}
    rows = {}
    for line in text.split("```")[1].strip("\n").splitlines()[1:]:
        cells = line.split()
        if len(cells) >= 2 and cells[0].isdigit():
            rows[int(cells[0])] = cells[1]
    return rows


def run(n: int, *, epochs: int, seconds: float, per_process: int) -> dict:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    workdir = tempfile.mkdtemp()
    journal = os.path.join(workdir, "journal.log")
    versions: list[tuple[float, str]] = []  # (wall time, board text) each time the board changed
    reports: dict[str, tuple[float, float, int]] = {}  # reply ts -> (first seen, last seen, versions)
    with SlackServer() as server:
        done = threading.Event()

        def watch() -> None:
            calls = 0
            while not done.is_set():
                if not server.wait_for(lambda s: len(s.calls) > calls, timeout=0.5):
                    continue
                now = time.time()
                calls = len(server.calls)
                boards = server.messages(server.channel_id)
                if not boards:
                    continue
                board = boards[0]
                if not versions or versions[-1][1] != board.text:
                    versions.append((now, board.text))
                for reply in board.replies:
                    if "main/loss" in reply.text:
                        first = reports.get(reply.ts, (now, now, 0))[0]
                        reports[reply.ts] = (first, now, len(reply.history))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        env = {**os.environ, "SLACKNB_API_URL": server.url, "SLACK_BOT_TOKEN": server.token,
               "SLACK_CHANNEL_ID": server.channel_id}
        start_at = time.time() + 8 + 1.5 * n  # every process has imported Chainer and Optuna by then
        processes = [subprocess.Popen([sys.executable, SCRIPT, journal, "bench", str(per_process),
                                       "--start-at", repr(start_at), "--epochs", str(epochs),
                                       "--seconds-per-epoch", str(seconds)], env=env, cwd=ROOT,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for _ in range(n)]
        failed = sum(process.wait() != 0 for process in processes)
        time.sleep(3)  # the last replies' delivery, for the counts below
        done.set()
        watcher.join(5)
        boards = len(server.messages(server.channel_id))
        ratelimited = server.ratelimited
    study = optuna.load_study(study_name="bench", storage=JournalStorage(JournalFileBackend(journal)))
    trials = study.get_trials(deepcopy=False)
    first_start = min(t.datetime_start.timestamp() for t in trials)
    last_end = max(t.datetime_complete.timestamp() for t in trials)
    running = [at for at, _ in versions if first_start <= at <= last_end]
    gaps = [b - a for a, b in zip([first_start] + running, running + [last_end])]
    delays = []
    for trial in trials:
        ended = trial.datetime_complete.timestamp()
        shown = next((at for at, text in versions if board_rows(text).get(trial.number) in FINAL), None)
        delays.append(float("inf") if shown is None else max(0.0, shown - ended))
    per_trial = [max(0, count - 1) / max(1e-9, (last - first) / 60) for first, last, count in reports.values()]
    return {
        "boards": boards, "429s": ratelimited, "failed": failed, "trials": len(trials),
        "board_per_minute": len(running) / max(1e-9, (last_end - first_start) / 60),
        "max_gap": max(gaps), "report_per_minute": statistics.median(per_trial) if per_trial else float("nan"),
        "delay_median": statistics.median(delays), "delay_max": max(delays),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seconds-per-epoch", type=float, default=1.0)
    parser.add_argument("--per-process", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"N processes, {args.per_process} trial(s) each of {args.epochs} epochs x {args.seconds_per_epoch:g} s; "
          "one channel, Slack's rate limits on")
    print(f"{'N':>3} {'boards':>6} {'429s':>5} {'board edits/min':>15} {'longest gap':>11} "
          f"{'report edits/min':>16} {'end to board: median / max':>27} {'failed':>6}")
    for n in args.trials:
        r = run(n, epochs=args.epochs, seconds=args.seconds_per_epoch, per_process=args.per_process)
        print(f"{n:>3} {r['boards']:>6} {r['429s']:>5} {r['board_per_minute']:>15.1f} {r['max_gap']:>9.1f} s "
              f"{r['report_per_minute']:>16.1f} {r['delay_median']:>14.1f} s / {r['delay_max']:>6.1f} s "
              f"{r['failed']:>6}", flush=True)


if __name__ == "__main__":
    main()
