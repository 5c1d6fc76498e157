"""Clicking a widget in a running kernel from outside, as the browser does, and reading a
request's output off IOPub."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from jupyter_client import BlockingKernelClient

MARKER = "click-me.json"

# A cell writes this (with os.replace, so it appears whole) when the click should come.
ANNOUNCE = f"""
def announce_click(widget):
    import ipykernel, json, os
    with open("click-me.tmp", "w") as f:
        json.dump({{"model_id": widget.stop_button.model_id, "connection_file": ipykernel.get_connection_file()}}, f)
    os.replace("click-me.tmp", {MARKER!r})
"""


def click_when_announced(workdir: Path, done: threading.Event) -> None:
    """Wait for the cell's announcement in ``workdir``, then click that widget's button."""
    marker = workdir / MARKER
    while not marker.exists() and not done.wait(0.05):
        pass
    if not marker.exists():
        return
    info = json.loads(marker.read_text())
    client = BlockingKernelClient(connection_file=info["connection_file"])
    client.load_connection_file()
    client.start_channels()
    try:
        # What the browser sends for a click on an ipywidgets Button.
        content = {"comm_id": info["model_id"], "data": {"method": "custom", "content": {"event": "click"}}}
        message = client.session.msg("comm_msg", content)
        client.shell_channel.send(message)
        # Closing at once could drop the unsent message: wait until the kernel handled
        # it (the button's "Stopping..." update comes back with it as parent).
        while True:
            reply = client.get_iopub_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == message["header"]["msg_id"]:
                break
    finally:
        client.stop_channels()


def iopub_output(client, msg_id: str) -> str:
    """The stream output of request ``msg_id``, once the kernel is idle after it."""
    out = []
    while True:
        message = client.get_iopub_msg(timeout=90)
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "stream":
            out.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            raise AssertionError("\n".join(message["content"]["traceback"]))
        elif message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            return "".join(out)
