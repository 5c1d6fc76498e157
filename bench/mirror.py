"""What SlackMirror costs its caller while Slack is slow.

Usage: python bench/mirror.py [--states 1000] [--latency 0.3] [--min-interval 5.0]

Against the local Slack server answering every call after --latency seconds (with
Slack's rate limits on), it renders --states distinct states through ``update`` as
fast as it can, then calls ``finish`` (failed, with one mention, so the final edit,
the failure alert and the finish reply all go out). It prints:
- how long ``update`` kept the caller (median, p99, max, in microseconds; the first
  call, which starts the worker thread, is shown apart);
- the API calls the mirror made for all of it (coalescing at work);
- the time from ``finish()`` being called to the final text being on the server,
  and to ``finish()`` returning (everything delivered).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from slacknb.slack.mirror import SlackMirror
from slacknb.testing import SlackServer, Workspace


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(states: int, latency: float, min_interval: float) -> dict:
    with SlackServer(Workspace.default()) as server:
        server.latency = latency
        mirror = SlackMirror(
            server.token, server.channel_id, base_url=server.url, mentions="U0ALICE", min_interval=min_interval
        )
        blocked = []
        for i in range(states):
            text = f"epoch {i // 10}  iteration {i}  loss {1.0 / (i + 1):.6f}"
            started = time.perf_counter()
            mirror.update(text)
            blocked.append(time.perf_counter() - started)

        final = f"final report after {states} states"
        landed: dict[str, float] = {}

        def watch() -> None:
            if server.wait_for(lambda s: any(m.text == final for m in s.messages()), timeout=60):
                landed["at"] = time.perf_counter()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        finish_started = time.perf_counter()
        delivered = mirror.finish(final, outcome="failed", elapsed="0:10:00", error="RuntimeError: benchmark")
        finish_took = time.perf_counter() - finish_started
        watcher.join(60)
        counts = server.call_counts()
        return {
            "blocked": blocked,
            "api_calls": mirror.state.api_calls,
            "counts": dict(counts),
            "final_after": landed.get("at", float("nan")) - finish_started,
            "finish_took": finish_took,
            "delivered": delivered,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--min-interval", type=float, default=5.0)
    args = parser.parse_args(argv)

    result = run(args.states, args.latency, args.min_interval)
    micro = [b * 1e6 for b in result["blocked"]]
    print(f"{args.states} updates, server latency {args.latency * 1000:.0f} ms, min_interval {args.min_interval:g} s")
    rest = micro[1:]  # the first update also starts the worker thread
    print(
        f"caller blocked per update: median {statistics.median(rest):.1f} us, "
        f"p99 {percentile(rest, 0.99):.1f} us, max {max(rest):.1f} us; "
        f"first update (starts the worker) {micro[0]:.0f} us"
    )
    calls = ", ".join(f"{method} {n}" for method, n in sorted(result["counts"].items()))
    print(f"API calls made: {result['api_calls']} ({calls})")
    print(f"finish() -> final text on the server: {result['final_after'] * 1000:.0f} ms")
    print(f"finish() -> returned (final edit, alert, mention reply): {result['finish_took'] * 1000:.0f} ms, "
          f"delivered={result['delivered']}")


if __name__ == "__main__":
    main()
