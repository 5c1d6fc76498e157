"""The report's thread: replies (at the end of a run, and notes during it) and uploads, each exactly once.

:func:`send` makes one API call towards one :class:`Delivery` and returns a
:class:`~slacknb.slack.message.Step`, like the report message's steps. A reply carries its own id
in the message metadata; a note is a reply that is later edited in place (``chat.update``) when
its text changes.

An upload is Slack's three steps, each its own call: ``files.getUploadURLExternal`` (a URL for
the bytes), the bytes POSTed there, ``files.completeUploadExternal`` (shares the file into the
thread). Only the last can have shared anything, so only after a fault of that call that may
have been carried out is the thread read before trying again. ``missing_scope``,
``not_in_channel`` or a repeated unknown error skips the upload with one problem text naming the
fix; the rest of the end of the run is still delivered.

After an unknown outcome (a timeout, ``fatal_error``, HTTP 5xx) :func:`look` reads the thread
once (:meth:`~slacknb.slack.message.SlackMessage.read`, the one history look-up) and settles
every delivery that was waiting to be looked for, so the thread is read sparingly (new apps
outside the Marketplace get one history read a minute).
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import dataclass, field

from slacknb.core.chart import ChartsUnavailable, chart_png, missing_once
from slacknb.core.mentions import fill_slot
from slacknb.core.slack_text import cut
from slacknb.slack.api import UPLOAD_BYTES
from slacknb.slack.errors import Failure, Kind
from slacknb.slack.message import AGAIN, DONE, MAX_CHARS, SlackMessage, Step, next_budget, payload
from slacknb.slack.operations import Note, Reply, Upload

__all__ = ["Delivery", "look", "send"]

REPLY_CHARS = 3900
UPLOAD_TRIES = 3  # unknown errors (or failed byte transfers) an upload is tried again after


@dataclass
class Delivery:
    """One reply, note or upload on its way: what the worker knows about it so far."""

    op: Reply | Note | Upload
    reply_id: str = field(default_factory=lambda: secrets.token_hex(8))
    text: str | None = None
    """The reply's text, composed once (so a repeat is the same message); a note's newest text."""
    shown: str | None = None
    """Which of the note's texts Slack shows now (None: not known to show anything)."""
    uncertain: bool = False
    """Sent, but the answer was lost: look in the thread before sending again."""
    check_after: float = 0.0
    done: bool = False
    ts: str | None = None
    problem: str = ""
    """Why an upload was skipped, in words naming the fix ("" when it was not)."""
    data: bytes | None = field(default=None, repr=False)
    file_id: str | None = None
    upload_url: str | None = field(default=None, repr=False)
    sent_bytes: bool = False
    tries: int = 0

    @property
    def key(self) -> str:
        """Short name used in messages: "failure alert", "finish reply", "chart", a note's key."""
        return self.op.key if isinstance(self.op, Note) else self.op.kind

    @property
    def essential(self) -> bool:
        """True for what people wait for (the replies); an upload is extra."""
        return not isinstance(self.op, Upload)

    @property
    def due(self) -> bool:
        """True while there is something to send (a note whose newest text is not shown)."""
        if isinstance(self.op, Note):
            return self.ts is None or self.shown != self.text or self.uncertain
        return not self.done


def send(message: SlackMessage, delivery: Delivery, *, mentions: str = "") -> Step:
    """One API call towards ``delivery`` being in the message's thread exactly once.

    ``mentions`` is the resolved markup a finish reply notifies. A stream without a message
    ``ts`` (see :meth:`SlackMessage.attach`) posts a reply to the channel instead.
    """
    if delivery.uncertain:
        return look(message, [delivery])
    if isinstance(delivery.op, Upload):
        return _upload(message, delivery)
    if delivery.text is None:
        delivery.text = delivery.op.compose(mentions)
    text = fill_slot(delivery.text, mentions)  # a note names the people found by now
    text = text if len(text) <= MAX_CHARS else cut(text, REPLY_CHARS)
    if delivery.ts is not None:  # a note posted before, whose text changed
        answer = message.api.call("chat.update", urgent=True, channel=message.where, ts=delivery.ts, text=text)
    else:
        answer = message.api.call("chat.postMessage", urgent=True, channel=message.where, thread_ts=message.ts,
                                  text=text, metadata=message.metadata(delivery.reply_id), unfurl_links=False)
    if answer.hold:
        return Step.held(answer)
    failure = answer.failure
    if failure is None:
        message.channel_id = message.channel_id or answer.data.get("channel")
        delivery.ts = delivery.ts or answer.data.get("ts")
        delivery.shown, delivery.done = delivery.text, True  # the text as given, slot and all
        return DONE
    if failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
        if delivery.ts is None:
            delivery.uncertain = True
            delivery.check_after = answer.sent_at + message.settle if failure.timed_out else 0.0
        else:
            delivery.shown = None  # an edit: it may or may not show; sending it again is harmless
    if failure.kind is Kind.TOO_LONG:
        delivery.text = cut(text, next_budget(text))
        return AGAIN
    if failure.kind is Kind.MESSAGE_GONE:
        if delivery.ts is not None:  # the note was deleted: post it again
            delivery.ts = delivery.shown = None
            return AGAIN
        # The thread's parent is gone: the report is posted again (when this stream owns
        # one), then the replies; otherwise the reply stands alone in the channel.
        message.forget()
        return AGAIN
    return message.on_failure(failure, text)


