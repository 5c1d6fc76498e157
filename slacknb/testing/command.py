"""The local server's command line, shared by ``python -m slacknb.testing`` and ``slacknb server``.

One set of arguments, declared once in :func:`add_arguments`, so the two
commands cannot drift apart (``slacknb server --latency 0.3`` used to be refused).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Sequence

from .pipeline import MESSAGES_PATH, PRESS_PATH
from .server import SlackServer
from .show import Show

__all__ = ["add_arguments", "main", "parser", "serve"]

DESCRIPTION = "Run a local Slack-compatible Web API server for offline tests and demos."


def _latency(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the server's options (``--port``, ``--no-rate-limits``, ``--latency``, ``--show``) to ``parser``."""
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    parser.add_argument("--show", action="store_true",
                        help="print every message, edit, reply and file as it arrives")
    parser.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
    parser.add_argument("--latency", type=_latency, default=0.0, metavar="S",
                        help="seconds to wait before every answer (default: 0)")
    return parser


def parser(prog: str = "python -m slacknb.testing") -> argparse.ArgumentParser:
    """The stand-alone parser of ``python -m slacknb.testing``."""
    return add_arguments(argparse.ArgumentParser(prog=prog, description=DESCRIPTION))


def serve(args: argparse.Namespace) -> int:
    """Start the server, print how to reach it, and serve until Ctrl-C or SIGTERM (exit 0)."""
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
    # The tokens printed are the server's own local fakes, not real Slack credentials.
    print(f"slacknb local Slack server: SLACKNB_API_URL={server.url} SLACK_BOT_TOKEN={server.token} "
          f"SLACK_CHANNEL_ID={server.channel_id} SLACK_APP_TOKEN={server.app_token}", flush=True)
    # A Stop button (Socket Mode) is pressed from another terminal.
    print(f"Press the newest message's button as alice: curl -d user=U0ALICE {server.root}{PRESS_PATH} "
          "(fields: channel, ts, user, action_id)", flush=True)
    print(f"Every message received, with its edits, replies and files: curl {server.root}{MESSAGES_PATH}"
          + ("" if args.show else " (or run with --show to see them as they arrive)"), flush=True)
    show = Show(server, sys.stdout).start() if args.show else None
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if show is not None:
            show.stop()
        server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m slacknb.testing [--port N] [--no-rate-limits] [--latency S] [--show]``."""
    return serve(parser().parse_args(argv))
