"""The end of a run in the report's thread: replies and uploads, each exactly once; the read-back.

:func:`send` makes one API call towards one :class:`Delivery` (a
:class:`~slacknb.slack.operations.Reply` or :class:`~slacknb.slack.operations.Upload`)
and returns a :class:`~slacknb.slack.message.Step`, like the report message's steps.

A reply carries its own id in the message metadata. After an unknown outcome (a timeout,
``fatal_error``, HTTP 5xx) it is looked for with ``conversations.replies`` (or the channel
history when it went to the channel itself) before it is sent again. An upload
(``files_upload_v2``: the two-step external upload) is made once: a 429 or a fault is
waited out and tried again, after looking in the thread for the file when the fault may
have come after it was shared; ``missing_scope``, ``not_in_channel`` or a repeated unknown
error skips it with one problem text naming the fix, and the rest of the end of the run
is still delivered. :func:`verify`
reads the report back after a timed-out edit, which Slack may still apply later.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from slacknb.core.slack_text import cut
from slacknb.slack.errors import Kind
from slacknb.slack.limits import Hold
from slacknb.slack.message import AGAIN, DONE, HISTORY_LIMIT, MAX_CHARS, SlackMessage, Step, next_budget, payload
from slacknb.slack.operations import Edit, Operation, Reply, Upload

__all__ = ["Delivery", "EndOfRun", "send", "shortfall", "verify"]

REPLY_CHARS = 3900
UPLOAD_TRIES = 3  # unknown errors an upload is tried again after


@dataclass
class Delivery:
    """One end-of-run operation on its way: what the worker knows about it so far."""

    op: Reply | Upload
    reply_id: str = field(default_factory=lambda: secrets.token_hex(8))
    text: str | None = None
    """The reply's text, composed once (so a repeat is the same message)."""
    uncertain: bool = False
    check_after: float = 0.0
    done: bool = False
    ts: str | None = None
    problem: str = ""
    """Why an upload was skipped, in words naming the fix ("" when it was not)."""
    data: bytes | None = field(default=None, repr=False)
    tries: int = 0
    """Unknown errors of an upload so far (a few are tried again, then it is skipped)."""

    @property
    def key(self) -> str:
        """Short name used in messages: "failure alert", "finish reply", "chart"."""
        return self.op.kind


class EndOfRun:
    """The end of a run in order: the final edit (None: this stream edits no message), then
    the replies and uploads. Delivered when Slack shows the final edit and each went out once."""

    def __init__(self, operations: list[Operation]) -> None:
        self.final: Edit | None = next((op for op in operations if isinstance(op, Edit)), None)
        self.deliveries = [Delivery(op) for op in operations if not isinstance(op, Edit)]
        self._final_ts: str | None = None  # ts of the message that showed the final edit

    def final_shown(self, message: SlackMessage) -> bool:
        """True when the report message (still) shows the final edit."""
        if self.final is None:
            return True
        return self._final_ts is not None and self._final_ts == message.ts and message.sent_text is not None

    def shown(self, message: SlackMessage) -> None:
        """The final edit just went out."""
        self._final_ts = message.ts

    def pending(self) -> Delivery | None:
        """The next reply or upload to send."""
        return next((d for d in self.deliveries if not d.done), None)

    def undelivered(self, message: SlackMessage) -> list[str]:
        """What has not arrived yet, in order, for the caller's warning."""
        missing = [] if self.final_shown(message) else ["the final report edit"]
        return missing + [d.key for d in self.deliveries if not d.done]


def shortfall(missing: list[str], *, waited: float, failure, more: float | None) -> str:
    """The one warning about an end of run Slack did not receive within ``waited`` seconds.

    ``more``: seconds the worker goes on trying in the background (None: it gave up).
    """
    missing = missing or ["the end-of-run messages"]
    what = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
    why = f" (last problem: {failure.fix or failure.error})" if failure else ""
    goes_on = "" if more is None else f"; still trying in the background for up to {more:g} s more"
    return f"Slack did not receive {what} within {waited:g} s{why}{goes_on}; the report is complete locally"


