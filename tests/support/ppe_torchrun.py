"""One rank of a torchrun job: ``torchrun --nproc_per_node 2 ppe_torchrun.py CASE OUT``.

Data-parallel training (DistributedDataParallel over gloo, CPU) with a hand-written
ppe loop; every rank adds the report, as the docs say. CASE is ``complete``,
``rank1-fails`` (rank 1 raises in its 15th iteration, while rank 0 waits for it in
the gradient all-reduce until torchrun stops the job) or ``rank1-fails-rank0-loads``
(rank 1 raises in its 15th iteration while rank 0 is still loading its 15th batch,
so torchrun's SIGTERM finds rank 0 there).
"""

import os
import sys
import time

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

from support.ppe_training import ENTRIES, Boom, make_manager, train_loop

from slacknb.ppe import SlackReport


class SlowLoader:
    """``loader``, whose ``at``-th batch takes a long while to load (until a signal ends the process)."""

    def __init__(self, loader, at):
        self.loader, self.at, self.served = loader, at, 0

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            self.served += 1  # counted over every epoch
            if self.served == self.at:
                print("rank 0: loading a slow batch", flush=True)
                time.sleep(120)
            yield batch


def main(case, out):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    fails = case.startswith("rank1-fails") and rank == 1
    fail_at = (15, Boom(f"rank {rank} diverged")) if fails else None
    manager, model, optimizer, loader = make_manager(f"{out}/rank{rank}", epochs=3, fail_at=fail_at)
    if case == "rank1-fails-rank0-loads" and rank == 0:
        loader = SlowLoader(loader, 15)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    report = SlackReport(None, None, ENTRIES, template="{label} {status}\n{content}", min_interval=0)
    manager.extend(report, trigger=(1, "epoch"))
    try:
        train_loop(manager, ddp, optimizer, loader)
    finally:
        print(f"rank {rank}: {report.state.status} label={report.label}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
