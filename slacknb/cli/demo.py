"""``slacknb demo``: run an example notebook headless and show what Slack got.

The example notebooks ship inside the package (``slacknb/examples``), so the demo
runs wherever slacknb is installed: Chainer's quickstart when Chainer is installed,
else the PyTorch (ppe) notebook. Without SLACK_BOT_TOKEN and SLACK_CHANNEL_ID the
built-in local Slack-compatible server stands in for Slack, so the demo works
offline and on a fresh machine. The kernel inherits this process's environment,
which is how the notebook finds the server: nothing is written into the notebook.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

from traitlets.config import Config

from slacknb.slack.config import resolve_config
from slacknb.testing.show import describe_file
from slacknb.views.mrkdwn import mrkdwn_text

__all__ = ["DEMO_NOTEBOOKS", "EXAMPLES", "demo_notebook", "run_demo"]

FLUSH_TIMEOUT = 30.0
#: The example notebooks, package data of slacknb.
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: The notebook the demo runs for each training framework, in the order they are looked for.
DEMO_NOTEBOOKS = (("chainer", "quickstart.ipynb"), ("pytorch_pfn_extras", "pytorch.ipynb"))
NO_FRAMEWORK = ('slacknb demo trains a model, with Chainer or PyTorch: pip install ".[ppe]" in a clone of '
                "slacknb (README: 'Install into your own environment' has both, and the CPU-only torch)")


def demo_notebook(*, find_spec: Callable = importlib.util.find_spec) -> Path | None:
    """The example the demo runs with the framework installed here (None: neither is)."""
    for module, name in DEMO_NOTEBOOKS:
        if find_spec(module) is not None:
            return EXAMPLES / name
    return None


def _kernel_config(sockets: str) -> Config:
    """The kernel talks to us over Unix sockets in a private folder instead of plain
    local TCP, about which ipykernel prints a warning at start. (The socket path is
    absolute: the kernel runs in the notebook's folder, we do not.)"""
    if os.name != "posix":
        return Config()
    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}})


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


class _SlackWatcher(threading.Thread):
    """Prints the local message's status line each time it changes."""

    def __init__(self, server):
        super().__init__(daemon=True, name="slacknb-demo-watcher")
        self.server = server
        self.stopped = threading.Event()
        self._shown = None

    def _current(self, server) -> str | None:
        messages = server.messages(server.channel_id)
        return _first_line(mrkdwn_text(messages[-1].text)) if messages else None

    def run(self) -> None:
        while not self.stopped.is_set():
            # Wakes after every request the server handles (or each second).
            self.server.wait_for(lambda s: self._current(s) != self._shown, timeout=1.0)
            line = self._current(self.server)
            if line is not None and line != self._shown:
                self._shown = line
                print(f"  slack> {line}", flush=True)


def _print_cell_start(cell, cell_index, **_):
    if cell.cell_type == "code":
        print(f"  cell {cell_index + 1}: {_first_line(cell.source)[:70]}", flush=True)


def _show_local_messages(server) -> None:
    # As a reader sees them: mrkdwn rendered, dates as times, mentions as names.
    names = {user.id: user.name for user in server.workspace.users}
    for message in server.messages(server.channel_id):
        print("\nThe Slack message, as Slack shows it (edited "
              f"{len(message.history) - 1} times after it was posted):\n")
        print(_indent(mrkdwn_text(message.text, names)))
        for reply in message.replies:
            print("\n  Thread reply:\n")
            if reply.text:
                print(_indent(mrkdwn_text(reply.text, names)))
            for file in reply.files:
                print(_indent(f"[file] {describe_file(file)}"))


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def _slacknb_outputs(nb) -> list[str]:
    """The text/plain of slacknb's displays (the final report, with the Slack link)."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if "Slack:" in text:
                found.append(text)
    return found


def run_demo(*, notebook: str | None = None, output: str | None = None, timeout: float = 600) -> int:
    """Run ``notebook`` (default: :func:`demo_notebook`) and show what Slack got; the
    executed copy goes to ``output`` (default: ``demo-output/<its name>``)."""
    try:
        import nbclient
        import nbformat
    except ImportError:
        print("slacknb demo needs nbclient and ipykernel: pip install nbclient ipykernel")
        return 1
    path = Path(notebook) if notebook else demo_notebook()
    if path is None:
        print(NO_FRAMEWORK)
        return 1
    if not path.exists():
        print(f"slacknb demo: notebook {path} not found; pass --notebook PATH, or leave it out to run "
              f"the example for the installed framework ({', '.join(name for _, name in DEMO_NOTEBOOKS)})")
        return 1
    output = output or os.path.join("demo-output", path.name)
    # A notebook of the user's runs in its own folder (its relative paths work); the packaged
    # example runs here, not inside site-packages.
    workdir = path.resolve().parent if notebook else Path.cwd()

    config = resolve_config()
    server = None
    if not config.complete:
        from slacknb.testing import SlackServer

        server = SlackServer().start()
        os.environ.update(SLACKNB_API_URL=server.url, SLACK_BOT_TOKEN=server.token,
                          SLACK_CHANNEL_ID=server.channel_id)
        print(f"slacknb demo: no SLACK_BOT_TOKEN/SLACK_CHANNEL_ID set, so the report goes to the built-in "
              f"local Slack-compatible server ({server.url}). To post to your workspace, export both "
              "(README: 'Connect your Slack workspace') and run the demo again.")
    else:
        print(f"slacknb demo: posting to Slack channel {config.channel} through {config.base_url}")

    # A headless kernel has no Jupyter server to name its notebook; tell it,
    # so the report says which notebook runs instead of just "jupyter".
    os.environ["JPY_SESSION_NAME"] = str(path.resolve())
    nb = nbformat.read(path, as_version=4)
    sockets = tempfile.mkdtemp(prefix="slacknb-demo-")
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=timeout, config=_kernel_config(sockets),
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=_print_cell_start,
        # Nothing shows a display updated after the last cell, and the saved notebook keeps
        # what the cell showed: the report's cell waits for Slack on purpose, as a script would.
        extra_arguments=[f"--SlackReportMagics.flush_timeout={FLUSH_TIMEOUT:g}"],
    )
    watcher = _SlackWatcher(server) if server is not None else None
    if watcher is not None:
        watcher.start()
    print(f"Running {path} in a Jupyter kernel:")
    status = 0
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        print(f"\nA cell failed:\n{_indent(str(error))}")
        status = 1
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        if watcher is not None:
            watcher.stopped.set()
            watcher.join(timeout=5)
        out = Path(output)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)

    if server is not None:
        _show_local_messages(server)
        server.stop()
    else:
        for text in _slacknb_outputs(nb)[-1:]:
            print("\nThe final report (the Slack line has the message's link):\n")
            print(_indent(text))
    print(f"\nExecuted notebook written to {out}")
    return status
