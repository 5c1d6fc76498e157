"""What comes out of the Slack path: the published :class:`MirrorState` and the notices for a person.

The worker publishes where the message stands as one frozen :class:`MirrorState` (the one
event the views follow: subscribers get each new state, on the worker's thread) and keeps what
a person must be told (a fix, an unresolved mention, a skipped chart) as notices, which the
caller takes on its own thread. Every text is scrubbed of secrets before it is kept.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from typing import Callable, Mapping

__all__ = ["MirrorState", "Publisher", "SlackMirrorWarning"]


class SlackMirrorWarning(UserWarning):
    """Something about Slack mirroring a person should know; the local report is unaffected."""


@dataclass(frozen=True)
class MirrorState:
    """Where the Slack mirror stands. Never contains a token."""

    status: str
    """One of "local", "posting", "sending", "synced", "retrying", "rate_limited", "disabled"."""
    detail: str = ""
    """Why, in words a person can act on."""
    next_attempt_in: float | None = None
    """Seconds until the next try, when waiting (backoff, Retry-After, min_interval)."""
    permalink: str | None = None
    channel_id: str | None = None
    ts: str | None = None
    sent_text: str | None = None
    """Exactly what the Slack message shows now, as far as we know (None when unknown)."""
    api_calls: int = 0
    budget: int | None = None
    """The UTF-8 byte budget Slack's msg_too_long taught (None: Slack's usual limit): render within it."""
    mentions: str = ""
    """The finish mentions resolved so far, as Slack control sequences (may be "")."""
    final_mentions: str | None = None
    """How the final text names them, once it was sent: :attr:`mentions`, or plain names when the
    final text was the message's first post (a new message with a mention would notify twice)."""
    names: Mapping[str, str] = field(default_factory=dict)
    """User ID -> the name Slack shows for it (``alice``), for the people looked up."""
    delivering: bool = False
    """True while the end of the run is on its way to Slack (after the run returned)."""
    problems: tuple[str, ...] = ()
    """What went wrong that a person should know (a missing scope, an unresolved mention,
    what did not arrive), each once, in the order found."""


class Publisher:
    """The latest :class:`MirrorState`, its subscribers, and the notices not yet taken.

    ``scrub`` makes any text fit to show (secrets hidden).
    """

    def __init__(self, *, scrub: Callable[[str], str], on_state: Callable[[MirrorState], object] | None = None,
                 mentions: str = "") -> None:
        self._scrub = scrub
        self._subscribers = [on_state] if on_state is not None else []
        self._lock = threading.Lock()
        self._notices: list[str] = []
        self.state = MirrorState("posting", "nothing sent yet: the first update posts the message", mentions=mentions)

    def publish(self, state: MirrorState) -> None:
        """Make ``state`` the latest (its detail scrubbed) and tell the subscribers, unless nothing changed."""
        state = dataclasses.replace(state, detail=self._scrub(state.detail), problems=self.state.problems)
        self._show(state)

    def update(self, **changes) -> None:
        """The latest state with ``changes`` (e.g. ``delivering=True``), published at once."""
        self._show(dataclasses.replace(self.state, **changes))

    def mute(self) -> None:
        """Tell the subscribers nothing more (a kernel shutting down: its displays are going away)."""
        with self._lock:
            self._subscribers = []

    def _show(self, state: MirrorState) -> None:
        with self._lock:
            if state == self.state:
                return
            self.state = state
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(state)
            except Exception:  # noqa: BLE001 - a display callback must not stop mirroring
                pass

    def subscribe(self, callback: Callable[[MirrorState], object]) -> None:
        """Call ``callback`` with every state published from now on."""
        with self._lock:
            self._subscribers.append(callback)

    def notify(self, text: str, *, notice: bool = True) -> None:
        """Add ``text`` to the state's problems (once) and, with ``notice``, keep it for the
        caller to warn about."""
        text = self._scrub(text)
        with self._lock:
            if text in self.state.problems:
                return
            if notice:
                self._notices.append(text)
        self._show(dataclasses.replace(self.state, problems=self.state.problems + (text,)))

    @property
    def has_notices(self) -> bool:
        """True while some notice was not taken yet."""
        return bool(self._notices)

    def take_notices(self) -> list[str]:
        """The notices not taken yet, once each."""
        with self._lock:
            notices, self._notices = self._notices, []
            return notices
