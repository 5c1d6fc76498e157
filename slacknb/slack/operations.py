"""What goes into the outbox: typed operations carrying plain data, never a callback.

The mirror turns what the run says into these frozen values and hands them to the one worker
(:mod:`slacknb.slack.outbox`). An :class:`Edit` is the report message's text; a :class:`Note`
a reply in its thread during the run (posted once, edited in place); the end of a run is the
final Edit, then :class:`Reply` values (the failure alert, the finish reply that notifies),
then :class:`Upload` values (the chart: what to draw, drawn on the worker by the pure chart
engine). Nothing on the worker calls back up into the mirror or the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from slacknb.core.alerts import ALERTED, failure_alert, finish_reply
from slacknb.core.chart import Drawing
from slacknb.core.state import Status

__all__ = ["ALERT", "FINISH", "Edit", "Note", "Operation", "Reply", "Upload", "end_of_run"]

ALERT = "failure alert"
FINISH = "finish reply"


@dataclass(frozen=True)
class Edit:
    """Make the report message show ``text`` (posting it first if there is none yet).

    ``blocks`` are Block Kit blocks sent with the text; None leaves the message's blocks as
    they are (chat.update without ``blocks`` keeps the old ones), ``[]`` removes them.
    ``final`` marks the end of the run: delivered exactly, never held for ``min_interval``;
    its mention slot (:func:`slacknb.core.mentions.mention_slot`) is filled on the worker.
    ``keep`` are strings a cut to Slack's size must not lose (the status, the mentions).
    """

    text: str
    blocks: tuple | None = None
    final: bool = False
    keep: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A reply in the report's thread during the run (e.g. "Stalled: ..."), one per ``key``:
    posted once, then edited in place when a newer Note with the same key says otherwise. A
    mention slot in its text (:func:`slacknb.core.mentions.mention_slot`) is filled on the worker."""

    key: str
    text: str


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
                                 prefix=self.prefix, outcome=self.outcome)
        return finish_reply(outcome=self.outcome, elapsed=self.elapsed, label=self.label, mentions=mentions)


@dataclass(frozen=True)
class Upload:
    """A file in the message's thread, uploaded exactly once: the run's chart, as data to draw."""

    drawing: Drawing
    title: str = ""
    kind: str = "chart"

    @property
    def filename(self) -> str:
        return self.drawing.filename


Operation = Edit | Note | Reply | Upload


def end_of_run(text: str | None, *, outcome: Status, elapsed: str, label: str = "", alert_label: str = "",
               error: str | None = None, traceback_tail: str | None = None, console_tail: str | None = None,
               prefix: str = "", alert: bool = True, mention: bool = True, blocks=None, keep: tuple[str, ...] = (),
               uploads: tuple[Upload, ...] = ()) -> list[Operation]:
    """The end of a run in delivery order: the final edit (``text`` None: this process edits
    no message), the failure alert (an alerted ending, ``alert``), the finish reply
    (``mention``), then the uploads (only with a message of its own)."""
    operations: list[Operation] = []
    if text is not None:
        operations.append(Edit(text, blocks=None if blocks is None else tuple(blocks), final=True, keep=keep))
    if outcome in ALERTED and alert:
        operations.append(Reply(ALERT, outcome, elapsed, alert_label, error, traceback_tail, console_tail, prefix))
    if mention and text is not None:
        operations.append(Reply(FINISH, outcome, elapsed, label))
    return operations + (list(uploads) if text is not None else [])
