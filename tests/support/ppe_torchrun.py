"""One rank of a torchrun job: ``torchrun --nproc_per_node 2 ppe_torchrun.py CASE OUT``.

Data-parallel training (DistributedDataParallel over gloo, CPU) with a hand-written
ppe loop; every rank adds the report, as the docs say. CASE is ``complete`` or
``rank1-fails`` (rank 1 raises in its 15th iteration, while rank 0 waits for it in
the gradient all-reduce until torchrun stops the job).
"""

import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

from support.ppe_training import ENTRIES, Boom, make_manager, train_loop

from slacknb.ppe import SlackReport


def main(case, out):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    fail_at = (15, Boom(f"rank {rank} diverged")) if case == "rank1-fails" and rank == 1 else None
    manager, model, optimizer, loader = make_manager(f"{out}/rank{rank}", epochs=3, fail_at=fail_at)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    report = SlackReport(None, None, ENTRIES, template="{label} {status}\n{content}", min_interval=0)
    manager.extend(report, trigger=(1, "epoch"))
    try:
        train_loop(manager, ddp, optimizer, loader)
    finally:
        print(f"rank {rank}: {report.state.status} label={report.label}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
