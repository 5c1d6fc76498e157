"""What reporting costs a training run: PrintReport vs slacknb vs chainer-slack-report 0.3 vs ppe's Slack.

Usage: python bench/overhead.py [--iterations 2000] [--latency 0.3] [--repeat 3]

The same Chainer training (an MLP 784-256-2 on synthetic data, batch 64, CPU;
LogReport and the reporter triggered every iteration so the cost is visible)
runs with:
  (a) PrintReport writing to a null stream (the baseline);
  (b) slacknb's SlackReport, mirrored to the local Slack server answering after
      --latency seconds (with Slack's rate limits);
  (c) chainer-slack-report 0.3 from PyPI, its HTTP calls redirected to the same
      server. It hard-codes slack.com and checks the channel with the retired
      channels.info: this harness (never the package) rewrites its URLs and
      answers that one check itself.
The same sizes trained by PyTorch with pytorch-pfn-extras (a hand-written
``while not manager.stop_trigger`` loop, LogReport every iteration) run with:
  (d) ppe's PrintReport writing to a null stream (the ppe baseline);
  (e) slacknb.ppe.SlackReport, mirrored to the local server as (b);
  (f) ppe's own extensions.Slack, whose slack_sdk client this harness (never
      the package) points at the same server; it posts one thread reply per
      trigger, so it runs on its default trigger, every epoch (32 iterations).
A fresh server runs in its own process for every run, so it takes no CPU from
the training and no run inherits another's rate-limit window. For (b) the time
spent in finalize (waiting until the final state is in Slack) is also shown.
Each variant runs --repeat times, interleaved; the median wall time is used.

chainer-slack-report 0.3 is installed on first use into the running
interpreter: its sdist imports requests and chainer in setup.py, so requests
and wheel are installed first and it is built without isolation.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

from chainer.training import extensions  # noqa: E402

from support.training import ENTRIES, make_trainer  # noqa: E402


def ensure_chainer_slack_report():
    try:
        return importlib.import_module("chainer_slack_report.slack_report")
    except ImportError:
        pass
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + ["requests", "wheel"], check=True)
    subprocess.run(pip + ["--no-deps", "--no-build-isolation", "chainer-slack-report==0.3"], check=True)
    return importlib.import_module("chainer_slack_report.slack_report")


class _Answer:
    """The little of a requests.Response that chainer-slack-report reads."""

    def __init__(self, text):
        self.text = text


class RedirectedRequests:
    """Stands in for the ``requests`` module inside chainer-slack-report only."""

    def __init__(self, requests, base_url):
        self._requests = requests
        self._base_url = base_url
        self.calls = 0

    def _method(self, url):
        return url.rsplit("/", 1)[-1]

    def get(self, url, params=None):
        self.calls += 1
        if self._method(url) == "channels.info":  # retired by Slack; answered here
            return _Answer(json.dumps({"ok": True, "channel": {"id": params.get("channel")}}))
        return self._requests.get(self._base_url + self._method(url), params=params)

    def post(self, url, data=None):
        self.calls += 1
        return self._requests.post(self._base_url + self._method(url), data=data)


def start_server(latency):
    process = subprocess.Popen([sys.executable, "-m", "slacknb.testing", "--latency", str(latency)],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    settings = dict(part.split("=", 1) for part in line.split(": ", 1)[1].split())
    return process, settings


def run_training(iterations, attach):
    with tempfile.TemporaryDirectory() as out:
        # No log file: rewriting it every iteration would dwarf what is measured.
        trainer = make_trainer(out, stop=(iterations, "iteration"), samples=2048, batch=64,
                               features=784, hidden=256, log_trigger=(1, "iteration"), log_name=None)
        extension = attach(trainer)
        start, cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainer.run()
        return time.perf_counter() - start, time.process_time() - cpu, extension


def run_ppe_training(iterations, attach):
    import torch

    from support.ppe_training import make_manager, train_loop

    with tempfile.TemporaryDirectory() as out:
        manager, model, optimizer, loader = make_manager(
            out, stop=(iterations, "iteration"), samples=2048, batch=64, features=784, hidden=256,
            log_trigger=(1, "iteration"), log_name=None)
        extension = attach(manager)
        torch.set_num_threads(1)  # as Chainer's NumPy on this machine: the reporting cost stays visible
        start, cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            train_loop(manager, model, optimizer, loader)
        return time.perf_counter() - start, time.process_time() - cpu, extension


def ppe_variants():
    """(d) ppe PrintReport, (e) slacknb.ppe.SlackReport, (f) ppe's extensions.Slack, each ``attach(manager, env)``."""
    import slack_sdk
    from pytorch_pfn_extras.training import extensions as ppe_extensions

    from slacknb.ppe import SlackReport as PpeSlackReport

    class TimedReport(PpeSlackReport):
        """Times the calls in the loop and the end of the run (the final flush)."""

        loop_seconds = flush_seconds = 0.0

        def __call__(self, manager):
            start = time.perf_counter()
            super().__call__(manager)
            self.loop_seconds += time.perf_counter() - start

        def finalize(self, manager):
            start = time.perf_counter()
            super().finalize(manager)
            self.flush_seconds = time.perf_counter() - start

    class CountingClient(slack_sdk.WebClient):
        """ppe's client, pointed at the local server, counting calls and refusals."""

        calls = refused = 0

        def api_call(self, *args, **kwargs):
            CountingClient.calls += 1
            try:
                return super().api_call(*args, **kwargs)
            except slack_sdk.errors.SlackApiError:
                CountingClient.refused += 1
                raise

    def baseline(manager, env):
        manager.extend(ppe_extensions.PrintReport(ENTRIES, out=io.StringIO()), trigger=(1, "iteration"))

    def slacknb(manager, env):
        report = TimedReport(env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL_ID"], ENTRIES,
                             base_url=env["SLACKNB_API_URL"], out=io.StringIO())
        manager.extend(report, trigger=(1, "iteration"))
        return report

    def ppe_slack(manager, env):
        CountingClient.calls = CountingClient.refused = 0
        slack = ppe_extensions.Slack(env["SLACK_CHANNEL_ID"], msg="{default}: loss {main/loss:.4f}",
                                     token=env["SLACK_BOT_TOKEN"])
        slack._client = CountingClient(token=env["SLACK_BOT_TOKEN"], base_url=env["SLACKNB_API_URL"])
        manager.extend(slack)  # its default trigger: every epoch
        return CountingClient

    return (("d ppe PrintReport", baseline), ("e slacknb.ppe", slacknb), ("f ppe Slack", ppe_slack))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    csr = ensure_chainer_slack_report()
    import requests

    from slacknb import SlackReport

    def baseline(trainer, env):
        trainer.extend(extensions.PrintReport(ENTRIES, out=io.StringIO()), trigger=(1, "iteration"))

    def slacknb(trainer, env):
        report = SlackReport(env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL_ID"], ENTRIES,
                             base_url=env["SLACKNB_API_URL"], out=io.StringIO())
        finalize = report.finalize

        def timed_finalize():
            start = time.perf_counter()
            finalize()
            report.flush_seconds = time.perf_counter() - start

        report.finalize = timed_finalize
        report.loop_seconds = 0.0
        call = report.__call__

        class TimedReport:
            # Chainer calls the extension object; this times each call in the loop.
            def __getattr__(self, name):
                return getattr(report, name)

            def __call__(self, trainer):
                start = time.perf_counter()
                call(trainer)
                report.loop_seconds += time.perf_counter() - start

        trainer.extend(TimedReport(), name="SlackReport", trigger=(1, "iteration"),
                       priority=report.priority)
        return report

    def seed(trainer, env):
        csr.requests = RedirectedRequests(requests, env["SLACKNB_API_URL"])
        report = csr.SlackReport(env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL_ID"], ENTRIES)
        trainer.extend(report, trigger=(1, "iteration"))
        return report

    variants = (("a PrintReport", baseline), ("b slacknb", slacknb), ("c chainer-slack-report", seed))
    variants += tuple((name, (attach, run_ppe_training)) for name, attach in ppe_variants())
    variants = tuple((name, v if isinstance(v, tuple) else (v, run_training)) for name, v in variants)
    times = {name: [] for name, _ in variants}
    cpu_times = {name: [] for name, _ in variants}
    results = {"b flush": []}
    # Interleaved (a b c a b c ...): a slow spell of the machine hits all three alike.
    for _ in range(args.repeat):
        for name, (attach, train) in variants:
            process, env = start_server(args.latency)
            try:
                wall, cpu, extension = train(args.iterations, lambda t: attach(t, env))
            finally:
                process.terminate()
                process.wait()
            times[name].append(wall)
            cpu_times[name].append(cpu)
            if name.startswith("b"):
                results["b flush"].append(extension.flush_seconds)
                results.setdefault("b loop", []).append(extension.loop_seconds)
                results["b calls"] = extension.slack.api_calls
            if name.startswith("c"):
                results["c calls"] = csr.requests.calls
                results["c still mirroring"] = extension.available
            if name.startswith("e"):
                results.setdefault("e flush", []).append(extension.flush_seconds)
                results.setdefault("e loop", []).append(extension.loop_seconds)
                results["e calls"] = extension.slack.api_calls
            if name.startswith("f"):
                results["f calls"], results["f refused"] = extension.calls, extension.refused
    for name, _ in variants:
        results[name] = statistics.median(times[name])
        results[name + " cpu"] = statistics.median(cpu_times[name])
        print(f"{name:<24} wall median {results[name]:8.3f} s  runs {', '.join(f'{t:.3f}' for t in times[name])}"
              f"   CPU median {results[name + ' cpu']:8.3f} s", flush=True)

    a, b, c = results["a PrintReport"], results["b slacknb"], results["c chainer-slack-report"]
    print(f"iterations {args.iterations}, server latency {args.latency * 1000:.0f} ms, "
          f"median of {args.repeat}")
    flush = statistics.median(results["b flush"])
    print(f"b/a = {b / a:.3f}   (target < 1.05); of b, {flush:.3f} s is the final flush to Slack, "
          f"without it b/a = {(b - flush) / a:.3f}")
    loop = statistics.median(results["b loop"])
    print(f"time inside SlackReport calls during the loop: {loop:.3f} s "
          f"({loop / args.iterations * 1e6:.1f} us per iteration, {loop / a * 100:.2f} % of a)")
    print(f"CPU time of the training process: b/a = {results['b slacknb cpu'] / results['a PrintReport cpu']:.3f}, "
          f"c/b = {results['c chainer-slack-report cpu'] / results['b slacknb cpu']:.2f}")
    print(f"c/b = {c / b:.2f}")
    print(f"Slack API calls per run: slacknb {results['b calls']}, "
          f"chainer-slack-report {results['c calls']} "
          f"(still mirroring at the end: {results['c still mirroring']})")

    d, e, f = results["d ppe PrintReport"], results["e slacknb.ppe"], results["f ppe Slack"]
    flush, loop = statistics.median(results["e flush"]), statistics.median(results["e loop"])
    print(f"ppe: e/d = {e / d:.3f}; of e, {flush:.3f} s is the final flush, without it e/d = {(e - flush) / d:.3f}; "
          f"inside slacknb.ppe calls {loop:.3f} s ({loop / args.iterations * 1e6:.1f} us per iteration)")
    print(f"ppe: CPU time e/d = {results['e slacknb.ppe cpu'] / results['d ppe PrintReport cpu']:.3f}, "
          f"f/e = {results['f ppe Slack cpu'] / results['e slacknb.ppe cpu']:.2f}; wall f/e = {f / e:.2f}")
    print(f"ppe: Slack API calls per run: slacknb.ppe {results['e calls']}, ppe Slack {results['f calls']} "
          f"(refused: {results['f refused']})")


if __name__ == "__main__":
    main()
