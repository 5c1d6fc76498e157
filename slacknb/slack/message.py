"""One report message in Slack and its thread replies, one API call per step.

:class:`SlackMessage` knows the Slack side of mirroring and nothing about threads or
timing: each call of :meth:`~SlackMessage.deliver` or :meth:`~SlackMessage.reply`
makes at most one API call and returns a :class:`Step` telling the worker what to do
next (done, go again at once, wait, or stop).

Duplicate safety. A ``chat.postMessage`` that timed out, lost its connection, or got
``fatal_error``/HTTP 5xx may still have posted, and posting again would leave two
visible messages. So every message carries a random stream id in Slack's message
``metadata`` (``{"event_type": "slacknb_report", "event_payload": {"stream": id}}``),
which readers never see. After such an unknown outcome the next step reads
``conversations.history`` (``include_all_metadata``) and adopts the message carrying our
stream id; only if none is there does it post again. Replies carry their own id and are
looked for with ``conversations.replies`` the same way. If history cannot be read
(scope ``channels:history`` / ``groups:history`` missing, or an error) the post is
repeated and :attr:`SlackMessage.note` says duplicates are possible and what to add.

Shared limits. Every call goes through the app's :class:`~slacknb.slack.limits.SharedLimits`
gate (when one is given): while another stream's Retry-After runs, or while another
stream's final report waits for its turn, a step makes no call and returns a wait.
Steps that belong to the end of a run (``urgent=True``) go before other streams' edits.

Late arrivals. A call we stopped waiting for (a read timeout) may still be carried out
later. So after a timed-out post or reply the look-up waits ``settle`` seconds first,
and after a timed-out edit the end of the run reads the message back once ``settle``
has passed (:meth:`SlackMessage.verify`): if an older text landed over the final one,
the final text is sent again.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Callable, Literal

from slacknb.slack.limits import SharedLimits
from slacknb.slack.errors import Failure, Kind, classify, invite_fix

EVENT_TYPE = "slacknb_report"
MAX_CHARS = 4000  # chat.update rejects longer text with msg_too_long
CUT_CHARS = 3900
MIN_BUDGET = 500
CUT_MARKER = "\n\u2026 (cut to fit Slack's message size limit)"
HISTORY_LIMIT = 20
MAX_REPLACEMENTS = 3  # new messages in a row that could not be edited even once

StepStatus = Literal["done", "again", "wait", "fatal"]
Rerender = Callable[[int], str]


@dataclass(frozen=True)
class Step:
    """What one API step achieved and what the worker should do next."""

    status: StepStatus
    failure: Failure | None = None
    edited: bool = False
    """True when the message itself was posted or edited (counts for min_interval)."""
    pause: float | None = None
    """With status "wait" and no failure: seconds to let a timed-out request settle first."""


DONE = Step("done")
AGAIN = Step("again")


_HELD_WHY = {
    "shared_limit": "waiting out the Retry-After Slack gave this app",
    "finals_first": "another run's final report goes first",
    "reserved": "the rest of this minute's Slack budget is kept for final reports",
}


class _Held(Exception):
    """The shared gate said: make no call now. Carries the wait step."""

    def __init__(self, step: Step) -> None:
        super().__init__(step.failure.error if step.failure else "held")
        self.step = step


@dataclass
class Reply:
    """A thread reply that must be delivered exactly once."""

    key: str
    """Short name used in messages: "failure alert", "finish reply"."""
    compose: Callable[[], str]
    reply_id: str = field(default_factory=lambda: secrets.token_hex(8))
    text: str | None = None
    uncertain: bool = False
    check_after: float = 0.0
    delivered: bool = False
    ts: str | None = None


class SlackMessage:
    """The Slack side of one report: post, edit, adopt, reply, join, permalink.

    ``channel`` is the configured ID or name; :attr:`channel_id` is the ID Slack returned.
    :attr:`sent_text` is exactly what Slack shows now (None when unknown).
    ``limits`` and ``scope`` (see :func:`slacknb.slack.limits.scope_of`) share Retry-After and
    turns with the app's other streams; without ``limits`` each stream keeps its own.
    """

    def __init__(
        self,
        client,
        channel: str,
        *,
        count_call: Callable[[], None],
        settle: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        limits: SharedLimits | None = None,
        scope: str = "",
    ) -> None:
        self._client = client
        self._limits = limits
        self._scope = scope
        self._turn_id = secrets.token_hex(8)  # this stream in the shared gate (never changes)
        self.owned = True
        """False after :meth:`attach`: the thread belongs to another process's report."""
        self.sent_at: float | None = None
        """When the latest request left (``clock`` time)."""
        self._settle = settle
        self._clock = clock
        self.channel = channel
        self.channel_id: str | None = None
        self.ts: str | None = None
        self.sent_text: str | None = None
        self.permalink: str | None = None
        self.permalink_due = False
        self.note = ""
        """A lasting caveat for the state detail (duplicates possible, and why)."""
        self._count = count_call
        self._stream_id = secrets.token_hex(8)
        self._post_uncertain = False
        self._attempted_text: str | None = None
        self._join_tried = False
        self._budget: int | None = None  # learned UTF-8 byte budget after msg_too_long
        self._adopt_not_before = 0.0
        self._gone_streak = 0  # replacements in a row without one successful edit
        self.verify_after: float | None = None
        """Set after a timed-out edit, which Slack may still apply LATER over a newer text:
        from this time on, reading the message back tells whether the final text survived."""

    # -- the message ---------------------------------------------------------------

    def deliver(self, text: str, rerender: Rerender | None = None, *, urgent: bool = False) -> Step:
        """Make one API call towards Slack showing ``text`` (already final-rendered).

        ``urgent`` marks the final report: it goes before other streams' edits.
        """
        fitted = self.fit(text, rerender)
        try:
            if self.ts is None:
                if self._post_uncertain:
                    return self._adopt_posted(urgent)
                return self._post(fitted, urgent)
            if fitted == self.sent_text:
                return DONE
            return self._update(fitted, urgent)
        except _Held as held:
            return held.step

    def attach(self, channel_id: str | None, ts: str | None) -> None:
        """Reply in the thread of a message this stream does not own (``ts``), or, with no
        ``ts``, post replies to the channel as messages of their own. Nothing is edited."""
        self.owned = False
        self.channel_id = channel_id or self.channel_id
        self.ts = ts
        self.sent_text = None
        self.permalink_due = False

    def _api(self, method: str, *, urgent: bool, **arguments):
        """Make one API call through the shared gate; raises :class:`_Held` when it may not go now."""
        call = getattr(self._client, method.replace(".", "_"))
        if self._limits is None:
            self._count()
            self.sent_at = self._clock()
            return call(**arguments)
        channel = arguments.get("channel")
        with self._limits.turn(self._scope, method, channel, urgent=urgent, stream=self._turn_id) as turn:
            if turn.wait > 0:
                what = _HELD_WHY.get(turn.reason, "waiting for the app's shared Slack rate limit")
                raise _Held(Step("wait", Failure(Kind.RATE_LIMITED, turn.reason, what, retry_after=turn.wait)))
            self._count()
            # After the turn was won, which can take a while: min_interval counts from here.
            self.sent_at = self._clock()
            try:
                response = call(**arguments)
            except Exception as exc:
                failure = classify(exc)
                if failure.kind is Kind.RATE_LIMITED:
                    turn.limited(failure.retry_after if failure.retry_after is not None else 1.0)
                else:
                    turn.made()
                raise
            turn.made()
            turn.succeeded()
            return response

    def fit(self, text: str, rerender: Rerender | None) -> str:
        """``text`` shrunk to the learned byte budget, or to Slack's character limit."""
        budget = self._budget
        if budget is None and len(text) <= MAX_CHARS:
            return text
        if budget is None:
            budget = CUT_CHARS
        if len(text.encode("utf-8")) <= budget and len(text) <= MAX_CHARS:
            return text
        return shrink(text, rerender, budget)

    def _post(self, text: str, urgent: bool) -> Step:
        sent = self._clock()
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"stream": self._stream_id}}
        try:
            response = self._api(
                "chat.postMessage",
                urgent=urgent,
                channel=self.channel_id or self.channel,
                text=text,
                metadata=metadata,
                unfurl_links=False,
                unfurl_media=False,
            )
        except _Held:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below, never re-raised
            failure = classify(exc, channel=self.channel_id or self.channel)
            if failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
                self._post_uncertain = True
                self._attempted_text = text
                if failure.timed_out:
                    # Slack may still be working on it: look for it only once it would have landed.
                    self._adopt_not_before = sent + self._settle
            return self._on_failure(failure, text)
        self.channel_id = response.get("channel") or self.channel_id or self.channel
        self.ts = response.get("ts")
        self.sent_text = text
        self.permalink = None
        self.permalink_due = True
        return Step("done", edited=True)

    def _update(self, text: str, urgent: bool) -> Step:
        sent = self._clock()
        try:
            self._api("chat.update", urgent=urgent, channel=self.channel_id, ts=self.ts, text=text)
        except _Held:
            raise
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, channel=self.channel_id)
            if failure.maybe_performed:
                self.sent_text = None  # it may or may not show ``text`` now: send again
            if failure.timed_out:
                self.verify_after = max(self.verify_after or 0.0, sent + self._settle)
            return self._on_failure(failure, text)
        self.sent_text = text
        self._gone_streak = 0
        if self.verify_after is not None and sent >= self.verify_after:
            self.verify_after = None  # sent after any late edit would have landed: it wins
        return Step("done", edited=True)

    def _on_failure(self, failure: Failure, text: str) -> Step:
        if failure.kind is Kind.TOO_LONG:
            if self._budget is not None and self._budget <= MIN_BUDGET:
                refused = Failure(Kind.UNEXPECTED, failure.error, "Slack rejects even a short message as too long")
                return Step("wait", refused)
            self._budget = next_budget(text)
            return AGAIN
        if failure.kind is Kind.MESSAGE_GONE:
            self._gone_streak += 1
            if self._gone_streak > MAX_REPLACEMENTS:
                # Without this, a workspace that forbids edits would get a new message per update.
                fix = (
                    f"Slack keeps refusing to edit the report message ({failure.error}): check the "
                    "workspace's message editing setting; the report stays local"
                )
                return Step("fatal", Failure(Kind.FATAL, failure.error, fix))
            self._forget_message()
            return AGAIN
        if failure.kind is Kind.NOT_IN_CHANNEL:
            return self._join(failure)
        if failure.kind is Kind.FATAL:
            return Step("fatal", failure)
        return Step("wait", failure)

    def _forget_message(self) -> None:
        # A fresh stream id: the old message (if it still exists) must never be adopted again.
        self.ts = None
        self.sent_text = None
        self.permalink = None
        self.permalink_due = False
        self._stream_id = secrets.token_hex(8)
        self._post_uncertain = False

    def _join(self, failure: Failure) -> Step:
        where = self.channel_id or self.channel
        if self._join_tried:
            return Step("fatal", Failure(Kind.FATAL, failure.error, invite_fix(where, failure.error)))
        self._join_tried = True
        try:
            self._api("conversations.join", urgent=True, channel=where)
        except _Held as held:
            self._join_tried = False  # not tried yet: the gate only said "later"
            return held.step
        except Exception as exc:  # noqa: BLE001
            join_failure = classify(exc, channel=where)
            reason = f"not_in_channel, and joining failed: {join_failure.error}"
            return Step("fatal", Failure(Kind.FATAL, "not_in_channel", invite_fix(where, reason)))
        return AGAIN

    def _adopt_posted(self, urgent: bool) -> Step:
        """After a post with an unknown outcome: find it in the channel history, or allow a new post."""
        wait = self._adopt_not_before - self._clock()
        if wait > 0:
            return Step("wait", pause=wait)
        where = self.channel_id or self.channel
        try:
            response = self._api(
                "conversations.history", urgent=urgent, channel=where, limit=HISTORY_LIMIT, include_all_metadata=True
            )
        except _Held:
            raise
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, channel=where)
            if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
                return Step("wait", failure)
            scope = "channels:history (public channels) or groups:history (private channels)"
            self.note = (
                f"could not check whether an interrupted post went through ({failure.error}), so it was posted "
                f"again and a duplicate message is possible: add the {scope} scope to the Slack app"
            )
            self._post_uncertain = False
            return AGAIN
        self._post_uncertain = False
        for message in response.get("messages") or []:
            payload = _payload(message)
            if payload.get("stream") == self._stream_id and "reply" not in payload:
                self.channel_id = self.channel_id or where
                self.ts = message.get("ts")
                self.sent_text = self._attempted_text
                self.permalink_due = True
                return AGAIN
        return AGAIN

    def verify(self) -> Step:
        """Read the message back once a timed-out edit could have landed; if an older text
        won, forget ``sent_text`` so that the final text is sent again."""
        if self.verify_after is None or self.ts is None:
            return DONE
        wait = self.verify_after - self._clock()
        if wait > 0:
            return Step("wait", pause=wait)
        try:
            response = self._api(
                "conversations.history", urgent=True,
                channel=self.channel_id, latest=self.ts, oldest=self.ts, inclusive=True, limit=1,
            )
        except _Held as held:
            return held.step
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, channel=self.channel_id)
            if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
                return Step("wait", failure)
            self.verify_after = None
            self.note = (
                f"could not read the message back after a timed-out edit ({failure.error}), so an older text "
                "may show: add the channels:history / groups:history scope to the Slack app"
            )
            return DONE
        self.verify_after = None
        shown = next((m.get("text") for m in response.get("messages") or [] if m.get("ts") == self.ts), None)
        if shown is None:
            self._forget_message()
        elif shown != self.sent_text:
            self.sent_text = None
        return AGAIN

    # -- replies -------------------------------------------------------------------

    def reply(self, reply: Reply) -> Step:
        """Make one API call towards ``reply`` being in the message's thread exactly once.

        A stream that :meth:`attach`-ed without a ``ts`` posts it to the channel instead.
        Replies belong to the end of a run: they are always urgent.
        """
        if reply.uncertain:
            return self._find_reply(reply)
        if reply.text is None:
            reply.text = reply.compose()
        text = reply.text if len(reply.text) <= MAX_CHARS else cut(reply.text, CUT_CHARS)
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"stream": self._stream_id, "reply": reply.reply_id}}
        where = self.channel_id or self.channel
        sent = self._clock()
        try:
            response = self._api(
                "chat.postMessage", urgent=True,
                channel=where, thread_ts=self.ts, text=text, metadata=metadata, unfurl_links=False,
            )
        except _Held as held:
            return held.step
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, channel=where)
            if failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
                reply.uncertain = True
                reply.check_after = sent + self._settle if failure.timed_out else 0.0
            if failure.kind is Kind.TOO_LONG:
                reply.text = cut(text, next_budget(text))
                return AGAIN
            if failure.kind is Kind.MESSAGE_GONE:
                if not self.owned:
                    # Another process's message is gone: the alert stands alone in the channel.
                    self.ts = None
                    return AGAIN
                # The thread's parent is gone: the worker re-posts the report, then the replies.
                self._forget_message()
                return AGAIN
            return self._on_failure(failure, text)
        self.channel_id = self.channel_id or response.get("channel")
        reply.delivered = True
        reply.ts = response.get("ts")
        return DONE

    def _find_reply(self, reply: Reply) -> Step:
        wait = reply.check_after - self._clock()
        if wait > 0:
            return Step("wait", pause=wait)
        where = self.channel_id or self.channel
        try:
            if self.ts is None:  # posted to the channel itself (see attach)
                response = self._api(
                    "conversations.history", urgent=True, channel=where, limit=HISTORY_LIMIT, include_all_metadata=True
                )
            else:
                response = self._api(
                    "conversations.replies", urgent=True,
                    channel=where, ts=self.ts, include_all_metadata=True, limit=200,
                )
        except _Held as held:
            return held.step
        except Exception as exc:  # noqa: BLE001
            failure = classify(exc, channel=where)
            if failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
                return Step("wait", failure)
            self.note = (
                f"could not check whether an interrupted reply went through ({failure.error}), so it was sent again "
                "and may show twice: add the channels:history / groups:history scope to the Slack app"
            )
            reply.uncertain = False
            return AGAIN
        reply.uncertain = False
        for message in response.get("messages") or []:
            if _payload(message).get("reply") == reply.reply_id:
                reply.delivered = True
                reply.ts = message.get("ts")
                return DONE
        return AGAIN

    # -- extras --------------------------------------------------------------------

    def fetch_permalink(self) -> None:
        """Read the message's permalink once; a failure here is harmless and not retried."""
        self.permalink_due = False
        if self.ts is None or not self.owned:
            return
        try:
            response = self._api("chat.getPermalink", urgent=False, channel=self.channel_id, message_ts=self.ts)
        except Exception:  # noqa: BLE001 - the link is a convenience only (a held turn included)
            return
        self.permalink = response.get("permalink")


