"""What goes into the outbox (typed operations) and what comes out (:class:`MirrorState`).

The mirror turns what the run says into these frozen values and hands them to the one
worker (:mod:`slacknb.slack.outbox`); they carry plain data only, never a callback, so
nothing on the worker calls back up into the mirror or the run.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from typing import Callable

from slacknb.core.alerts import failure_alert, finish_reply
from slacknb.core.state import Status
from slacknb.slack.errors import scrub

__all__ = ["ALERT", "FINISH", "Edit", "MirrorState", "Operation", "Publisher", "Reply", "Upload", "end_of_run"]

ALERT = "failure alert"
FINISH = "finish reply"


@dataclass(frozen=True)
class Edit:
    """Make the report message show ``text`` (posting it first if there is none yet).

    ``blocks`` are Block Kit blocks sent with the text; None leaves the message's blocks as
    they are (chat.update without ``blocks`` keeps the old ones), ``[]`` removes them.
    ``final`` marks the end of the run: delivered exactly, never held for ``min_interval``.
    ``keep`` are strings a cut to Slack's size must not lose (the status, the mentions).
    """

    text: str
    blocks: tuple | list | None = None
    final: bool = False
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A thread reply at the end of a run, composed on the worker from plain data.

    ``kind`` is :data:`ALERT` (the failure alert) or :data:`FINISH` (the reply that
    notifies the mentions, resolved on the worker before it is composed).
    """

    kind: str
    outcome: Status
    elapsed: str
    label: str = ""
    error: str | None = None
    traceback_tail: str | None = None
    console_tail: str | None = None
    prefix: str = ""

    def compose(self, mentions: str) -> str:
        """The reply's text; ``mentions`` is the resolved control-sequence markup."""
        if self.kind == ALERT:
            return failure_alert(elapsed=self.elapsed, label=self.label, error=self.error,
                                 traceback_tail=self.traceback_tail, console_tail=self.console_tail,
                                 prefix=self.prefix)
        return finish_reply(outcome=self.outcome, elapsed=self.elapsed, label=self.label, mentions=mentions)


@dataclass(frozen=True)
class Upload:
    """A file in the message's thread (e.g. the run's chart), uploaded exactly once.

    ``draw`` is a zero-argument pure callable returning the file's bytes (PNG), or None
    when there is nothing to upload; it runs on the worker, so drawing never delays the run.
    """

    draw: Callable[[], bytes | None]
    filename: str = "chart.png"
    title: str = ""
    kind: str = "chart"


Operation = Edit | Reply | Upload


def end_of_run(text: str | None, *, outcome: Status, elapsed: str, label: str = "", alert_label: str = "",
               error: str | None = None, traceback_tail: str | None = None, console_tail: str | None = None,
               prefix: str = "", alert: bool = True, mention: bool = True, blocks=None, keep: tuple[str, ...] = (),
               uploads: tuple[Upload, ...] = ()) -> list[Operation]:
    """The end of a run in delivery order: the final edit (``text`` None: this process edits
    no message), the failure alert (a Failed run, ``alert``), the finish reply (``mention``),
    then the uploads (only with a message of its own)."""
    operations: list[Operation] = []
    if text is not None:
        operations.append(Edit(text, blocks=None if blocks is None else tuple(blocks), final=True, keep=keep))
    if outcome in (Status.FAILED, Status.TERMINATED) and alert:
        operations.append(Reply(ALERT, outcome, elapsed, alert_label, error, traceback_tail, console_tail, prefix))
    if mention and text is not None:
        operations.append(Reply(FINISH, outcome, elapsed, label))
    return operations + (list(uploads) if text is not None else [])


@dataclass(frozen=True)
class MirrorState:
    """Where the Slack mirror stands. Never contains the token."""

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
    """The mentions resolved so far, as Slack control sequences (may be "")."""
    delivering: bool = False
    """True while the end of the run is on its way to Slack (after the run returned)."""


class Publisher:
    """What the worker says, as data: the latest :class:`MirrorState` and the notices for a person.

    ``on_state`` (the views' subscription, at the edge) gets each new state on the worker
    thread; notices wait for the caller to warn on its own thread. The token is scrubbed.
    """

    def __init__(self, message, *, on_state: Callable[[MirrorState], object] | None = None,
                 token: str | None = None, mentions: str = "") -> None:
        self._message = message
        self._subscribers = [on_state] if on_state is not None else []
        self._token = token
        self._lock = threading.Lock()
        self.notices: list[str] = []
        self.state = MirrorState("posting", "nothing sent yet: the first update posts the message", mentions=mentions)

    def publish(self, status: str, detail: str, wait: float | None, *, mentions: str, delivering: bool) -> None:
        """Publish the message's state now, unless nothing changed."""
        message = self._message
        if message.note and status != "disabled":
            detail = f"{detail} (note: {message.note})"
        self._show(MirrorState(status=status, detail=scrub(detail, self._token),
                               next_attempt_in=None if wait is None else max(0.0, round(wait, 3)),
                               permalink=message.permalink, channel_id=message.channel_id, ts=message.ts,
                               sent_text=message.sent_text, api_calls=message.api.calls, budget=message.budget,
                               mentions=mentions, delivering=delivering))

    def delivering(self) -> None:
        """The end of the run was handed over: the state says so at once, whatever the worker does."""
        self._show(dataclasses.replace(self.state, delivering=True))

    def _show(self, state: MirrorState) -> None:
        with self._lock:
            if state == self.state:
                return
            self.state = state
        for subscriber in list(self._subscribers):
            try:
                subscriber(state)
            except Exception:  # noqa: BLE001 - a display callback must not stop mirroring
                pass

    def subscribe(self, callback: Callable[[MirrorState], object]) -> None:
        """Call ``callback`` with every state published from now on."""
        self._subscribers.append(callback)

    def notify(self, text: str) -> None:
        """Keep ``text`` for the caller to warn about."""
        with self._lock:
            self.notices.append(scrub(text, self._token))

    def take_notices(self) -> list[str]:
        """The notices not taken yet, once each."""
        with self._lock:
            notices, self.notices = self.notices, []
            return notices
