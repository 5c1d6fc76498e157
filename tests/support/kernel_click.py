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


def execute_clicking(client, workdir: Path) -> None:
    """Execute ``client``'s notebook while another thread clicks the Stop button its cell
    announces in ``workdir`` (see :data:`ANNOUNCE`), as a person would, mid-cell."""
    done = threading.Event()
    clicker = threading.Thread(target=click_when_announced, args=(workdir, done))
    clicker.start()
    try:
        client.execute()
    finally:
        done.set()
        clicker.join(10)


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


def assert_click_mid_cell_then_queued_cells_in_order(kernel_name: str, *, setup: str = "") -> None:
    """In a fresh kernel of ``kernel_name``: a cell that polls the kernel's inbox (as the stop
    check does) sees a widget click sent while it runs, and the cells queued behind it run after
    it, in order. ``setup`` runs first (e.g. an assertion on the kernel's version)."""
    from jupyter_client import KernelManager

    manager = KernelManager(kernel_name=kernel_name)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        model = iopub_output(client, client.execute(
            f"{setup}\nimport time, ipywidgets\nfrom slacknb.views.kernel_poll import kernel_poller\n"
            "button = ipywidgets.Button(); clicks = []\nbutton.on_click(lambda _: clicks.append(1))\n"
            "print(button.model_id, end='')"))
        # A cell that polls until the click arrived (at most 60 s), like the stop check does.
        busy = client.execute("poller = kernel_poller(); start = time.monotonic()\n"
                              "while not clicks and time.monotonic() - start < 60:\n"
                              "    poller.poll(); time.sleep(0.01)\n"
                              "print('clicked during the cell:', len(clicks), end='')")
        queued = [client.execute(f"print('queued {i}, clicks', len(clicks), end='')") for i in range(2)]
        content = {"comm_id": model, "data": {"method": "custom", "content": {"event": "click"}}}
        client.shell_channel.send(client.session.msg("comm_msg", content))
        assert iopub_output(client, busy) == "clicked during the cell: 1"
        assert [iopub_output(client, m) for m in queued] == ["queued 0, clicks 1", "queued 1, clicks 1"]
        # Up to the last queued cell's reply (wait_for_ready may leave a kernel_info_reply first).
        replies = [client.get_shell_msg(timeout=60)]
        while replies[-1]["parent_header"].get("msg_id") != queued[-1]:
            replies.append(client.get_shell_msg(timeout=60))
        executed = [r for r in replies if r["msg_type"] == "execute_reply"]
        assert [r["parent_header"]["msg_id"] for r in executed][-3:] == [busy] + queued
        counts = [r["content"]["execution_count"] for r in executed][-3:]
        assert counts == sorted(counts) and all(r["content"]["status"] == "ok" for r in executed)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
