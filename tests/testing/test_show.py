"""``slacknb server --show`` and ``/local/messages``: a real server process, real slack_sdk calls."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest
from slack_sdk import WebClient

from slacknb.testing.show import describe_file

TIMEOUT = 30


class Server:
    """``slacknb server`` in a subprocess; its printed lines collected as they come."""

    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "slacknb", "server", "--port", "0", "--no-rate-limits", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        first = self.process.stdout.readline()
        found = re.search(r"SLACKNB_API_URL=(\S+) SLACK_BOT_TOKEN=(\S+) SLACK_CHANNEL_ID=(\S+)", first)
        assert found, (first, self.process.stderr.read() if self.process.poll() is not None else "")
        self.url, self.token, self.channel = found.groups()
        self.root = self.url.removesuffix("/api/")
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def read_until(self, pattern: str) -> list[str]:
        """Every line printed up to the first that matches ``pattern`` (which is included)."""
        got = []
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            got.append(line)
            self.seen.append(line)
            if re.search(pattern, line):
                return got

    def stop(self) -> str:
        self.process.terminate()
        _, err = self.process.communicate(timeout=10)
        return err


@pytest.fixture
def shown():
    server = Server("--show")
    yield server
    assert server.stop() == ""


def test_show_prints_each_message_edit_reply_and_file_as_it_arrives(shown):
    client = WebClient(token=shown.token, base_url=shown.url, retry_handlers=[])
    shown.read_until(r"/local/messages")  # the start-up lines

    posted = client.chat_postMessage(channel=shown.channel, text="Started - 0:00:00\n_waiting_")
    got = shown.read_until(r"Started - 0:00:00")
    assert re.fullmatch(rf"\[\d\d:\d\d:\d\d\] #training: message {re.escape(posted['ts'])}", got[-2]), got
    assert shown.read_until(r"_waiting_") == ["    _waiting_"]

    client.chat_update(channel=shown.channel, ts=posted["ts"], text="Training - 0:00:05\n```\n1 0.5\n```")
    got = shown.read_until(r"1 0\.5")
    assert got[0].endswith(f"#training: edit 1 of {posted['ts']}")
    assert got[1:] == ["    Training - 0:00:05", "    ```", "    1 0.5"]
    assert shown.read_until(r".") == ["    ```"]

    reply = client.chat_postMessage(channel=shown.channel, thread_ts=posted["ts"], text="<@U0ALICE> done")
    got = shown.read_until(r"<@U0ALICE> done")
    assert got[0].endswith(f"#training, thread {posted['ts']}: reply {reply['ts']}")

    client.files_upload_v2(channel=shown.channel, thread_ts=posted["ts"], content=b"\x89PNG" + b"0" * 2000,
                           filename="quickstart.png", title="Losses")
    got = shown.read_until(r"\[file\]")
    assert got[-1] == '    [file] quickstart.png (image/png, 2.0 KB, "Losses")'
    assert f"thread {posted['ts']}: reply" in got[0]

    client.chat_postEphemeral(channel=shown.channel, user="U0ALICE", text="Only you can see this")
    got = shown.read_until(r"Only you can see this")
    assert "seen only by U0ALICE" in got[0]

    client.chat_delete(channel=shown.channel, ts=reply["ts"])
    assert shown.read_until(r"deleted")[-1].endswith(f"#training, thread {posted['ts']}: deleted {reply['ts']}")


def test_local_messages_lists_what_was_received_with_edits_replies_and_files(shown):
    client = WebClient(token=shown.token, base_url=shown.url, retry_handlers=[])
    posted = client.chat_postMessage(channel="#training", text="first")
    client.chat_update(channel=shown.channel, ts=posted["ts"], text="second")
    client.chat_postMessage(channel=shown.channel, thread_ts=posted["ts"], text="a reply")
    client.files_upload_v2(channel=shown.channel, thread_ts=posted["ts"], content=b"x" * 10, filename="log.csv")

    with urllib.request.urlopen(f"{shown.root}/local/messages?channel=training", timeout=10) as answer:
        listed = json.load(answer)
    assert listed["ok"]
    [message] = listed["messages"]
    assert (message["ts"], message["text"], message["history"]) == (posted["ts"], "second", ["first", "second"])
    text_reply, file_reply = message["replies"]
    assert text_reply["text"] == "a reply" and text_reply["thread_ts"] == posted["ts"]
    assert [f["name"] for f in file_reply["files"]] == ["log.csv"]

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{shown.root}/local/messages?channel=C0NOPE", timeout=10)
    assert refused.value.code == 404 and json.load(refused.value)["error"] == "channel_not_found"


def test_without_show_the_server_prints_only_how_to_reach_it():
    server = Server()
    try:
        client = WebClient(token=server.token, base_url=server.url, retry_handlers=[])
        start = server.read_until(r"/local/messages")
        assert "--show" in start[-1]
        client.chat_postMessage(channel=server.channel, text="quiet")
    finally:
        server.stop()
    with pytest.raises(queue.Empty):
        server.lines.get(timeout=0.5)


@pytest.mark.parametrize("file, line", [
    ({"name": "a.png", "mimetype": "image/png", "size": 41230, "title": "Losses"}, 'a.png (image/png, 41.2 KB, "Losses")'),
    ({"name": "log.csv", "mimetype": "text/csv", "size": 12, "title": "log.csv"}, "log.csv (text/csv, 12 bytes)"),
    ({"id": "F0X", "size": 3_400_000}, "F0X (3.4 MB)"),
])
def test_describe_file_names_the_file_its_type_size_and_title(file, line):
    assert describe_file(file) == line
