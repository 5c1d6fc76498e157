"""The ``slacknb`` command line: ``demo``, ``server``, ``doctor``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from slacknb import __version__
from slacknb.testing import command as server_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``slacknb`` parser with its three commands."""
    parser = argparse.ArgumentParser(
        prog="slacknb",
        description="Live Chainer and PyTorch (pytorch-pfn-extras) training reports in Jupyter, "
                    "mirrored to one edited Slack message.",
    )
    parser.add_argument("--version", action="version", version=f"slacknb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run notebooks/quickstart.ipynb headless and show the Slack message",
        description="Execute the quickstart notebook in a real Jupyter kernel. With SLACK_BOT_TOKEN and "
                    "SLACK_CHANNEL_ID set it posts to Slack; otherwise to the built-in local "
                    "Slack-compatible server.")
    demo.add_argument("--notebook", help="the notebook to run (default: notebooks/quickstart.ipynb)")
    demo.add_argument("--output", default=os.path.join("demo-output", "quickstart.ipynb"),
                      help="where the executed notebook is written (default: %(default)s)")
    demo.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default: %(default)s)")

    server = commands.add_parser("server", help="run the local Slack-compatible server until Ctrl-C",
                                 description=server_command.DESCRIPTION)
    server_command.add_arguments(server)

    doctor = commands.add_parser(
        "doctor", help="check the Slack token, its scopes and the channel, with a fix for each problem")
    doctor.add_argument("--channel", help="channel ID or #name (default: $SLACK_CHANNEL_ID)")
    doctor.add_argument("--base-url", help="Slack API URL (default: $SLACKNB_API_URL or Slack's)")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from slacknb.cli.demo import run_demo

        return run_demo(notebook=args.notebook, output=args.output, timeout=args.timeout)
    if args.command == "server":
        return server_command.serve(args)
    if args.command == "doctor":
        from slacknb.cli.doctor import run_doctor

        return run_doctor(channel=args.channel, base_url=args.base_url)
    build_parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