def send(message: SlackMessage, delivery: Delivery, *, mentions: str = "") -> Step:
    """One API call towards ``delivery`` being in the message's thread exactly once.

    ``mentions`` is the resolved markup a finish reply notifies. A stream without a message
    ``ts`` (see :meth:`SlackMessage.attach`) posts a reply to the channel instead.
    """
    if isinstance(delivery.op, Upload):
        return _upload(message, delivery)
    if delivery.uncertain:
        return _find(message, delivery)
    if delivery.text is None:
        delivery.text = delivery.op.compose(mentions)
    text = delivery.text if len(delivery.text) <= MAX_CHARS else cut(delivery.text, REPLY_CHARS)
    where = message.where
    sent = message.clock.now()
    answer = message.api.call("chat.postMessage", urgent=True, channel=where, thread_ts=message.ts, text=text,
                              metadata=message.metadata(delivery.reply_id), unfurl_links=False)
    if answer.hold:
        return Step.held(answer)
    failure = answer.failure
    if failure is None:
        message.channel_id = message.channel_id or answer.data.get("channel")
        delivery.done = True
        delivery.ts = answer.data.get("ts")
        return DONE
    if failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
        delivery.uncertain = True
        delivery.check_after = sent + message.settle if failure.timed_out else 0.0
    if failure.kind is Kind.TOO_LONG:
        delivery.text = cut(text, next_budget(text))
        return AGAIN
    if failure.kind is Kind.MESSAGE_GONE:
        # The thread's parent is gone: the report is posted again (when this stream owns
        # one), then the replies; otherwise the reply stands alone in the channel.
        message.forget()
        return AGAIN
    return message.on_failure(failure, text)


def verify(message: SlackMessage) -> Step:
    """Read the message back once a timed-out edit could have landed; if an older text
    won, forget ``sent_text`` so that the final text is sent again (one API call)."""
    if message.verify_after is None or message.ts is None:
        return DONE
    wait = message.verify_after - message.clock.now()
    if wait > 0:
        return Step("wait", hold=Hold.SETTLING, wait=wait)
    answer = message.api.call("conversations.history", urgent=True, channel=message.channel_id,
                              latest=message.ts, oldest=message.ts, inclusive=True, limit=1)
    if answer.hold:
        return Step.held(answer)
    if answer.failure is not None:
        if answer.failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
            return Step("wait", answer.failure)
        message.verify_after = None
        message.note = (
            f"could not read the message back after a timed-out edit ({answer.failure.error}), so an older "
            "text may show: add the channels:history / groups:history scope to the Slack app"
        )
        return DONE
    message.verify_after = None
    shown = next((m.get("text") for m in answer.data.get("messages") or [] if m.get("ts") == message.ts), None)
    if shown is None:
        message.forget()
    elif shown != message.sent_text:
        message.sent_text = None
    return AGAIN


def _find(message: SlackMessage, delivery: Delivery) -> Step:
    wait = delivery.check_after - message.clock.now()
    if wait > 0:
        return Step("wait", hold=Hold.SETTLING, wait=wait)
    where = message.where
    if message.ts is None:  # posted to the channel itself (see attach)
        answer = message.api.call("conversations.history", urgent=True, channel=where, limit=HISTORY_LIMIT,
                                  include_all_metadata=True)
    else:
        answer = message.api.call("conversations.replies", urgent=True, channel=where, ts=message.ts,
                                  include_all_metadata=True, limit=200)
    if answer.hold:
        return Step.held(answer)
    if answer.failure is not None:
        if answer.failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
            return Step("wait", answer.failure)
        message.note = (
            f"could not check whether an interrupted reply went through ({answer.failure.error}), so it was sent "
            "again and may show twice: add the channels:history / groups:history scope to the Slack app"
        )
        delivery.uncertain = False
        return AGAIN
    delivery.uncertain = False
    for found in answer.data.get("messages") or []:
        if payload(found).get("reply") == delivery.reply_id:
            delivery.done = True
            delivery.ts = found.get("ts")
            return DONE
    return AGAIN


