"""``slacknb server --show``: print what the local server receives, as it arrives.

Every message, edit, thread reply, deletion, ephemeral message and shared file is
printed once, in the order the server took it, as Slack would hold it (the mrkdwn
source, not rendered): so anyone can try slacknb without Slack and see exactly what
would be posted. :func:`describe_file` is also how ``slacknb demo`` names a file.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, TextIO

from .messages import Change

if TYPE_CHECKING:
    from .server import SlackServer

__all__ = ["Show", "describe_change", "describe_file"]


def describe_file(file: dict) -> str:
    """One line for a shared file: ``chart.png (image/png, 41.2 KB, "title")``."""
    size = file.get("size")
    details = [file.get("mimetype") or "", _size(size) if isinstance(size, int) else ""]
    title = file.get("title")
    if title and title != file.get("name"):
        details.append(f'"{title}"')
    shown = ", ".join(d for d in details if d)
    return f"{file.get('name') or file.get('id')}" + (f" ({shown})" if shown else "")


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.1f} MB"


def _buttons(blocks: list | None) -> list[str]:
    labels = []
    for block in blocks or []:
        elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
        for element in elements:
            if isinstance(element, dict) and element.get("type") == "button":
                labels.append(str(element.get("text", {}).get("text", "")))
    return labels


def describe_change(change: Change, channel_name: str) -> str:
    """The printout of one change: a heading line, then the text indented."""
    when = time.strftime("%H:%M:%S", time.localtime(change.at))
    where = f"#{channel_name}"
    if change.thread_ts:
        where += f", thread {change.thread_ts}"
    heading = {
        "posted": f"reply {change.ts}" if change.thread_ts else f"message {change.ts}",
        "edited": f"edit {change.edit} of {change.ts}",
        "deleted": f"deleted {change.ts}",
        "ephemeral": f"ephemeral {change.ts}, seen only by {change.user}",
    }[change.kind]
    lines = [f"[{when}] {where}: {heading}"]
    if change.kind != "deleted":
        lines.extend("    " + line for line in change.text.splitlines())
        lines.extend(f"    [file] {describe_file(f)}" for f in change.files)
        lines.extend(f"    [button] {label}" for label in _buttons(change.blocks))
    return "\n".join(lines)


class Show:
    """A daemon thread that prints each new change of ``server`` to ``out``."""

    def __init__(self, server: SlackServer, out: TextIO) -> None:
        self._server = server
        self._out = out
        self._seen = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slacknb-local-slack-show", daemon=True)

    def start(self) -> Show:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Print what is left, then end the thread."""
        self._stopped.set()
        self._thread.join(timeout=5)
        self._print_new()

    def _run(self) -> None:
        while not self._stopped.is_set():
            # Wakes after every request the server handles (or each half second).
            self._server.wait_for(lambda s: bool(s.changes(self._seen)), timeout=0.5)
            self._print_new()

    def _print_new(self) -> None:
        new = self._server.changes(self._seen)
        self._seen += len(new)
        for change in new:
            print(describe_change(change, self._channel_name(change.channel)), file=self._out, flush=True)

    def _channel_name(self, channel_id: str) -> str:
        with self._server.lock:
            found = self._server.workspace.find_channel(channel_id, by_name=False)
            return found.name if found is not None else channel_id
