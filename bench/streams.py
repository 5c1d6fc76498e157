"""Many report streams at once under Slack's shared rate limits.

Usage: python bench/streams.py [--streams 1 5 20 50] [--duration 20] [--tick 1] [--min-interval 5] [--seed 0]

For each N, N streams (a SlackMirror each, on its own thread, as N parallel runs of one
app would have) report to ONE channel of the local Slack server with Slack's rate limits
on: chat.update 50 a minute for the app, chat.postMessage one a second per channel with
bursts of 3. Every stream renders a new state each --tick seconds (so it edits at most
every --min-interval seconds) for a time drawn between --duration and twice that, then
finishes as Completed with one mention, so it sends the final edit and a finish reply.
Printed per N:
- API calls the streams made, and the 429 answers they got (and calls made before a
  Retry-After elapsed: should be 0);
- from each stream's finish() to its final text being in Slack: median and max, and the max
  over the streams whose final state was an edit (the others posted it as their first message);
- from finish() to everything (final edit and reply) being in Slack: median and max;
- whether every stream ended with its own final text and exactly one reply.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import warnings

from slacknb.slack.mirror import SlackMirror, SlackMirrorWarning
from slacknb.testing import SlackServer


def run(streams: int, *, duration: float, tick: float, min_interval: float, seed: int) -> dict:
    rng = random.Random(seed)
    lengths = [duration * (1 + rng.random()) for _ in range(streams)]
    finished_at: dict[int, float] = {}
    delivered_at: dict[int, float] = {}
    finals = {i: f"stream {i:02d} Completed\nfinal table of stream {i:02d}" for i in range(streams)}
    with SlackServer() as server:
        mirrors = [
            SlackMirror(server.token, server.channel_id, base_url=server.url, mentions="U0ALICE",
                        min_interval=min_interval, flush_timeout=300, delivery_timeout=300)
            for _ in range(streams)
        ]

        def stream(i: int) -> None:
            mirror, end = mirrors[i], time.monotonic() + lengths[i]
            step = 0
            stop = threading.Event()
            while time.monotonic() < end:
                mirror.update(f"stream {i:02d} Training\nstep {step}")
                step += 1
                stop.wait(min(tick, max(0.0, end - time.monotonic())))
            finished_at[i] = time.monotonic()
            mirror.finish(finals[i], outcome="completed", elapsed="0:00:30")
            delivered_at[i] = time.monotonic()

        landed: dict[int, float] = {}

        def watch() -> None:
            seen_calls = 0
            while len(landed) < streams:
                if not server.wait_for(lambda s: len(s.calls) > seen_calls, timeout=600):
                    return
                now = time.monotonic()
                seen_calls = len(server.calls)
                texts = {m.text for m in server.messages()}
                for i, text in finals.items():
                    if i not in landed and text in texts:
                        landed[i] = now

        started = time.monotonic()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SlackMirrorWarning)
            threads = [threading.Thread(target=stream, args=(i,)) for i in range(streams)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        watcher.join(60)
        messages = server.messages()
        by_text = {m.text: m for m in messages}
        # A run that ends before its message could be posted posts its final state directly.
        first_posted = {i for i, text in finals.items() if text in by_text and len(by_text[text].history) == 1}
        own_final = sum(
            1 for i, text in finals.items()
            if sum(m.text == text for m in messages) == 1
            and len(next(m for m in messages if m.text == text).replies) == 1
        )
        return {
            "wall": time.monotonic() - started,
            "api_calls": sum(m.state.api_calls for m in mirrors),
            "ratelimited": server.ratelimited,
            "early": server.early_retries,
            "counts": dict(server.call_counts()),
            "final": [landed[i] - finished_at[i] for i in landed],
            "final_edited": [landed[i] - finished_at[i] for i in landed if i not in first_posted],
            "first_posted": len(first_posted),
            "all": [delivered_at[i] - finished_at[i] for i in delivered_at],
            "messages": len(messages),
            "own_final": own_final,
        }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 5, 20, 50])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--tick", type=float, default=1.0)
    parser.add_argument("--min-interval", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"each stream: a new state every {args.tick:g} s, edits at most every {args.min_interval:g} s, "
          f"runs {args.duration:g}-{2 * args.duration:g} s; one channel, Slack's rate limits on")
    print(f"{'N':>3} {'API calls':>9} {'429s':>5} {'early':>5} {'final in Slack: median / max':>30} "
          f"{'edits: max':>10} {'all delivered: median / max':>29} {'own final+reply':>15} {'wall':>6}")
    for n in args.streams:
        r = run(n, duration=args.duration, tick=args.tick, min_interval=args.min_interval, seed=args.seed)
        final, done = r["final"] or [float("nan")], r["all"] or [float("nan")]
        edited = r["final_edited"] or [float("nan")]
        print(f"{n:>3} {r['api_calls']:>9} {r['ratelimited']:>5} {r['early']:>5} "
              f"{statistics.median(final):>15.1f} s / {max(final):>6.1f} s "
              f"{max(edited):>8.1f} s ({r['first_posted']} posted) "
              f"{statistics.median(done):>14.1f} s / {max(done):>6.1f} s "
              f"{r['own_final']:>7}/{n:<7} {r['wall']:>5.0f}s", flush=True)


if __name__ == "__main__":
    main()
