"""What the stall watch costs a training run: the same training with the watch off and on.

Usage: python bench/stall_watch.py [--iterations 3000] [--repeat 5] [--framework ppe|chainer]

The training (a small MLP on synthetic data, CPU; a LogReport and slacknb's report,
local only, every epoch) runs with:
  (a) stall_after=0: no watch (the baseline);
  (b) stall_after=None: automatic, the watch thread samples the iteration count once a second;
  (c) stall_after=1: the watch samples every 0.25 s (its fastest pace for a short threshold).
The watch reads one attribute of the trainer from its own thread: the training thread does
nothing more per iteration. Each variant runs --repeat times, interleaved (each round in
another order); compared with the baseline's: the median CPU time of the training thread
(what the watch could add to each iteration; it does not count other processes' load, which
makes wall time noisy on a shared machine), of the whole process (the watch thread included)
and the wall time; and one sample's own cost. torch uses one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

VARIANTS = (("watch off (baseline)", 0), ("automatic", None), ("stall_after=1", 1.0))


def train_ppe(out: str, iterations: int, stall_after) -> tuple[float, float, float, int]:
    import torch
    from support.ppe_training import make_manager, train_loop

    from slacknb.ppe import SlackReport

    torch.set_num_threads(1)
    samples = 20 * 10
    epochs = max(1, iterations // 10)
    manager, model, optimizer, loader = make_manager(out, epochs=epochs, samples=samples, log_name=None)
    report = SlackReport(None, None, None, local=True, views=[], stall_after=stall_after)
    manager.extend(report, trigger=(1, "epoch"))
    began, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    train_loop(manager, model, optimizer, loader)
    return time.perf_counter() - began, time.process_time() - cpu, time.thread_time() - own, manager.iteration


def train_chainer(out: str, iterations: int, stall_after) -> tuple[float, float, float, int]:
    from support.training import make_trainer

    from slacknb import SlackReport

    trainer = make_trainer(out, stop=(iterations, "iteration"), log_name=None)
    trainer.extend(SlackReport(None, None, None, local=True, views=[], stall_after=stall_after),
                   trigger=(1, "epoch"))
    began, cpu, own = time.perf_counter(), time.process_time(), time.thread_time()
    trainer.run()
    return time.perf_counter() - began, time.process_time() - cpu, time.thread_time() - own, trainer.updater.iteration


def poll_cost(samples: int = 20000) -> float:
    """Seconds one sample of the watch takes (its whole work between two sleeps), on a local run."""
    from slacknb.frameworks.stalls import StallWatch
    from slacknb.options import check
    from slacknb.run import ReportRun

    run = ReportRun.from_options(check(local=True), views=[], label="bench")
    count = [0]

    def iteration():
        count[0] += 1  # a new iteration at every sample: the state is updated each time
        return count[0]

    watch = StallWatch(run, iteration, stall_after=None).start(background=False)
    began = time.perf_counter()
    for _ in range(samples):
        watch.poll()
    return (time.perf_counter() - began) / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--framework", choices=("ppe", "chainer"), default="ppe")
    args = parser.parse_args()
    train = train_ppe if args.framework == "ppe" else train_chainer
    walls: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    cpus: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    owns: dict[str, list[float]] = {name: [] for name, _ in VARIANTS}
    done = 0
    with tempfile.TemporaryDirectory() as out:
        train(out, 50, 0)  # warm-up: imports, first allocations
        for round_ in range(args.repeat):
            # Each round in another order: whichever runs first in a round pays for it.
            for name, stall_after in VARIANTS[round_ % 3:] + VARIANTS[:round_ % 3]:
                wall, cpu, own, done = train(out, args.iterations, stall_after)
                walls[name].append(wall)
                cpus[name].append(cpu)
                owns[name].append(own)
    base_cpu, base_wall, base_own = (statistics.median(d[VARIANTS[0][0]]) for d in (cpus, walls, owns))
    print(f"{args.framework}: {done} iterations, median of {args.repeat} interleaved runs")
    for name, _ in VARIANTS:
        cpu, wall, own = (statistics.median(d[name]) for d in (cpus, walls, owns))
        per_iteration = (own - base_own) / done * 1e6
        print(f"  {name:22s} training thread CPU {own:6.3f} s ratio {own / base_own:5.3f} ({per_iteration:+6.2f} "
              f"us/iteration); process CPU ratio {cpu / base_cpu:5.3f}; wall ratio {wall / base_wall:5.3f}")
    cost = poll_cost()
    print(f"one sample of the watch: {cost * 1e6:.1f} us; at 1 per second (automatic) {cost * 100:.4f} % of one core, "
          f"at 4 per second (stall_after=1) {cost * 400:.4f} %")


if __name__ == "__main__":
    main()
