"""The latest-wins worker: one thread that keeps one Slack message in step with the report.

The caller only stores the newest text and signals a Condition (:meth:`Sender.submit`
costs a lock and a notify, no I/O). The worker holds at most one call in flight and one
text waiting; a newer text replaces the waiting one, so memory stays bounded and the
newest state always goes out. Every wait (``min_interval`` between edits, backoff after
a transient fault, Slack's Retry-After) is a ``Condition.wait`` that :meth:`finish` and
:meth:`close` cut short; nothing sleeps uninterruptibly.

The end of a run is different: :meth:`finish` queues the final text and the thread
replies, which are delivered in order, each exactly once, and :meth:`wait_finished`
lets the caller wait for them with a time bound. The worker does not stop when the
caller stops waiting: it keeps going until everything arrived or ``give_up_at`` (the
hard bound), so a final report held back by a shared rate limit still lands. Only a
refused connection after the caller's deadline (nothing listens at the API address any
more) ends it earlier.

A stream held back by another stream's Retry-After (see :mod:`slacknb.slack.limits`) waits a
random extra of up to ``RATE_JITTER`` of it (at most ``RATE_JITTER_MAX`` seconds), so
that many streams do not all call again in the same instant.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from slacknb.slack.errors import Failure, Kind
from slacknb.slack.message import Reply, Rerender, SlackMessage, Step

MAX_UNEXPECTED = 5  # unknown errors retried this many times in a row, then mirroring stops
MAX_AGAIN = 20  # steps in a row that make no call-free progress: a loop, treat as unexpected
RATE_JITTER = 0.25
RATE_JITTER_MAX = 2.0
HELD = frozenset({"shared_limit", "finals_first", "reserved"})  # waits the shared gate asked for (slacknb.slack.limits)
SOFT_HELD = frozenset({"finals_first", "reserved"})  # ... that hold back intermediate edits only

Publish = Callable[[str, str, "float | None"], None]


@dataclass
class _Job:
    kind: str  # "edit", "reply", "permalink", "mentions", "verify"
    text: str = ""
    rerender: Rerender | None = None
    final: bool = False
    reply: Reply | None = None
    token: object = None  # identity of the submitted text, to know if a newer one came


class Sender:
    """Runs :class:`SlackMessage` steps on a daemon thread with latest-wins coalescing.

    ``publish(status, detail, next_attempt_in)`` is called from the worker on every
    state change. ``on_disable(detail)`` is called once if mirroring must stop.
    ``mentions_due()`` / ``resolve_mentions(timeout)`` let the mirror resolve names on
    this thread before the first reply is composed.
    """

    def __init__(
        self,
        message: SlackMessage,
        *,
        min_interval: float,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        publish: Publish,
        on_disable: Callable[[str], None],
        mentions_due: Callable[[], bool] = lambda: False,
        resolve_mentions: Callable[[float], None] = lambda timeout: None,
    ) -> None:
        self.message = message
        self._min_interval = min_interval
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._clock = clock
        self._publish = publish
        self._on_disable = on_disable
        self._mentions_due = mentions_due
        self._resolve_mentions = resolve_mentions
        self._cv = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._idle = True  # waiting with nothing to send (or not started)
        self._generation = 0  # bumped by every submit/finish/close, so no wake-up is lost
        self._wanted: tuple[str, Rerender | None] | None = None
        self._wanted_token: object = None
        self._wanted_done = True
        self._final: tuple[str, Rerender | None] | None = None
        self._final_ts: str | None = None  # ts of the message that shows the final text
        self._replies: list[Reply] = []
        self._finish_deadline: float | None = None
        self._give_up_at: float | None = None
        self._finished = False
        self.gave_up = False
        """True when the hard bound passed (or the API stopped listening) before delivery."""
        self._closed = False
        self.disabled = False
        self._last_edit_at: float | None = None
        self._resume_at = 0.0
        self._rate_limited = False
        self._failures = 0
        self._unexpected = 0
        self._again = 0
        self._last_failure: Failure | None = None
        self._random = random.Random()

    # -- caller side -----------------------------------------------------------------

    def submit(self, text: str, rerender: Rerender | None = None) -> None:
        """Make ``text`` the newest state to send. Never blocks on the network."""
        with self._cv:
            if self._final is not None or self._closed or self.disabled:
                return
            self._wanted = (text, rerender)
            self._wanted_token = object()
            self._wanted_done = False
            self._generation += 1
            started = self._start_locked()
            if self._idle:
                # Only an idle worker needs waking: one that waits for min_interval or a
                # backoff picks up the newest text when its wait ends anyway.
                self._cv.notify()
        if not started:
            self._on_disable("no thread could be started for the Slack mirror; the report stays local")

    def finish(
        self,
        text: str | None,
        rerender: Rerender | None,
        replies: list[Reply],
        *,
        deadline: float,
        give_up_at: float | None = None,
    ) -> None:
        """Queue the final text (None: no edit, only replies), then ``replies`` in order.

        ``deadline`` is when the caller stops waiting, ``give_up_at`` (default: the same)
        when the worker stops trying; both are ``time.monotonic`` values.
        """
        with self._cv:
            if self._final is not None or self._closed or self.disabled:
                return
            self._final = (text, rerender)
            self._replies = list(replies)
            self._finish_deadline = deadline
            self._give_up_at = max(deadline, give_up_at if give_up_at is not None else deadline)
            self._wanted = None
            self._wanted_done = True
            soft = self._last_failure is not None and self._last_failure.error in SOFT_HELD
            if not self._rate_limited or soft:
                # The end of the run is worth an early try: backoff restarts from its base,
                # and waits that only hold back intermediate edits do not apply to it.
                self._resume_at = 0.0
                self._failures = 0
            self._generation += 1
            started = self._start_locked()
            self._cv.notify()
        if not started:
            self._on_disable("no thread could be started for the Slack mirror; the report stays local")

    def wait_finished(self, timeout: float) -> bool:
        """Wait until the final text and replies are delivered; False on timeout or stop."""
        with self._cv:
            self._cv.wait_for(lambda: self._finished or self.disabled or self._closed or self.gave_up, timeout)
            return self._finished

    def wait_posted(self, timeout: float) -> bool:
        """Wait until the message exists in Slack (it has a ``ts``); False on timeout or stop."""
        with self._cv:
            self._cv.wait_for(lambda: self.message.ts is not None or self.disabled or self._closed
                              or self.gave_up or self._finished, timeout)
            return self.message.ts is not None

    def hurry(self) -> None:
        """Cut a backoff wait short (a Retry-After is still honoured): the process is exiting."""
        with self._cv:
            if not self._rate_limited:
                self._resume_at = 0.0
            self._generation += 1
            self._cv.notify_all()

    @property
    def delivering(self) -> bool:
        """True while the end of the run is queued and neither delivered nor abandoned."""
        with self._cv:
            return self._final is not None and not (self._finished or self.disabled or self._closed or self.gave_up)

    @property
    def give_up_at(self) -> float | None:
        """When the worker stops trying (``time.monotonic``), once :meth:`finish` was called."""
        return self._give_up_at

    def close(self) -> None:
        """Stop the worker after its current call (if any). Idempotent."""
        with self._cv:
            self._closed = True
            self._generation += 1
            self._cv.notify_all()

    def undelivered(self) -> list[str]:
        """What the end of the run has not delivered yet, in order, for the caller's warning."""
        with self._cv:
            missing = []
            if self._final is not None and not self._final_shown():
                missing.append("the final report edit")
            missing += [reply.key for reply in self._replies if not reply.delivered]
            return missing

    @property
    def last_failure(self) -> Failure | None:
        """The most recent failure (for the caller's warning text)."""
        return self._last_failure

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def wait(self, seconds: float) -> bool:
        """Interruptible pause for helpers running on the worker; False once stopping."""
        with self._cv:
            return not self._cv.wait_for(lambda: self._closed or self.disabled, seconds)

    def _start_locked(self) -> bool:
        """Start the worker at the first use; False (and disabled) if no thread can be started."""
        if self._thread is None:
            thread = threading.Thread(target=self._run, name="slacknb-mirror", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": out of resources, never the caller's problem
                self.disabled = True
                self._cv.notify_all()
                return False
            self._thread = thread
        return True

    # -- worker side -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a bug must stop mirroring loudly, not silently
            self._disable(
                f"the Slack mirror stopped on an internal error ({type(exc).__name__}); the report stays local"
            )

    def _loop(self) -> None:
        published: tuple | None = None
        while True:
            with self._cv:
                generation = self._generation
                decision = self._decide()
            if decision is None:
                if self.gave_up:
                    self._publish("disabled", "gave up: Slack did not receive the end of the run in time", None)
                return
            if decision == "finished":
                # Publish the last state BEFORE releasing finish(): its caller reads it next.
                self._publish("synced", "Slack shows the final report", None)
                with self._cv:
                    self._finished = True
                    self._cv.notify_all()
                return
            if isinstance(decision, _Job):
                self._run_job(decision)
                published = None
                continue
            status, detail, wait = decision
            key = (status, detail, None if wait is None else round(self._clock() + wait, 2))
            if key != published:
                self._publish(status, detail, wait)
                published = key
            with self._cv:
                if self._generation == generation:
                    self._cv.wait(wait)

    def _decide(self):
        """Under the lock: the next job, or (status, detail, seconds to wait or None), or None to stop."""
        self._idle = False
        if self._closed or self.disabled or self.gave_up:
            return None
        if self._give_up_at is not None and time.monotonic() >= self._give_up_at and self._next_job() is not None:
            self._give_up()
            return None
        job = self._next_job()
        if job is None:
            if self._final is not None:
                return "finished"
            self._idle = True
            return ("synced", "Slack shows the latest report", None)
        ready_at = self._resume_at
        if job.kind == "edit" and not job.final and self._last_edit_at is not None:
            ready_at = max(ready_at, self._last_edit_at + self._min_interval)
        wait = ready_at - self._clock()
        if wait <= 0:
            return job
        if self._give_up_at is not None:
            wait = min(wait, max(0.0, self._give_up_at - time.monotonic()) + 0.001)  # wake to give up on time
        if ready_at == self._resume_at and self._last_failure is not None:
            status = "rate_limited" if self._rate_limited else "retrying"
            return (status, self._failure_detail(), wait)
        return ("sending", "next edit after the minimum interval", wait)

    def _next_job(self) -> _Job | None:
        message = self.message
        if self._final is not None:
            if not self._final_shown():
                text, rerender = self._final
                return _Job("edit", text, rerender, final=True)
            pending = [reply for reply in self._replies if not reply.delivered]
            if pending and self._mentions_due():
                return _Job("mentions")
            if pending:
                return _Job("reply", reply=pending[0])
            if message.permalink_due:  # after the alerts: a link can wait, a failure should not
                return _Job("permalink")
            if message.verify_after is not None:
                return _Job("verify")
            return None
        if message.permalink_due and self._edit_waits_for_interval():
            # Fetched while the next edit waits out min_interval anyway: otherwise a
            # steady stream of edits would starve it until the end of the run.
            return _Job("permalink")
        if not self._wanted_done and self._wanted is not None:
            text, rerender = self._wanted
            return _Job("edit", text, rerender, token=self._wanted_token)
        if message.permalink_due:
            return _Job("permalink")
        if message.ts is not None and self._mentions_due():
            return _Job("mentions")
        return None

    def _edit_waits_for_interval(self) -> bool:
        now = self._clock()
        return (now >= self._resume_at and self._last_edit_at is not None
                and now < self._last_edit_at + self._min_interval)

    def _final_shown(self) -> bool:
        if self._final is not None and self._final[0] is None:
            return True  # replies only: this stream edits no message
        return self._final_ts is not None and self._final_ts == self.message.ts and self.message.sent_text is not None

    def _run_job(self, job: _Job) -> None:
        if job.kind == "permalink":
            self.message.fetch_permalink()
            self._publish(*self._idle_state())
            return
        if job.kind == "mentions":
            self._resolve_mentions(self._mentions_timeout())
            return
        if job.kind == "edit":
            self._publish("posting" if self.message.ts is None else "sending", "sending the report to Slack", None)
        elif job.kind == "reply":
            self._publish("sending", f"sending the {job.reply.key}", None)
        started = self._clock()
        try:
            if job.kind == "edit":
                step = self.message.deliver(job.text, job.rerender, urgent=job.final)
            elif job.kind == "reply":
                step = self.message.reply(job.reply)
            else:
                step = self.message.verify()
        except Exception as exc:  # noqa: BLE001 - a bug in one step: retried a few times, then stop
            step = Step("wait", Failure(Kind.UNEXPECTED, type(exc).__name__, f"unexpected {type(exc).__name__}"))
        self._apply(job, step, started)

    def _apply(self, job: _Job, step: Step, started: float) -> None:
        disable_detail = None
        with self._cv:
            if step.status == "done":
                self._failures = self._unexpected = self._again = 0
                self._resume_at = 0.0
                self._rate_limited = False
                self._last_failure = None
                if step.edited:
                    sent_at = self.message.sent_at
                    self._last_edit_at = sent_at if sent_at is not None and sent_at >= started else started
                if job.kind == "edit" and job.final:
                    self._final_ts = self.message.ts
                elif job.kind == "edit" and job.token is self._wanted_token:
                    self._wanted_done = True
            elif step.status == "again":
                self._again += 1
                if self._again > MAX_AGAIN:
                    disable_detail = "the Slack mirror kept going in circles and stopped; the report stays local"
            elif step.status == "fatal":
                disable_detail = step.failure.fix if step.failure else "Slack refused the report"
            elif step.failure is None and step.pause is not None:
                # Not a failure: a timed-out call may still land, give it time first.
                self._last_failure = Failure(Kind.TRANSIENT, "settling", "waiting for a timed-out request to settle")
                self._rate_limited = False
                self._resume_at = max(self._resume_at, self._clock() + step.pause)
            else:
                disable_detail = self._schedule_retry(step.failure)
                if self._unreachable_after_deadline(step.failure):
                    self._give_up()
            self._cv.notify_all()  # wait_posted() and wait_finished() look again
        if disable_detail:
            self._disable(disable_detail)
        elif step.status == "done":
            self._publish(*self._idle_state())

    def _schedule_retry(self, failure: Failure | None) -> str | None:
        """Under the lock: set when to try again; a detail text if mirroring must stop instead."""
        failure = failure or Failure(Kind.UNEXPECTED, "unknown", "unknown failure")
        self._last_failure = failure
        now = self._clock()
        if failure.kind is Kind.RATE_LIMITED:
            self._rate_limited = True
            retry_after = failure.retry_after if failure.retry_after is not None else 1.0
            jitter = 0.0
            if failure.error in HELD:
                # Held back by another stream's Retry-After: spread out, so the stream that
                # got the 429 goes first and the rest do not call in the same instant.
                # Only ever later than Retry-After, never earlier.
                jitter = self._random.uniform(0.0, min(RATE_JITTER_MAX, RATE_JITTER * retry_after) + 0.05)
            self._resume_at = now + retry_after + jitter
            return None
        self._rate_limited = False
        if failure.kind is Kind.UNEXPECTED:
            self._unexpected += 1
            if self._unexpected > MAX_UNEXPECTED:
                return (
                    f"the Slack mirror stopped after repeated unexpected errors ({failure.error}); "
                    "the report stays local"
                )
        self._failures += 1
        delay = min(self._backoff_max, self._backoff_base * 2 ** (self._failures - 1))
        self._resume_at = now + delay * self._random.uniform(0.5, 1.5)
        return None

    def _failure_detail(self) -> str:
        failure = self._last_failure
        if failure is None:
            return ""
        if failure.error in HELD:
            return f"{failure.fix}: then the newest report"
        if failure.kind is Kind.RATE_LIMITED:
            return "Slack rate limit reached: waiting for its Retry-After, then sending the newest report"
        return f"{failure.fix or failure.error}: retrying with backoff, then sending the newest report"

    def _idle_state(self) -> tuple[str, str, None]:
        with self._cv:
            busy = self._next_job() is not None
        if busy:
            return ("sending", "more to send", None)
        return ("synced", "Slack shows the latest report", None)

    def _mentions_timeout(self) -> float:
        # Names are looked up within the time the end of the run allows, or 10 s before it.
        if self._finish_deadline is None:
            return 10.0
        return max(0.5, min(10.0, self._finish_deadline - time.monotonic() - 1.0))

    def _unreachable_after_deadline(self, failure: Failure | None) -> bool:
        """Under the lock: nothing listens at the API address and the caller stopped waiting."""
        return (
            failure is not None
            and failure.error == "connection_refused"
            and self._finish_deadline is not None
            and time.monotonic() >= self._finish_deadline
        )

    def _give_up(self) -> None:
        """Under the lock: stop trying to deliver the end of the run."""
        self.gave_up = True
        self._cv.notify_all()

    def _disable(self, detail: str) -> None:
        with self._cv:
            if self.disabled:
                return
            self.disabled = True
            self._cv.notify_all()
        self._on_disable(detail)
