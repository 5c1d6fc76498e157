"""What goes into the outbox (typed operations) and what comes out (:class:`MirrorState`).

The mirror turns what the run says into these frozen values and hands them to the one
worker (:mod:`slacknb.slack.outbox`); they carry plain data only, never a callback, so
nothing on the worker calls back up into the mirror or the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from slacknb.core.alerts import failure_alert, finish_reply
from slacknb.core.state import Status

__all__ = ["ALERT", "FINISH", "Edit", "MirrorState", "Operation", "Reply", "Upload"]

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