def look(message: SlackMessage, deliveries: list[Delivery]) -> Step:
    """Read the thread once and settle every uncertain delivery in ``deliveries``: found there
    (done), or not (sent again next)."""
    uncertain = [d for d in deliveries if d.uncertain]
    if not uncertain:
        return AGAIN
    settling = Step.settling(max(d.check_after for d in uncertain), message.clock.now())
    if settling is not None:
        return settling
    found = message.read_back("could not check whether an interrupted reply went through, so it was sent "
                              "again and may show twice", thread_ts=message.ts)
    if isinstance(found, Step):
        return found
    if found is None:
        for delivery in uncertain:
            delivery.uncertain = False
            if isinstance(delivery.op, Upload):  # never shown twice: skipped instead
                _skip(delivery, f"could not check whether the {delivery.key} was shared before a fault: "
                                "add the channels:history / groups:history scope")
        return AGAIN
    for delivery in uncertain:
        delivery.uncertain = False
        hit = next((m for m in found if _is(delivery, m)), None)
        if hit is not None:
            delivery.ts, delivery.done, delivery.data = hit.get("ts"), True, None
            delivery.shown = delivery.text
    return AGAIN


def _is(delivery: Delivery, message: dict) -> bool:
    if isinstance(delivery.op, Upload):
        return any(f.get("id") == delivery.file_id for f in message.get("files") or [])
    return payload(message).get("reply") == delivery.reply_id


def _upload(message: SlackMessage, delivery: Delivery) -> Step:
    upload: Upload = delivery.op
    if delivery.data is None:  # not drawn yet: drawn once, here, on the worker's thread
        try:
            data = chart_png(upload.drawing, plot=upload.drawing.plot, upto=upload.drawing.rows)
        except ChartsUnavailable:
            line = missing_once()  # one line a process, shared with the notebook's charts
            if line:
                print(line, file=sys.stderr, flush=True)
            return _done(delivery)
        except Exception as exc:  # noqa: BLE001 - a drawing bug costs the chart, not the report
            return _skip(delivery, f"the {upload.kind} could not be drawn ({type(exc).__name__}: {exc})")
        if not data:
            return _done(delivery)  # nothing to show
        delivery.data = bytes(data)
    if delivery.upload_url is None:
        answer = message.api.call("files.getUploadURLExternal", urgent=True, filename=upload.filename,
                                  length=len(delivery.data))
        if answer.ok:
            delivery.upload_url, delivery.file_id = answer.data.get("upload_url"), answer.data.get("file_id")
            delivery.sent_bytes = False
            return AGAIN
    elif not delivery.sent_bytes:
        answer = message.api.call(UPLOAD_BYTES, urgent=True, url=delivery.upload_url, data=delivery.data)
        if answer.ok:
            delivery.sent_bytes = True
            return AGAIN
        if answer.failure is not None:
            delivery.tries += 1
            if delivery.tries >= UPLOAD_TRIES:
                delivery.upload_url = None  # a fresh URL next time
    else:
        where = {"thread_ts": message.ts} if message.ts else {}
        answer = message.api.call("files.completeUploadExternal", urgent=True, channel_id=message.where,
                                  files=[{"id": delivery.file_id, "title": upload.title or upload.filename}], **where)
        if answer.ok:
            return _done(delivery)
        failure = answer.failure
        if failure is not None and failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
            delivery.uncertain = True  # it may have been shared before the answer was lost
            delivery.check_after = answer.sent_at + message.settle if failure.timed_out else 0.0
    if answer.hold:
        return Step.held(answer)
    return _after_upload_fault(message, delivery, answer.failure)


def _after_upload_fault(message: SlackMessage, delivery: Delivery, failure: Failure) -> Step:
    if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
        return Step("wait", failure)
    if failure.kind is Kind.UNEXPECTED:
        delivery.tries += 1
        if delivery.tries < UPLOAD_TRIES:
            return Step("wait", failure)
    if failure.error == "missing_scope":
        why = "add the files:write scope to the Slack app and reinstall it"
    elif failure.kind is Kind.NOT_IN_CHANNEL:
        why = f"uploads need the bot in the channel: run /invite @yourbot in {message.where}"
    else:
        why = failure.fix or failure.error
    return _skip(delivery, f"the {delivery.key} was not uploaded ({failure.error}): {why}")


def _done(delivery: Delivery) -> Step:
    delivery.done = True
    delivery.data = None
    return DONE


def _skip(delivery: Delivery, problem: str) -> Step:
    delivery.problem = problem
    return _done(delivery)
