"""One Slack app's rate limits, shared by every report stream on this machine.

Slack counts chat.update (about 50 a minute) per app, and chat.postMessage (about one a
second, short bursts allowed) per app and channel. Twenty runs of one app share those
budgets, and a 429 answer to any of them means "this app, wait Retry-After": a run that
calls before then only earns another 429. So every stream makes its calls through a
:class:`SharedLimits` gate:

* Calls of one method (and channel, for chat.postMessage) are taken in turns: at most one
  is in flight per machine, so no call can be on its way while another stream's 429 is
  coming back. A turn that starts before the Retry-After elapsed is not made at all; the
  stream waits instead; nor one that would go past the method's budget for the minute
  (Slack would answer 429 and hold every stream).
* A stream whose final report or end-of-run reply had to wait registers as urgent, and
  the other streams' intermediate edits step aside until it went through: finals first.
  A priority stream (a study's board) that had to wait registers as such, and the ordinary
  streams' intermediate edits step aside for it in the same way, and so do finals while the
  board used less than its share, :data:`BOARD_SHARE` calls a minute (its default pace): a
  board stays live however many trials end at once.
* Intermediate edits leave room for finals. chat.update's budget (Tier 3: 50 a minute)
  is a sliding minute; intermediate edits may fill it only up to 50 less one call per
  stream that edited in that minute and may still need its final edit (a stream whose run
  ended and whose final edit is in says so: :meth:`SharedLimits.finished`), at least
  :data:`MIN_INTERMEDIATE`, so each running stream's final edit finds a free call instead of
  waiting for the minute to roll over. With 20 runs, intermediate edits share 30 calls a
  minute; with 50, 5. A study's board counts once however many processes edit it (any of
  their last edits shows the whole study); while it is live, the other streams'
  intermediate edits also leave it its share, and the board may use its share whatever
  room the finals keep.
* The gate knows how many streams are active, so each can pace itself to its share
  (:func:`auto_interval`, the default ``min_interval``): alone about one edit a second,
  with 5 runs one every 7 s, with 20 one every 40 s, and at most a minute apart.

Turns are kept across processes with a lock file per method in a private temp directory
(``fcntl.flock``; the kernel releases it if a process dies), and across threads with a
lock per file. The files hold a time and hashed stream ids, never the token. Where file
locks are not available (Windows) the gate is per process. Streams on other machines
cannot see it: they just get their own 429s and honour them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from typing import Callable, Iterator

__all__ = ["BOARD_SHARE", "STEP_ASIDE", "SharedLimits", "Turn", "scope_of", "shared_limits"]

from slacknb.runtime.clock import SYSTEM, Clock
from slacknb.slack.pacing import BOARD_INTERVAL, BUDGETS, MIN_INTERMEDIATE, WINDOW, Hold

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: the gate is per process
    fcntl = None

# chat.postMessage is limited per channel, every other method per app (see Slack's tiers).
PER_CHANNEL = frozenset({"chat.postMessage"})
# How long an intermediate edit steps aside for another stream's final, before it looks again.
STEP_ASIDE = 1.0
# An urgent stream that stops asking (its process died) is forgotten this long after its turn.
URGENT_TTL = 15.0
# chat.update calls a minute kept for a live study's board: its edits at its default pace. The
# other streams' intermediate edits leave them to it, and the finals' room never takes them.
BOARD_SHARE = round(WINDOW / BOARD_INTERVAL)


def scope_of(base_url: str, token: str) -> str:
    """A stable id for one app on one API (the token is hashed, never stored)."""
    return hashlib.sha256(f"{base_url}\0{token}".encode()).hexdigest()[:24]


class Turn:
    """One stream's turn for one call. ``wait`` > 0 means: make no call, wait that long.

    ``reason`` says why (a :class:`Hold`): SHARED_LIMIT (a Retry-After told to this app is
    running), FINALS_FIRST (another stream's final report goes first), BOARD_FIRST (a
    priority stream goes first), RESERVED (what is left of the minute's budget is kept for
    final reports) or FULL (the minute's budget is used up); "" when the call may go.
    """

    def __init__(self, state: dict, stream: str, urgent: bool, clock: Callable[[], float],
                 budget: int | None = None, streams: int = 1, priority: bool = False,
                 boards: bool = False) -> None:
        self._state = state
        self._stream = stream
        self._urgent = urgent
        self._rank = "urgent" if urgent else "priority" if priority else ""
        self._clock = clock
        self._now = now = clock()
        self.streams = streams
        """How many final edits the streams of this app that edited in the last minute may still
        need (this one included; a study's board once)."""
        self.changed = False
        self.wait = 0.0
        self.reason: Hold | str = ""
        not_before = float(state.get("not_before", 0.0))
        urgent_streams, priority_streams = self._waiting("urgent"), self._waiting("priority")
        recent = state.setdefault("recent", [])  # [time, stream, lane] of calls made in the last minute
        if recent and recent[0][0] <= now - WINDOW:
            recent[:] = [call for call in recent if call[0] > now - WINDOW]
            self.changed = True
        self._lane = int(priority)
        lane = [call for call in recent if len(call) > 2 and call[2]]  # the boards' calls
        if now < not_before:
            self.wait, self.reason = not_before - now, Hold.SHARED_LIMIT
        elif not urgent and not priority and any(other != stream for other in urgent_streams):
            self.wait, self.reason = STEP_ASIDE, Hold.FINALS_FIRST
        elif (not priority and any(other != stream for other in priority_streams)
              and (not urgent or len(lane) < BOARD_SHARE)):
            # A waiting board goes first; a final only lets it use its share.
            self.wait, self.reason = STEP_ASIDE, Hold.BOARD_FIRST
        elif budget is not None and len(recent) >= budget:
            # Slack would answer 429 and hold every stream: wait for the oldest call to age out.
            self.wait, self.reason = recent[len(recent) - budget][0] + WINDOW - now, Hold.FULL
        elif not urgent and budget is not None:
            self._keep_room(recent, lane, budget, streams, priority, boards)
        if self.wait > 0 and self._rank and self.reason is not Hold.RESERVED:
            self._mark(max(now + self.wait, not_before))

    def _keep_room(self, recent: list, lane: list, budget: int, streams: int, priority: bool, boards: bool) -> None:
        """An intermediate edit waits while the minute's calls leave only the room kept for the
        streams' finals (and a live board's share); a board may always use its share."""
        if priority:
            allowed = max(MIN_INTERMEDIATE, budget - streams)
            if len(recent) >= allowed and len(lane) >= BOARD_SHARE:
                # Until enough of the minute's calls, or of the board's own, have aged out.
                until = min(recent[len(recent) - allowed][0], lane[len(lane) - BOARD_SHARE][0]) + WINDOW
                self.wait, self.reason = until - self._now, Hold.RESERVED
            return
        allowed = max(MIN_INTERMEDIATE, budget - streams - (BOARD_SHARE if boards else 0))
        if len(recent) >= allowed:
            # Until enough of the minute's calls have aged out.
            self.wait, self.reason = recent[len(recent) - allowed][0] + WINDOW - self._now, Hold.RESERVED

    def _waiting(self, rank: str) -> dict:
        """The streams of ``rank`` that had to wait and have not gone through yet (stale ones dropped)."""
        streams = self._state.setdefault(rank, {})
        for other, expires in list(streams.items()):
            if expires <= self._now:
                del streams[other]
                self.changed = True
        return streams

    def made(self) -> None:
        """A call was made and not refused for the rate: it counts in the minute's budget."""
        self._state.setdefault("recent", []).append([self._clock(), self._stream, self._lane])
        self.changed = True

    def limited(self, retry_after: float) -> None:
        """The call got a 429: nobody calls this method before ``retry_after`` from now."""
        # Measured now that the answer is in, after Slack started its Retry-After: never early.
        not_before = self._clock() + retry_after
        if not_before > float(self._state.get("not_before", 0.0)):
            self._state["not_before"] = not_before
            self.changed = True
        if self._rank:
            self._mark(not_before)

    def succeeded(self) -> None:
        """The call went through: an urgent or priority stream stops holding the others back."""
        if self._rank and self._state.get(self._rank, {}).pop(self._stream, None) is not None:
            self.changed = True

    def _mark(self, until: float) -> None:
        """This urgent or priority stream waits until ``until``: the ranks below step aside meanwhile."""
        self._state.setdefault(self._rank, {})[self._stream] = max(until, self._now) + URGENT_TTL
        self.changed = True


class SharedLimits:
    """The gate; see the module docstring. ``directory`` defaults to a private temp folder."""

    def __init__(self, directory: str | None = None, *, clock: Clock = SYSTEM) -> None:
        self._directory = directory
        # Wall-clock time: the lock files are read by other processes.
        self._clock = clock.time
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._memory: dict[str, dict] = {}  # used where no lock file can be made

    @contextlib.contextmanager
    def turn(self, scope: str, method: str, channel: str | None, *, urgent: bool, stream: str,
             priority: bool = False) -> Iterator[Turn]:
        """Hold the turn for ``method`` while the block makes (at most) one call (``urgent``: the
        end of a run; ``priority``: a stream whose intermediate edits go before the others')."""
        budget = BUDGETS.get(method)
        streams, boards = self._seen(scope, stream, priority, editing=budget is not None)
        key = hashlib.sha256(f"{scope}\0{method}\0{channel if method in PER_CHANNEL else ''}".encode()).hexdigest()
        with self._locked(key) as (handle, state):
            turn = Turn(state, stream, urgent, self._clock, budget, streams, priority, boards)
            try:
                yield turn
            finally:
                if turn.changed:
                    self._write(key, handle, state)

    def _seen(self, scope: str, stream: str, priority: bool, *, editing: bool) -> tuple[int, bool]:
        """Note that ``stream`` edits (``editing``: it asks for a budgeted method). Returns how
        many finals may still be needed by the streams that edited in the last minute (this one
        included; a board's processes count once), and whether another stream is a live board."""
        key = self._streams_key(scope)
        with self._locked(key) as (handle, state):
            now = self._clock()
            live = {who: seen for who, seen in state.items()
                    if isinstance(seen, list) and len(seen) == 3 and seen[0] > now - WINDOW}
            seen = [now, int(priority), live.get(stream, [0, 0, 0])[2]]
            if editing:
                live[stream] = seen
                self._write(key, handle, live)
            others = [s for who, s in live.items() if who != stream and not s[2]]
            pending = others + ([] if seen[2] else [seen])
            finals = sum(1 for s in pending if not s[1]) + any(s[1] for s in pending)
            return max(1, finals), any(s[1] for s in others)

    def finished(self, scope: str, stream: str) -> None:
        """``stream``'s run ended and its final edit is in: it no longer needs the room kept for one."""
        key = self._streams_key(scope)
        with self._locked(key) as (handle, state):
            seen = state.get(stream)
            if isinstance(seen, list) and len(seen) == 3:
                seen[2] = 1
                self._write(key, handle, state)

    @staticmethod
    def _streams_key(scope: str) -> str:
        return hashlib.sha256(f"{scope}\0streams".encode()).hexdigest()

    @contextlib.contextmanager
    def _locked(self, key: str):
        with self._thread_lock(key):
            handle = self._open(key)
            try:
                yield handle, self._read(key, handle)
            finally:
                if handle is not None:
                    handle.close()  # also releases the file lock

    # -- storage ---------------------------------------------------------------------

    def _thread_lock(self, key: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(key, threading.Lock())

    def _open(self, key: str):
        if fcntl is None:
            return None
        try:
            directory = self._directory or _default_directory()
            os.makedirs(directory, mode=0o700, exist_ok=True)
            handle = open(os.path.join(directory, key[:32] + ".json"), "a+", encoding="utf-8")
        except OSError:
            return None  # an unwritable temp dir: the gate still works within this process
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:
            handle.close()
            return None
        return handle

    def _read(self, key: str, handle) -> dict:
        if handle is None:
            return self._memory.setdefault(key, {})
        handle.seek(0)
        try:
            state = json.loads(handle.read() or "{}")
        except ValueError:
            state = {}  # a torn or foreign file: start afresh rather than stop mirroring
        return state if isinstance(state, dict) else {}

    def _write(self, key: str, handle, state: dict) -> None:
        if handle is None:
            self._memory[key] = state
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))
            handle.flush()
        except OSError:
            self._memory[key] = state


def _default_directory() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return os.path.join(tempfile.gettempdir(), f"slacknb-limits-{uid}")


_shared: SharedLimits | None = None
_shared_lock = threading.Lock()


def shared_limits() -> SharedLimits:
    """The process-wide gate every :class:`~slacknb.slack.mirror.SlackMirror` uses by default."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SharedLimits(os.environ.get("SLACKNB_LIMITS_DIR") or None)
        return _shared
