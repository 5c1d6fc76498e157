"""A ppe training script that ends one way: ``python ppe_script.py WAY CASE OUT``.

WAY is ``trainer`` or ``loop``; CASE one of :data:`CASES`. The report takes its
Slack settings from the environment, as a user's script does.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

from support.ppe_training import Boom, FailingLoader, make_manager, make_trainer, train_loop

from slacknb.ppe import SlackReport

CASES = ("interrupt inside", "interrupt between", "error between", "interrupt caught")


def main(way, case, out):
    fail_at = (25, KeyboardInterrupt()) if case in ("interrupt inside", "interrupt caught") else None
    report = SlackReport(None, None, None, min_interval=0)
    if way == "trainer":
        trainer, loader = make_trainer(out, epochs=5, fail_at=fail_at)
        trainer.extend(report, trigger=(1, "epoch"))
        run = lambda data: trainer.run(data)  # noqa: E731
    else:
        manager, model, optimizer, loader = make_manager(out, epochs=5, fail_at=fail_at)
        manager.extend(report, trigger=(1, "epoch"))
        run = lambda data: train_loop(manager, model, optimizer, data)  # noqa: E731
    if case.endswith("between"):
        loader = FailingLoader(loader, 25, KeyboardInterrupt() if case.startswith("interrupt") else Boom("loader broke"))
    try:
        run(loader)
    except KeyboardInterrupt:
        if case != "interrupt caught":
            raise
        print("caught: the script goes on and exits normally")


if __name__ == "__main__":
    main(*sys.argv[1:4])