def _upload(message: SlackMessage, delivery: Delivery) -> Step:
    upload = delivery.op
    if delivery.uncertain:
        return _find_upload(message, delivery)
    if delivery.text is None:  # not drawn yet: draw once, on this (the worker's) thread
        try:
            data = upload.draw()
        except Exception as exc:  # noqa: BLE001 - a drawing bug costs the chart, not the report
            return _skip(delivery, f"the {upload.kind} could not be drawn ({type(exc).__name__}: {exc})")
        if not data:
            delivery.done = True  # nothing to show
            return DONE
        delivery.data = bytes(data)
        delivery.text = upload.filename
    arguments = {"thread_ts": message.ts} if message.ts else {}
    sent = message.clock.now()
    answer = message.api.call("files.upload_v2", urgent=True, channel=message.where, file=delivery.data,
                              filename=upload.filename, title=upload.title or upload.filename, **arguments)
    if answer.hold:
        return Step.held(answer)
    failure = answer.failure
    if failure is None:
        return _shared(delivery)
    if failure.kind is Kind.RATE_LIMITED:
        return Step("wait", failure)  # a 429 was not carried out: try again after Retry-After
    if failure.kind is Kind.TRANSIENT or (failure.kind is Kind.UNEXPECTED and delivery.tries < UPLOAD_TRIES):
        delivery.tries += failure.kind is Kind.UNEXPECTED
        if failure.maybe_performed:
            # files.completeUploadExternal may have shared it before the answer was lost:
            # look in the thread before sending it again, so the chart never shows twice.
            delivery.uncertain = True
            delivery.check_after = sent + message.settle if failure.timed_out else 0.0
        return Step("wait", failure)
    if failure.error == "missing_scope":
        why = "add the files:write scope to the Slack app and reinstall it"
    elif failure.kind is Kind.NOT_IN_CHANNEL:
        why = f"uploads need the bot in the channel: run /invite @yourbot in {message.where}"
    else:
        why = failure.fix or failure.error
    return _skip(delivery, f"the {upload.kind} was not uploaded ({failure.error}): {why}")


def _find_upload(message: SlackMessage, delivery: Delivery) -> Step:
    """Is the file in the thread already (ours: the only file of that name the bot put there)?"""
    wait = delivery.check_after - message.clock.now()
    if wait > 0:
        return Step("wait", hold=Hold.SETTLING, wait=wait)
    if message.ts is None:
        answer = message.api.call("conversations.history", urgent=True, channel=message.where, limit=HISTORY_LIMIT)
    else:
        answer = message.api.call("conversations.replies", urgent=True, channel=message.where, ts=message.ts,
                                  limit=200)
    if answer.hold:
        return Step.held(answer)
    if answer.failure is not None:
        if answer.failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
            return Step("wait", answer.failure)
        return _skip(delivery, f"could not check whether the {delivery.op.kind} was shared before a fault "
                               f"({answer.failure.error}), so it was not sent twice: add the channels:history / "
                               "groups:history scope to the Slack app")
    delivery.uncertain = False
    for found in answer.data.get("messages") or []:
        if found.get("bot_id") and any(f.get("name") == delivery.op.filename for f in found.get("files") or []):
            return _shared(delivery)
    return AGAIN


def _shared(delivery: Delivery) -> Step:
    delivery.done = True
    delivery.data = None
    return DONE


def _skip(delivery: Delivery, problem: str) -> Step:
    delivery.done = True
    delivery.data = None
    delivery.problem = problem
    return DONE
