"""Messages the local server holds, and the ``ts`` clock that names them."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["Change", "Ephemeral", "Message", "MessageStore", "ts_key"]


@dataclass
class Message:
    """One message as the server stores it.

    ``history`` is every text the message had, first post first (``history[-1] == text``),
    and ``blocks_history`` its blocks at each of those moments (None: no blocks);
    ``replies`` are its thread replies, oldest first. Deleted messages stay, with
    ``deleted=True``, so tests can see what happened to them.
    """

    ts: str
    channel: str
    text: str
    user: str
    bot_id: str | None = None
    blocks: list | None = None
    thread_ts: str | None = None
    metadata: dict | None = None
    files: list[dict] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    blocks_history: list[list | None] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)
    deleted: bool = False
    reply_broadcast: bool = False

    def to_api(self, *, include_metadata: bool = False) -> dict[str, Any]:
        """The message as conversations.history / replies show it."""
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "user": self.user}
        if self.bot_id:
            out["bot_id"] = self.bot_id
        if self.blocks is not None:
            out["blocks"] = self.blocks
        if self.files:
            out["files"] = self.files
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        live = [r for r in self.replies if not r.deleted]
        if live:
            out["thread_ts"] = self.ts
            out["reply_count"] = len(live)
            out["latest_reply"] = live[-1].ts
        if include_metadata and self.metadata is not None:
            out["metadata"] = self.metadata
        return out

    def record(self) -> None:
        """Note the current text and blocks in the histories (after a post or an edit)."""
        self.history.append(self.text)
        self.blocks_history.append(copy.deepcopy(self.blocks))


@dataclass
class Ephemeral:
    """A chat.postEphemeral message: only ``user`` sees it, and it is never in history."""

    ts: str
    channel: str
    user: str
    text: str
    sender: str
    blocks: list | None = None
    thread_ts: str | None = None


@dataclass(frozen=True)
class Change:
    """One thing the server received that a reader would see, as it was at that moment.

    ``kind`` is "posted", "edited", "deleted" or "ephemeral"; a reply is "posted" with
    its parent's ``thread_ts``; an upload shared into a channel is a posted message
    with ``files``. ``edit`` counts a message's edits (1 for the first one); ``user``
    is who sees an ephemeral message; ``at`` is the server's wall time.
    """

    kind: str
    channel: str
    ts: str
    text: str
    at: float
    thread_ts: str | None = None
    files: tuple = ()
    blocks: list | None = None
    edit: int = 0
    user: str | None = None


class MessageStore:
    """All messages of all channels, indexed by ``(channel, ts)``. Not thread-safe: the
    server calls it under its lock."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._top: list[Message] = []
        self.ephemerals: list[Ephemeral] = []
        self._index: dict[tuple[str, str], Message] = {}
        self._last_us = 0
        #: Every :class:`Change`, in the order the server made them.
        self.changes: list[Change] = []

    def next_ts(self) -> str:
        """A Slack-style ``ts`` ("1700000000.000100"): wall time in microseconds, but
        strictly increasing and unique even when two posts land in the same microsecond."""
        us = max(int(self._clock() * 1_000_000), self._last_us + 1)
        self._last_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def add(self, message: Message, *, parent: Message | None = None) -> Message:
        """Store a new message, as a reply of ``parent`` if given."""
        message.record()
        if parent is None:
            self._top.append(message)
        else:
            message.thread_ts = parent.ts
            parent.replies.append(message)
        self._index[(message.channel, message.ts)] = message
        self._note("posted", message)
        return message

    def edited(self, message: Message) -> None:
        """Record an edit of ``message`` (its text and blocks are already the new ones)."""
        message.record()
        self._note("edited", message, edit=len(message.history) - 1)

    def deleted(self, message: Message) -> None:
        """Mark ``message`` deleted; it stays in the store."""
        message.deleted = True
        self._note("deleted", message)

    def add_ephemeral(self, ephemeral: Ephemeral) -> None:
        """Keep a chat.postEphemeral message (never in the channel's history)."""
        self.ephemerals.append(ephemeral)
        self.changes.append(Change("ephemeral", ephemeral.channel, ephemeral.ts, ephemeral.text, self._clock(),
                                   thread_ts=ephemeral.thread_ts, blocks=copy.deepcopy(ephemeral.blocks),
                                   user=ephemeral.user))

    def _note(self, kind: str, message: Message, *, edit: int = 0) -> None:
        self.changes.append(Change(kind, message.channel, message.ts, message.text, self._clock(),
                                   thread_ts=message.thread_ts, files=tuple(copy.deepcopy(message.files)),
                                   blocks=copy.deepcopy(message.blocks), edit=edit))

    def get(self, channel: str, ts: str) -> Message | None:
        """The message (top level or reply) with this ts in this channel, deleted or not."""
        return self._index.get((channel, ts))

    def top_level(self, channel: str | None = None) -> list[Message]:
        """Top-level messages, oldest first, optionally of one channel."""
        return [m for m in self._top if channel is None or m.channel == channel]

    def timeline(self, channel: str) -> list[Message]:
        """What conversations.history lists: live top-level messages and broadcast
        replies of one channel, oldest first."""
        out = []
        for m in self.top_level(channel):
            if not m.deleted:
                out.append(m)
            out.extend(r for r in m.replies if r.reply_broadcast and not r.deleted)
        out.sort(key=lambda m: _ts_key(m.ts))
        return out

    def clear(self) -> None:
        """Forget every message (the ts clock keeps counting up)."""
        self._top.clear()
        self._index.clear()
        self.ephemerals.clear()
        self.changes.clear()

    @staticmethod
    def snapshot(messages: list[Message]) -> list[Message]:
        """Deep copies, so a test can read them while the server keeps changing its own."""
        return copy.deepcopy(messages)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)


def ts_key(ts: str) -> tuple[int, int] | None:
    """A sortable key for a ts string, or None if it is not one."""
    try:
        return _ts_key(ts)
    except ValueError:
        return None
