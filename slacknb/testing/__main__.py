"""``python -m slacknb.testing``: run the local Slack server until Ctrl-C.

It prints one line with the settings to point slacknb (or any slack_sdk client) at it,
and one saying how to press a message's button (Socket Mode) from another terminal.
The tokens it prints are the server's own local fakes, not real Slack credentials.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from .pipeline import PRESS_PATH
from .server import SlackServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m slacknb.testing",
        description="Run a local Slack-compatible Web API server for offline tests and demos.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S",
                        help="seconds to wait before every answer (default: 0)")
    return parser


def serve_forever(argv: Sequence[str] | None = None) -> int:
    """Start the server, print how to reach it, and serve until Ctrl-C or SIGTERM (exit 0)."""
    args = _parser().parse_args(argv)
    if args.latency < 0:
        _parser().error("--latency must be >= 0 seconds")
    stop = threading.Event()
    # SIGTERM (a test harness or process manager stopping us) ends as quietly as Ctrl-C.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = SlackServer(rate_limits=not args.no_rate_limits, latency=args.latency, port=args.port)
    try:
        server.start()
    except OSError as e:
        print(f"slacknb local Slack server: cannot listen on port {args.port}: {e.strerror}. "
              "Pick another --port, or leave it out to get a free one.", file=sys.stderr)
        return 1
    print(f"slacknb local Slack server: SLACKNB_API_URL={server.url} SLACK_BOT_TOKEN={server.token} "
          f"SLACK_CHANNEL_ID={server.channel_id} SLACK_APP_TOKEN={server.app_token}", flush=True)
    print(f"Press the newest message's button as alice: curl -d user=U0ALICE {server.root}{PRESS_PATH} "
          "(fields: channel, ts, user, action_id)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(serve_forever())
