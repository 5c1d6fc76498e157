"""The report message in Slack: post, edit, adopt, read back; one API call per step.

:class:`SlackMessage` is the one place that knows which message is the report (:attr:`~SlackMessage.ts`).
It is a message of its own in the channel, or (``parent``) a reply in another message's thread,
edited in place the same way; or (``adopt``) an existing message this stream edits. Each
:meth:`~SlackMessage.deliver` makes at most one call and returns a :class:`Step` (done, go
again at once, wait, or stop); timing is the worker's business.

Duplicate safety: a ``chat.postMessage`` that timed out or got ``fatal_error``/HTTP 5xx may
still have posted. Every message carries a random id in its (invisible) ``metadata``; after
such an unknown outcome the channel (or the thread) is read once with :meth:`~SlackMessage.read`,
the one history look-up of the Slack path, and the message with our id adopted; only if none is
there is it posted again (without the history scopes it is posted again and
:attr:`~SlackMessage.note` says a duplicate is possible). A timed-out call may also land late:
the look-up waits ``settle`` seconds first, and after a timed-out edit the end of the run reads
the message back (:meth:`~SlackMessage.verify`) and sends the final text again if an older one
won. A text over Slack's size is cut (:func:`slacknb.core.slack_text.cut`); the budget learned
from ``msg_too_long`` is kept in :attr:`~SlackMessage.budget` for the run to render within.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Literal

from slacknb.core.slack_text import cut, utf8_len
from slacknb.runtime.clock import Clock
from slacknb.slack.api import Answer, Api
from slacknb.slack.errors import Failure, Kind, invite_fix
from slacknb.slack.operations import Edit
from slacknb.slack.pacing import Hold

__all__ = ["AGAIN", "DONE", "EVENT_TYPE", "MAX_CHARS", "SlackMessage", "Step", "next_budget", "payload"]

EVENT_TYPE = "slacknb_report"
MAX_CHARS = 4000  # chat.update rejects longer text with msg_too_long
CUT_CHARS = 3900
MIN_BUDGET = 500
HISTORY_LIMIT = 20
THREAD_LIMIT = 200
MAX_REPLACEMENTS = 3  # new messages in a row that could not be edited even once
HISTORY_SCOPES = "channels:history (public channels) or groups:history (private channels)"


@dataclass(frozen=True)
class Step:
    """What one API step achieved and what the worker should do next."""

    status: Literal["done", "again", "wait", "fatal"]
    failure: Failure | None = None
    hold: Hold | None = None
    """With status "wait" and no failure: why no call was made (not a failure)."""
    wait: float = 0.0
    """With ``hold``: seconds to wait."""
    edited_at: float | None = None
    """When the message itself was posted or edited (counts for min_interval)."""

    @staticmethod
    def held(answer: Answer) -> Step:
        """The wait the shared gate asked for."""
        return Step("wait", hold=answer.hold, wait=answer.wait)

    @staticmethod
    def settling(until: float, now: float) -> Step | None:
        """Wait for a timed-out call to land before looking for it (None: it had time)."""
        return Step("wait", hold=Hold.SETTLING, wait=until - now) if until > now else None


DONE = Step("done")
AGAIN = Step("again")


class SlackMessage:
    """The Slack side of one report: post, edit, adopt, join, read back, permalink.

    ``channel`` is the configured ID or name; :attr:`channel_id` is the ID Slack returned.
    :attr:`sent_text` is exactly what Slack shows now (None when unknown). ``parent`` makes the
    report a reply in that message's thread; ``adopt`` makes it that existing message.
    """

    def __init__(self, api: Api, channel: str, *, clock: Clock, settle: float = 20.0,
                 parent: tuple[str, str] | None = None, adopt: tuple[str, str] | None = None) -> None:
        self.api = api
        self.clock = clock
        self.settle = settle
        """Seconds a timed-out call is given to land before it is looked for or read back."""
        self.channel = channel
        self.channel_id: str | None = None
        self.parent_ts: str | None = None
        if parent is not None:
            self.channel_id, self.parent_ts = parent
        self.ts: str | None = None
        self.sent_text: str | None = None
        self._sent_blocks: object = None
        self.permalink: str | None = None
        self.permalink_due = False
        self.note = ""
        """A lasting caveat for the state detail (duplicates possible, and why)."""
        self.budget: int | None = None
        """The UTF-8 byte budget learned from msg_too_long (None: Slack's usual limit)."""
        self.stream_id = secrets.token_hex(8)
        self._post_uncertain = False
        self._attempted_text: str | None = None
        self._join_tried = False
        self._adopt_not_before = 0.0
        self._gone_streak = 0  # replacements in a row without one successful edit
        self.verify_after: float | None = None
        """Set after a timed-out edit, which Slack may still apply LATER over a newer text:
        from this time on, reading the message back tells whether the final text survived."""
        if adopt is not None:
            self.channel_id, self.ts = adopt
            self.permalink_due = True

    @property
    def where(self) -> str:
        """The channel to call: the ID once known, else what was configured."""
        return self.channel_id or self.channel

    def metadata(self, reply_id: str | None = None) -> dict:
        """The invisible marker that lets an interrupted post be found instead of repeated."""
        marker = {"stream": self.stream_id} if reply_id is None else {"stream": self.stream_id, "reply": reply_id}
        return {"event_type": EVENT_TYPE, "event_payload": marker}

    def shows(self, edit: Edit, text: str) -> bool:
        """True when Slack is known to show ``text`` (``edit``'s, fitted) with ``edit``'s blocks now."""
        if self.ts is None or self.sent_text != text:
            return False
        return edit.blocks is None or self._sent_blocks == list(edit.blocks)

    def fit(self, text: str, keep: tuple[str, ...] = ()) -> str:
        """``text`` within the learned byte budget, or within Slack's character limit."""
        if self.budget is None and len(text) <= MAX_CHARS:
            return text
        budget = self.budget or CUT_CHARS
        return text if utf8_len(text) <= budget else cut(text, budget, keep)

    # -- the message ---------------------------------------------------------------

    def deliver(self, edit: Edit) -> Step:
        """Make one API call towards Slack showing ``edit``; ``edit.final`` goes before other streams' edits."""
        if len(edit.text) > MAX_CHARS and self.budget is None:
            self.budget = CUT_CHARS  # the run renders within it from now on
        text = self.fit(edit.text, edit.keep)
        if self.ts is None:
            return self._adopt_posted(edit.final) if self._post_uncertain else self._post(text, edit)
        if self.shows(edit, text):
            return DONE
        return self._update(text, edit)

    def attach(self, channel_id: str | None, ts: str | None) -> None:
        """Reply in the thread of a message this stream does not own (``ts``), or, with no
        ``ts``, post replies to the channel as messages of their own. Nothing is edited."""
        self.channel_id = channel_id or self.channel_id
        self.ts = ts
        self.sent_text = None
        self.permalink_due = False

    def _post(self, text: str, edit: Edit) -> Step:
        arguments = {"blocks": list(edit.blocks)} if edit.blocks is not None else {}
        if self.parent_ts is not None:
            arguments["thread_ts"] = self.parent_ts
        answer = self.api.call("chat.postMessage", urgent=edit.final, channel=self.where, text=text,
                               metadata=self.metadata(), unfurl_links=False, unfurl_media=False, **arguments)
        if answer.hold:
            return Step.held(answer)
        failure = answer.failure
        if failure is not None:
            if failure.maybe_performed and failure.kind in (Kind.TRANSIENT, Kind.UNEXPECTED):
                self._post_uncertain = True
                self._attempted_text = text
                if failure.timed_out:
                    # Slack may still be working on it: look for it only once it would have landed.
                    self._adopt_not_before = answer.sent_at + self.settle
            return self.on_failure(failure, text)
        self.channel_id = answer.data.get("channel") or self.channel_id or self.channel
        self.ts = answer.data.get("ts")
        self.sent_text = text
        self._sent_blocks = arguments.get("blocks")
        self.permalink = None
        self.permalink_due = True
        return Step("done", edited_at=answer.sent_at)

    def _update(self, text: str, edit: Edit) -> Step:
        arguments = {"blocks": list(edit.blocks)} if edit.blocks is not None else {}
        answer = self.api.call("chat.update", urgent=edit.final, channel=self.channel_id, ts=self.ts, text=text,
                               **arguments)
        if answer.hold:
            return Step.held(answer)
        failure = answer.failure
        if failure is not None:
            if failure.maybe_performed:
                self.sent_text = None  # it may or may not show ``text`` now: send again
            if failure.timed_out:
                self.verify_after = max(self.verify_after or 0.0, answer.sent_at + self.settle)
            return self.on_failure(failure, text)
        self.sent_text = text
        if edit.blocks is not None:
            self._sent_blocks = list(edit.blocks)
        self._gone_streak = 0
        if self.verify_after is not None and answer.sent_at >= self.verify_after:
            self.verify_after = None  # sent after any late edit would have landed: it wins
        return Step("done", edited_at=answer.sent_at)

    def on_failure(self, failure: Failure, text: str) -> Step:
        """The step after a refused call of the message or a reply (shared reactions)."""
        if failure.kind is Kind.TOO_LONG:
            if self.budget is not None and self.budget <= MIN_BUDGET:
                refused = Failure(Kind.UNEXPECTED, failure.error, "Slack rejects even a short message as too long")
                return Step("wait", refused)
            self.budget = next_budget(text)
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
            self.forget()
            return AGAIN
        if failure.kind is Kind.NOT_IN_CHANNEL:
            return self._join(failure)
        if failure.kind is Kind.FATAL:
            return Step("fatal", failure)
        return Step("wait", failure)

    def forget(self) -> None:
        """The message is gone: the next edit posts a new one (and replies go there)."""
        # A fresh stream id: the old message (if it still exists) must never be adopted again.
        self.ts = None
        self.sent_text = None
        self.permalink = None
        self.permalink_due = False
        self.stream_id = secrets.token_hex(8)
        self._post_uncertain = False

    def _join(self, failure: Failure) -> Step:
        if self._join_tried:
            return Step("fatal", Failure(Kind.FATAL, failure.error, invite_fix(self.where, failure.error)))
        answer = self.api.call("conversations.join", urgent=True, channel=self.where)
        if answer.hold:
            return Step.held(answer)  # not tried yet: the gate only said "later"
        self._join_tried = True
        if answer.failure is not None:
            reason = f"not_in_channel, and joining failed: {answer.failure.error}"
            return Step("fatal", Failure(Kind.FATAL, "not_in_channel", invite_fix(self.where, reason)))
        return AGAIN

    # -- reading back ----------------------------------------------------------------

    def read(self, *, thread_ts: str | None, urgent: bool = True, around: str | None = None) -> Answer:
        """The one history look-up: the messages of ``thread_ts``'s thread (``conversations.replies``),
        or of the channel (``conversations.history``; ``around``: just that message), with metadata."""
        if thread_ts is not None:
            return self.api.call("conversations.replies", urgent=urgent, channel=self.where, ts=thread_ts,
                                 include_all_metadata=True, limit=THREAD_LIMIT)
        window = {"latest": around, "oldest": around, "inclusive": True, "limit": 1} if around else \
            {"limit": HISTORY_LIMIT}
        return self.api.call("conversations.history", urgent=urgent, channel=self.where, include_all_metadata=True,
                             **window)

    def read_back(self, what: str, *, thread_ts: str | None, urgent: bool = True,
                  around: str | None = None) -> list[dict] | Step | None:
        """:meth:`read`'s messages; or the Step to take first (a fault or a hold: wait, then read
        again); or None when they cannot be read (a scope): :attr:`note` then says what that risks
        (``what``), in words naming the scope to add."""
        answer = self.read(thread_ts=thread_ts, urgent=urgent, around=around)
        if answer.hold:
            return Step.held(answer)
        if answer.failure is None:
            return list(answer.data.get("messages") or [])
        if answer.failure.kind in (Kind.RATE_LIMITED, Kind.TRANSIENT):
            return Step("wait", answer.failure)
        self.note = f"{what} ({answer.failure.error}): add the {HISTORY_SCOPES} scope to the Slack app"
        return None

    def _adopt_posted(self, urgent: bool) -> Step:
        """After a post with an unknown outcome: find it where it went, or allow a new post."""
        settling = Step.settling(self._adopt_not_before, self.clock.now())
        if settling is not None:
            return settling
        found = self.read_back("could not check whether an interrupted post went through, so it was posted "
                               "again and a duplicate message is possible", thread_ts=self.parent_ts, urgent=urgent)
        if isinstance(found, Step):
            return found
        self._post_uncertain = False
        for message in found or []:
            marker = payload(message)
            if marker.get("stream") == self.stream_id and "reply" not in marker:
                self.channel_id = self.channel_id or self.where
                self.ts = message.get("ts")
                self.sent_text = self._attempted_text
                self.permalink_due = True
                break
        return AGAIN

    def verify(self) -> Step:
        """Read the message back once a timed-out edit could have landed; if an older text won,
        forget ``sent_text`` so that the final text is sent again (one API call)."""
        if self.verify_after is None or self.ts is None:
            return DONE
        settling = Step.settling(self.verify_after, self.clock.now())
        if settling is not None:
            return settling
        found = self.read_back("could not read the message back after a timed-out edit, so an older text may "
                               "show", thread_ts=self.parent_ts, around=None if self.parent_ts else self.ts)
        if isinstance(found, Step):
            return found
        self.verify_after = None
        if found is None:
            return DONE
        shown = next((m.get("text") for m in found if m.get("ts") == self.ts), None)
        if shown is None:
            self.forget()
        elif shown != self.sent_text:
            self.sent_text = None
        return AGAIN

    def fetch_permalink(self) -> None:
        """Read the message's permalink once; a failure here is harmless and not retried."""
        self.permalink_due = False
        if self.ts is None:
            return
        answer = self.api.call("chat.getPermalink", urgent=False, channel=self.channel_id, message_ts=self.ts)
        if answer.ok:
            self.permalink = answer.data.get("permalink")


def payload(message: dict) -> dict:
    """slacknb's marker in a message read back from Slack ({} when it has none)."""
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict) or metadata.get("event_type") != EVENT_TYPE:
        return {}
    found = metadata.get("event_payload") or {}
    return found if isinstance(found, dict) else {}


def next_budget(text: str) -> int:
    """The byte budget to try after ``text`` was too long: 80% of it, within [500, 3900]."""
    return max(MIN_BUDGET, min(CUT_CHARS, int(len(text.encode("utf-8")) * 0.8)))
