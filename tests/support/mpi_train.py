"""A ChainerMN data-parallel training on the CPU, for tests/test_chainermn.py.

Usage: mpiexec -n 2 python tests/support/mpi_train.py OUT_DIR RESULT_DIR [--fail-rank R] [--no-comm] [--endless]

Every rank trains an MLP on its shard of one synthetic data set (scatter_dataset), with
gradients averaged by a multi-node optimizer over the 'naive' communicator, and adds
SlackReport (with comm=comm, or, with --no-comm, left to the launcher's rank variables).
With --fail-rank R, rank R raises at epoch 2; ChainerMN's exception hook then aborts the
job, as it should in real use (otherwise the other ranks wait in allreduce forever).
With --endless, the training runs (a little slowly) until a signal ends it.
Each rank writes RESULT_DIR/rank<N>.json with what its report says (unless a signal ended it).
Slack settings come from the environment (SLACK_BOT_TOKEN, SLACK_CHANNEL_ID, SLACKNB_API_URL).
"""

import argparse
import io
import json
import os
import sys
import time

import chainer
import chainer.functions as F
import chainer.links as L
import chainermn
import chainermn.global_except_hook
import numpy as np
from chainer import training
from chainer.training import extensions

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from support.training import ENTRIES, Boom, raise_at_epoch  # noqa: E402

from slacknb import SlackReport  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("results")
    parser.add_argument("--fail-rank", type=int, default=None)
    parser.add_argument("--no-comm", action="store_true")
    parser.add_argument("--endless", action="store_true")
    args = parser.parse_args()

    chainermn.global_except_hook.add_hook()
    comm = chainermn.create_communicator("naive")
    dataset = None
    if comm.rank == 0:
        rng = np.random.RandomState(0)
        x = rng.randn(400, 4).astype(np.float32)
        dataset = chainer.datasets.TupleDataset(x, (x.sum(axis=1) > 0).astype(np.int32))
    dataset = chainermn.scatter_dataset(dataset, comm, shuffle=True, seed=0)
    model = L.Classifier(chainer.Sequential(L.Linear(4, 16), F.relu, L.Linear(16, 2)))
    optimizer = chainermn.create_multi_node_optimizer(chainer.optimizers.Adam(), comm)
    optimizer.setup(model)
    iterator = chainer.iterators.SerialIterator(dataset, 20, shuffle=False)
    updater = training.updaters.StandardUpdater(iterator, optimizer)
    stop = (1_000_000, "iteration") if args.endless else (3, "epoch")
    trainer = training.Trainer(updater, stop, out=os.path.join(args.out, f"rank{comm.rank}"))
    if args.endless:
        trainer.extend(training.make_extension(trigger=(1, "iteration"))(lambda tr: time.sleep(0.02)))
    trainer.extend(extensions.LogReport())
    report = SlackReport(None, None, ENTRIES, template="{label} {status}\n{content}", finish_mentions="U0ALICE",
                         out=io.StringIO(), comm=None if args.no_comm else comm)
    trainer.extend(report, trigger=(1, "epoch"))
    if comm.rank == args.fail_rank:
        raise_at_epoch(trainer, 2, Boom(f"loss diverged on rank {comm.rank}"))
    try:
        trainer.run()
    finally:
        result = {"rank": comm.rank, "size": comm.size, "label": report.label, "text": report.text,
                  "status": report.state.status, "api_calls": report.slack.api_calls, "host": report.rank.host,
                  "source": report.rank.source}
        with open(os.path.join(args.results, f"rank{comm.rank}.json"), "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
