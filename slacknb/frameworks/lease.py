"""Who posts and edits a study's board: a lease kept in the study's own attributes.

Every process of a study (on every machine that shares its storage) can render the
whole board from the storage, but ONE edits the message at a time: the holder of this
lease. One editor keeps the edits in order (its mirror sends only its newest render),
and the board's share of Slack's rate limit is one stream's, however many processes
run. The storage is the only shared state: Optuna's storages have no compare-and-set,
so the lease is taken by a claim protocol over plain attribute writes.

The keys (study user attributes; each is written by one process only, except the lease
after a takeover):

- ``slacknb:claim:<id>``: ``{"at": wall time}``, a process's bid for the lease (``at`` None: withdrawn);
- ``slacknb:lease``: ``{"holder": id, "until": wall time, "shown": version, "released": bool,
  "leaving": bool}``, written by the holder: taken, renewed every ``renew`` seconds, offered,
  released (and by its successor, over an offered or expired one);
- ``slacknb:board``: ``{"channel": ..., "ts": ...}``, the board message, recorded once by the
  holder that posted it (see :mod:`slacknb.frameworks.optuna`).

The rule (:meth:`Lease.acquire`), for a process that wants the lease:

1. A live lease (not released, ``until`` ahead) of another process: not now.
2. Write my claim, stamped with my wall clock; wait ``settle`` seconds; read everything again.
3. A live lease of another appeared: lost. Else, among the claims younger than
   ``claim_life``, the smallest ``(at, id)`` wins. If it is mine I write the lease (for
   ``term`` seconds) and hold it; otherwise I try again later.

A holder whose ``optimize`` ends *offers* the lease (:meth:`Lease.offer`: ``leaving`` in the
record): bidders then bid as if there were no lease, and the winner writes the lease over
it; the leaving holder goes on editing until it reads that (every tick), so the board is
never left without an editor while others still run trials. If nobody bids within
``settle``, it renders a last time, waits for that edit to be in Slack, and releases.

Why one winner: of two claims a < b, b's owner reads ``settle`` after writing b; had a not
been visible yet, a would have been written after that read, so stamped later than b,
unless the two clocks differ by more than ``settle`` (minus the storage's write latency).
A winner writes the lease at once, and every later round sees it; a claim older than
``claim_life`` belongs to a round that is over. The holder renews the lease while it
lives, keeps the version it has shown in it (:mod:`slacknb.frameworks.optuna` makes sure
no process ends before the board shows its trials), and releases it when its optimize
ends (withdrawing its claim, so the next round need not wait for it to age).

Failure cases, and what happens:

- The holder dies (killed, machine lost): its lease expires ``term`` seconds after its last
  renewal, and a process that still runs trials takes over (the board is not edited meanwhile).
- The holder dies after winning, before writing the lease: its claim ages out after
  ``claim_life`` and the next round has another winner.
- The holder dies after posting the board, before recording it: the next holder posts
  another (the first one stays as it was last edited).
- Clocks apart by more than ``settle``, or a holder stalled longer than ``term`` (it checks its
  own lease before every edit and gives the lease up once it is past ``term - settle``
  by its own clock): two holders are possible for a moment. Then two boards could be posted,
  or edits of two processes interleave until the next render; every process
  still follows the recorded ``slacknb:board``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from slacknb.runtime.clock import Clock, as_clock

__all__ = ["BOARD_KEY", "CLAIM_PREFIX", "LEASE_KEY", "Lease", "LeaseRecord", "winner"]

CLAIM_PREFIX = "slacknb:claim:"
LEASE_KEY = "slacknb:lease"
BOARD_KEY = "slacknb:board"


@dataclass(frozen=True)
class LeaseRecord:
    """The lease as the storage holds it."""

    holder: str
    until: float
    shown: int = -1
    released: bool = False
    leaving: bool = False

    def live(self, now: float) -> bool:
        return not self.released and self.until > now

    def open(self, now: float) -> bool:
        """True when anyone may bid: no live lease, or its holder is leaving."""
        return not self.live(now) or self.leaving

    @classmethod
    def read(cls, attrs: Mapping[str, Any]) -> "LeaseRecord | None":
        raw = attrs.get(LEASE_KEY)
        if not isinstance(raw, dict):
            return None
        try:
            return cls(str(raw["holder"]), float(raw["until"]), int(raw.get("shown", -1)), bool(raw.get("released")),
                       bool(raw.get("leaving")))
        except (KeyError, TypeError, ValueError):
            return None  # not ours, or damaged: as if there were none


def winner(attrs: Mapping[str, Any], *, now: float, claim_life: float) -> str | None:
    """The id of the smallest live claim ``(at, id)`` in ``attrs``, or None when there is none."""
    live = []
    for key, value in attrs.items():
        if not key.startswith(CLAIM_PREFIX) or not isinstance(value, dict):
            continue
        at = value.get("at")
        if isinstance(at, (int, float)) and not isinstance(at, bool) and now - claim_life < at <= now + claim_life:
            live.append((float(at), key[len(CLAIM_PREFIX):]))
    return min(live)[1] if live else None


class Lease:
    """One process's side of the lease over ``read`` (the study's attributes) and
    ``write(key, value)``.

    ``clock`` (:class:`~slacknb.runtime.clock.Clock`) gives wall-clock seconds, comparable across
    machines (``time()``), and waits; ``me`` is
    this process's id. Not thread-safe: one thread (the board's) drives it; :meth:`close`
    (any thread) ends a wait.
    """

    def __init__(self, read: Callable[[], Mapping[str, Any]], write: Callable[[str, Any], None], *, me: str,
                 clock: Clock | None = None, settle: float = 1.0, claim_life: float = 3.0,
                 term: float = 10.0, renew: float = 2.0):
        if not settle < claim_life or not renew + settle < term:
            raise ValueError("the lease needs settle < claim_life and renew + settle < term")
        self._read, self._write = read, write
        self.me = me
        self._clock = as_clock(clock)
        self.settle, self.claim_life, self.term, self.renew = settle, claim_life, term, renew
        self._held_until: float | None = None  # by my own clock: the lease I wrote last
        self.leaving = False  # I offered the lease (my optimize ended): others may take it over
        self._renewed_at = 0.0
        self._closed = False
        self._wake = threading.Condition()

    @property
    def held(self) -> bool:
        """True while I hold the lease with at least ``settle`` of it left, by my own clock."""
        return self._held_until is not None and self._clock.time() < self._held_until - self.settle

    def record(self) -> LeaseRecord | None:
        """The lease as the storage has it now."""
        return LeaseRecord.read(self._read())

    def acquire(self, shown: int = -1) -> bool:
        """One round of the rule above (waits ``settle`` on the caller's thread); True when I hold it."""
        if self.held:
            return True
        record = self.record()
        if record is not None and not record.open(self._clock.time()) and record.holder != self.me:
            return False
        self._write(CLAIM_PREFIX + self.me, {"at": self._clock.time()})
        if not self._pause(self.settle):
            return False
        attrs = self._read()
        now = self._clock.time()
        record = LeaseRecord.read(attrs)
        if record is not None and not record.open(now) and record.holder != self.me:
            return False
        if winner(attrs, now=now, claim_life=self.claim_life) != self.me:
            return False
        shown = max(shown, record.shown if record is not None else -1)
        self.leaving = False
        self._take(now, shown)
        return True

    def keep(self, shown: int) -> bool:
        """Renew the lease when it is due (with the version shown); False once it is no longer mine."""
        if self._held_until is None:
            return False
        now = self._clock.time()
        if now - self._renewed_at < self.renew and not self.leaving:
            return self.held  # a leaving holder looks every time: a successor may have taken over
        record = self.record()
        if record is None or record.holder != self.me or record.released or not self.held:
            self._held_until, self.leaving = None, False  # taken over (offered, or I stalled): not mine
            return False
        if now - self._renewed_at >= self.renew:
            self._take(now, max(shown, record.shown))
        return True

    def offer(self, shown: int) -> None:
        """My optimize ended: others may take the lease over; I hold it (and edit) until one does."""
        if self._held_until is not None and not self.leaving:
            self.leaving = True
            self._take(self._clock.time(), shown)
            self._write(CLAIM_PREFIX + self.me, {"at": None})  # withdrawn: a bidder need not wait for it to age

    def stay(self, shown: int) -> None:
        """An optimize runs here again: the lease is no longer offered."""
        if self._held_until is not None and self.leaving:
            self.leaving = False
            self._take(self._clock.time(), shown)

    def bidders(self) -> bool:
        """True when another process has a live claim (it bids for the lease)."""
        attrs = self._read()
        now = self._clock.time()
        return any(winner({key: value}, now=now, claim_life=self.claim_life) not in (None, self.me)
                   for key, value in attrs.items() if key.startswith(CLAIM_PREFIX))

    def board(self) -> tuple | None:
        """The board message ``(channel, ts)`` recorded in the study, if any."""
        raw = self._read().get(BOARD_KEY)
        if isinstance(raw, dict) and raw.get("channel") and raw.get("ts"):
            return str(raw["channel"]), str(raw["ts"])
        return None

    def record_board(self, channel: str, ts: str) -> None:
        """Record the board message in the study (by the holder that posted it)."""
        self._write(BOARD_KEY, {"channel": channel, "ts": ts})

    def release(self, shown: int) -> None:
        """Give the lease up, saying which version the board shows; withdraw my claim."""
        if self._held_until is None:
            return
        self._held_until, self.leaving = None, False
        now = self._clock.time()
        self._write(LEASE_KEY, {"holder": self.me, "until": now, "shown": shown, "released": True})
        self._write(CLAIM_PREFIX + self.me, {"at": None})

    def close(self) -> None:
        """End a wait in :meth:`acquire` now (it then fails); later rounds fail at once."""
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _take(self, now: float, shown: int) -> None:
        self._write(LEASE_KEY, {"holder": self.me, "until": now + self.term, "shown": shown, "released": False,
                                "leaving": self.leaving})
        self._held_until = now + self.term
        self._renewed_at = now

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False when closed meanwhile."""
        with self._wake:
            self._clock.wait(self._wake, lambda: self._closed, seconds)
            return not self._closed
