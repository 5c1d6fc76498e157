"""The ``slacknb`` command line: ``demo``, ``server``, ``doctor``, ``manifest``."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from slacknb import __version__
from slacknb.testing import command as server_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``slacknb`` parser with its commands."""
    parser = argparse.ArgumentParser(
        prog="slacknb",
        description="Live Chainer and PyTorch (pytorch-pfn-extras) training reports in Jupyter, "
                    "mirrored to one edited Slack message.",
    )
    parser.add_argument("--version", action="version", version=f"slacknb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="run an example notebook headless and show the Slack message",
        description="Execute an example notebook in a real Jupyter kernel: Chainer's quickstart, or the "
                    "PyTorch (ppe) one when Chainer is not installed. With SLACK_BOT_TOKEN and "
                    "SLACK_CHANNEL_ID set it posts to Slack; otherwise to the built-in local "
                    "Slack-compatible server.")
    demo.add_argument("--notebook", help="the notebook to run (default: the example for the installed "
                                         "framework, quickstart.ipynb or pytorch.ipynb)")
    demo.add_argument("--output", help="where the executed notebook is written "
                                       "(default: demo-output/<the notebook's name>)")
    demo.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default: %(default)s)")

    server = commands.add_parser("server", help="run the local Slack-compatible server until Ctrl-C",
                                 description=server_command.DESCRIPTION)
    server_command.add_arguments(server)

    doctor = commands.add_parser(
        "doctor", help="check the Slack token, its scopes and the channel, with a fix for each problem")
    doctor.add_argument("--channel", help="channel ID or #name (default: $SLACK_CHANNEL_ID)")
    doctor.add_argument("--base-url", help="Slack API URL (default: $SLACKNB_API_URL or Slack's)")

    manifest = commands.add_parser(
        "manifest", help="print the Slack app manifest slacknb needs (paste it at Create New App > From a manifest)",
        description="Print a Slack app manifest (JSON) with every bot scope slacknb's features use, and Socket "
                    "Mode and interactivity on for the Stop button. Paste it at https://api.slack.com/apps > "
                    "Create New App > From an app manifest.")
    manifest.add_argument("--name", default="slacknb", help="the app's name in Slack (default: %(default)s)")
    manifest.add_argument("--no-stop-button", action="store_true",
                          help="leave out the Stop button (no Socket Mode, no interactivity)")
    manifest.add_argument("--no-charts", action="store_true",
                          help="leave out the end-of-run chart (no files:write scope)")

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from slacknb.cli.demo import run_demo

        return run_demo(notebook=args.notebook, output=args.output, timeout=args.timeout)
    if args.command == "server":
        return server_command.serve(args)
    if args.command == "manifest":
        from slacknb.cli.manifest import run_manifest

        return run_manifest(name=args.name, stop_button=not args.no_stop_button, charts=not args.no_charts)
    if args.command == "doctor":
        from slacknb.cli.doctor import run_doctor

        return run_doctor(channel=args.channel, base_url=args.base_url)
    build_parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