def _payload(message: dict) -> dict:
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return {}
    payload = metadata.get("event_payload") or {}
    return payload if isinstance(payload, dict) else {}


def next_budget(text: str) -> int:
    """The byte budget to try after ``text`` was too long: 80% of it, within [500, 3900]."""
    return max(MIN_BUDGET, min(CUT_CHARS, int(len(text.encode("utf-8")) * 0.8)))


def shrink(text: str, rerender: Rerender | None, budget: int) -> str:
    """Re-render for ``budget`` UTF-8 bytes, or cut with a visible marker if that is not possible."""
    if rerender is not None:
        try:
            smaller = rerender(budget)
        except Exception:  # noqa: BLE001 - a broken re-renderer must not stop mirroring
            smaller = None
        if isinstance(smaller, str):
            if len(smaller.encode("utf-8")) <= budget and len(smaller) <= MAX_CHARS:
                return smaller
            return cut(smaller, budget)
    return cut(text, budget)


def cut(text: str, budget: int) -> str:
    """Cut ``text`` to ``budget`` UTF-8 bytes (and Slack's character limit) with a visible marker.

    A code block left open by the cut is closed, so the marker is not swallowed by it.
    """
    if len(text.encode("utf-8")) <= budget and len(text) <= MAX_CHARS:
        return text
    room = max(0, budget - len(CUT_MARKER.encode("utf-8")) - 4)
    head = text.encode("utf-8")[:room].decode("utf-8", errors="ignore")[: MAX_CHARS - len(CUT_MARKER) - 4]
    if head.count("```") % 2 == 1:
        head += "\n```"
    return head + CUT_MARKER
