"""How soon a terminated run says so: from SIGTERM to the Terminated edit in Slack.

Usage: python bench/terminate.py [--latency 0.3] [--repeat 5] [--framework ppe|chainer]

A real training script (tests/support/signal_script.py, a hand-written ppe loop or a
Chainer trainer, reporting every iteration with min_interval 0 so that an edit is
usually in flight) runs against the local Slack server, which answers every call after
--latency seconds. Once the message reads Training, the script gets SIGTERM; measured:

* the time until the message reads "Terminated by SIGTERM" on the server (the edit was
  applied, after the server's latency), the goal being 5 s with 300 ms;
* the time until the process ended (it waits for the alert and the mention reply too,
  at most min(delivery_timeout, 20 s)).

The baseline, measured in the same run against the same server: one chat.update
through slack_sdk (one round trip). The figures are printed as times and as round trips.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from slack_sdk import WebClient

from slacknb.testing import SlackServer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SCRIPT = os.path.join(ROOT, "tests", "support", "signal_script.py")


def round_trip(server: SlackServer) -> float:
    client = WebClient(token=server.token, base_url=server.url)
    posted = client.chat_postMessage(channel=server.channel_id, text="baseline")
    began = time.monotonic()
    client.chat_update(channel=server.channel_id, ts=posted["ts"], text="baseline edited")
    return time.monotonic() - began


def terminated_once(latency: float, framework: str) -> tuple[float, float, float]:
    with SlackServer(latency=latency) as server, tempfile.TemporaryDirectory() as out:
        baseline = round_trip(server)
        env = {**os.environ, "SLACKNB_API_URL": server.url, "SLACK_BOT_TOKEN": server.token,
               "SLACK_CHANNEL_ID": server.channel_id}
        process = subprocess.Popen([sys.executable, SCRIPT, framework, "plain", out], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        def reads(word):
            return lambda s: any(m.text.startswith(word) for m in s.messages(s.channel_id) if m.text != "baseline edited")

        if not server.wait_for(reads("Training"), timeout=120):
            process.kill()
            raise SystemExit(f"the run never showed Training: {process.communicate()[1][-2000:]}")
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        if not server.wait_for(reads("Terminated by SIGTERM"), timeout=30):
            raise SystemExit("no Terminated edit within 30 s")
        edited = time.monotonic() - signalled
        process.wait(timeout=60)
        return baseline, edited, time.monotonic() - signalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--framework", choices=("ppe", "chainer"), default="ppe")
    args = parser.parse_args()
    runs = [terminated_once(args.latency, args.framework) for _ in range(args.repeat)]
    baseline = statistics.median(r[0] for r in runs)
    edits, exits = [r[1] for r in runs], [r[2] for r in runs]
    print(f"{args.framework}, Slack answering after {args.latency:.3f} s, {args.repeat} runs")
    print(f"one chat.update round trip (baseline): {baseline:.3f} s")
    print(f"SIGTERM -> Terminated edit in Slack: median {statistics.median(edits):.2f} s, max {max(edits):.2f} s "
          f"({statistics.median(edits) / baseline:.1f} round trips; goal: 5 s)")
    print(f"SIGTERM -> process ended (alert and reply delivered): median {statistics.median(exits):.2f} s, "
          f"max {max(exits):.2f} s ({statistics.median(exits) / baseline:.1f} round trips; bound: 20 s)")


if __name__ == "__main__":
    main()
