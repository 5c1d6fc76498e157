"""A training script that runs until a signal ends it: ``python signal_script.py FRAMEWORK CASE OUT``.

FRAMEWORK is ``chainer`` or ``ppe`` (a hand-written loop); every iteration takes a
little while (``STEP`` s), for a long run, so the test decides when the signal comes
(once Slack shows Training). CASE is one of :data:`CASES`:

* ``plain``: no handler of the script's own;
* ``handler-exits``: the script's SIGTERM handler prints and raises ``SystemExit(3)``;
* ``handler-flag``: the script's SIGTERM handler sets a flag; the loop then stops by itself
  (ppe: ``request_stop``; Chainer: its stop trigger), saves, and exits 0;
* ``stall``: a run of 30 iterations whose 4th sleeps :data:`STALL` seconds (the report's
  ``stall_after`` comes from ``TEST_STALL_AFTER``), then completes.

The report takes its Slack settings from the environment, as a user's script does.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

CASES = ("plain", "handler-exits", "handler-flag", "stall")
STEP = 0.02
STALL = 5.0
STALL_AT = 4
STALL_STEP = 0.1  # the stall case's other iterations: training goes on for a while after it


def slow_iteration(count):
    """Where the training thread waits; a stall reply names this function and its line."""
    if count == STALL_AT and CASE == "stall":
        time.sleep(STALL)  # the stall
    else:
        time.sleep(STEP if CASE != "stall" else STALL_STEP)


CASE = None
stop_requested = []


def own_handler(signum, frame):
    print(f"script handler ran: {signal.Signals(signum).name}", flush=True)
    if CASE == "handler-exits":
        raise SystemExit(3)
    stop_requested.append(signum)


def options():
    """The report's options; ``stall_after`` and ``delivery_timeout`` from the test's environment."""
    chosen = {name: float(os.environ[variable]) for name, variable in (
        ("stall_after", "TEST_STALL_AFTER"), ("delivery_timeout", "TEST_DELIVERY_TIMEOUT")) if variable in os.environ}
    return {"min_interval": 0, "finish_mentions": "@alice", "plot": [], **chosen}


def train_chainer(out, epochs):
    import chainer
    from support.training import ENTRIES, make_trainer

    from slacknb import SlackReport

    trainer = make_trainer(out, epochs=epochs, log_trigger=(1, "iteration"))
    report = SlackReport(None, None, ENTRIES, **options())
    trainer.extend(report, trigger=(1, "iteration"))

    @chainer.training.make_extension(trigger=(1, "iteration"))
    def slow(tr):
        slow_iteration(tr.updater.iteration)

    trainer.extend(slow)
    if CASE == "handler-flag":
        original = trainer.stop_trigger
        trainer.stop_trigger = lambda tr: bool(stop_requested) or original(tr)
    trainer.run()
    return report


def train_ppe(out, epochs):
    from support.ppe_training import ENTRIES, make_manager

    from slacknb.ppe import SlackReport, request_stop

    manager, model, optimizer, loader = make_manager(out, epochs=epochs, log_trigger=(1, "iteration"))
    report = SlackReport(None, None, ENTRIES, **options())
    manager.extend(report, trigger=(1, "iteration"))
    while not manager.stop_trigger:
        for x, t in loader:
            with manager.run_iteration():
                optimizer.zero_grad()
                model(x, t)["loss"].backward()
                optimizer.step()
            slow_iteration(manager.iteration)
            if stop_requested:
                request_stop(manager)
            if manager.stop_trigger:
                break
    return report


def main(framework, case, out):
    global CASE
    CASE = case
    if case.startswith("handler"):
        signal.signal(signal.SIGTERM, own_handler)
    epochs = 3 if case == "stall" else 10_000
    report = (train_chainer if framework == "chainer" else train_ppe)(out, epochs)
    print(f"ended: {report.state.status}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
