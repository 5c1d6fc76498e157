"""The one worker: typed operations to Slack, in order, latest-wins for intermediate edits.

Like tqdm's ``MonoWorker``: the caller only stores the newest :class:`Edit` and wakes the
thread (:meth:`Outbox.put` costs a lock and a notify, no I/O); a newer edit replaces the
waiting one, so memory stays bounded and the newest state always goes out. The end of a
run is different: :meth:`Outbox.finish` queues the final edit, the replies and uploads,
which are delivered in that order, each exactly once, and never dropped: the worker keeps
going after the caller stopped waiting, until everything arrived or ``give_up_at``.

The worker calls the message layer (:mod:`slacknb.slack.message`, :mod:`slacknb.slack.replies`),
which calls slack_sdk; nothing calls back up. What it has to say comes back as data: the
published :class:`MirrorState` (:attr:`Outbox.state`, and the ``on_state`` subscriber) and
:meth:`Outbox.take_notices`. Every wait (``min_interval``, backoff, Retry-After, the gate)
is a :class:`~slacknb.slack.limits.Hold` waited out on the injected clock, and cut short by
``finish``/``close``. Mentions are resolved here, on the worker, before a reply is composed.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from typing import Callable

from slacknb.slack.clock import Clock
from slacknb.slack.errors import Failure, Kind, scrub
from slacknb.slack.limits import Hold
from slacknb.slack.mentions import Mention, MentionResolver, format_mentions
from slacknb.slack.message import SlackMessage, Step
from slacknb.slack.operations import Edit, MirrorState, Operation
from slacknb.slack.replies import Delivery, send

__all__ = ["Outbox"]

MAX_UNEXPECTED = 5  # unknown errors retried this many times in a row, then mirroring stops
MAX_AGAIN = 20  # steps in a row that make no call-free progress: a loop, treat as unexpected
RATE_JITTER, RATE_JITTER_MAX = 0.25, 2.0  # spread of streams released by another's Retry-After
MENTIONS, PERMALINK, VERIFY = "mentions", "permalink", "verify"


class Outbox:
    """Runs operations on one daemon thread; see the module docstring."""

    def __init__(self, message: SlackMessage, *, mentions: tuple[Mention, ...] = (), min_interval: float,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, clock: Clock,
                 on_state: Callable[[MirrorState], object] | None = None) -> None:
        self.message = message
        self._mentions = tuple(mentions)
        self._mentions_due = any(m.markup is None for m in self._mentions)
        self._markup = format_mentions(m.markup for m in self._mentions)
        self._min_interval, self._backoff = min_interval, (backoff_base, backoff_max)
        self._clock = clock
        self._on_state = on_state
        self._token = getattr(message.api.client, "token", None)
        self._cv = threading.Condition(threading.Lock())
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by every put/finish/close, so no wake-up is lost
        self._latest: Edit | None = None  # the newest intermediate edit, not yet shown
        self._final: Edit | None = None
        self._final_ts: str | None = None  # ts of the message that shows the final edit
        self._queue: deque[Delivery] = deque()
        self._finishing = self.finished = self.closed = self.disabled = self.gave_up = False
        self._deadline: float | None = None  # when the caller stops waiting
        self.give_up_at: float | None = None  # when the worker stops trying
        self._last_edit_at: float | None = None
        self._resume_at = 0.0
        self._hold: Hold | None = None  # why the next call waits until _resume_at
        self._waiting_for: Hold | None = None  # ... or MIN_INTERVAL: what the worker waits for now
        self._idle = True  # waiting with nothing to send (or not started): put() must wake it
        self.last_failure: Failure | None = None
        self._failures = self._unexpected = self._again = 0
        self._notices: list[str] = []
        self._random = random.Random()
        self.state = self._snapshot("posting", "nothing sent yet: the first update posts the message", None)

    # -- caller side -----------------------------------------------------------------

    def put(self, edit: Edit) -> None:
        """Make ``edit`` the newest intermediate state (latest wins). Never blocks on the network."""
        with self._cv:
            if self._finishing or self.closed or self.disabled:
                return
            self._latest = edit
            if self._idle:
                # Only an idle worker needs waking: one that waits for min_interval or a
                # backoff picks up the newest edit when its wait ends anyway.
                self._wake()

    def finish(self, operations: list[Operation], *, deadline: float, give_up_at: float) -> None:
        """Queue the end of the run: at most one final :class:`Edit`, then replies and uploads, in order.

        ``deadline`` (when the caller stops waiting) and ``give_up_at`` are clock times.
        """
        with self._cv:
            if self._finishing or self.closed or self.disabled:
                return
            self._finishing = True
            self._latest = None
            self._final = next((op for op in operations if isinstance(op, Edit)), None)
            self._queue.extend(Delivery(op) for op in operations if not isinstance(op, Edit))
            self._deadline, self.give_up_at = deadline, max(deadline, give_up_at)
            if self._hold is None or not self._hold.binding:
                # The end of the run is worth an early try: backoff restarts from its base,
                # and waits that only hold back intermediate edits do not apply to it.
                self._resume_at, self._failures = 0.0, 0
            self._wake()

    def attach(self, channel_id: str | None, ts: str | None) -> None:
        """Reply into another process's message (see :meth:`SlackMessage.attach`); resolve no mentions."""
        with self._cv:
            self._mentions_due = False
            self.message.attach(channel_id, ts)

    def wait_finished(self, timeout: float) -> bool:
        """Wait until the end of the run is delivered; False on timeout or stop."""
        with self._cv:
            self._clock.wait(self._cv, lambda: self.finished or self.disabled or self.closed or self.gave_up, timeout)
            return self.finished

    def wait_posted(self, timeout: float) -> bool:
        """Wait until the message exists in Slack (it has a ``ts``); False on timeout or stop."""
        with self._cv:
            self._clock.wait(self._cv, lambda: self.message.ts is not None or self.disabled or self.closed
                             or self.gave_up or self.finished, timeout)
            return self.message.ts is not None

    def hurry(self) -> None:
        """Cut a backoff wait short (a Retry-After is still honoured): the process is exiting."""
        with self._cv:
            if self._hold is None or not self._hold.binding:
                self._resume_at = 0.0
            self._wake()

    def close(self) -> None:
        """Stop the worker after its current call (if any). Idempotent."""
        with self._cv:
            self.closed = True
            self._wake()

    @property
    def delivering(self) -> bool:
        """True while the end of the run is queued and neither delivered nor abandoned."""
        return self._finishing and not (self.finished or self.disabled or self.closed or self.gave_up)

    def time_left(self) -> float:
        """Seconds until the worker gives up on the end of the run (0 when not finishing)."""
        return 0.0 if self.give_up_at is None else max(0.0, self.give_up_at - self._clock.now())

    @property
    def wants_mentions(self) -> bool:
        """True when a finish reply has someone to notify."""
        return bool(self._mentions)

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def undelivered(self) -> list[str]:
        """What the end of the run has not delivered yet, in order, for the caller's warning."""
        with self._cv:
            missing = [] if self._final_shown() else ["the final report edit"]
            return missing + [d.key for d in self._queue if not d.done]

    def take_notices(self) -> list[str]:
        """What a person should be told (token scrubbed), once each; the caller warns on its thread."""
        with self._cv:
            notices, self._notices = self._notices, []
            return notices

    def _wake(self) -> None:
        """Under the lock: let the worker look again, starting it at the first use."""
        self._generation += 1
        self._cv.notify_all()
        if self._thread is None and not self.closed:
            thread = threading.Thread(target=self._run, name="slacknb-mirror", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # "can't start new thread": out of resources, never the caller's problem
                self.disabled = True
                self._notices.append("Slack mirroring stopped: no thread could be started for the Slack mirror. "
                                     "The report continues locally.")
                return
            self._thread = thread

    # -- worker side -----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a bug must stop mirroring loudly, not silently
            self._disable(f"the Slack mirror stopped on an internal error ({type(exc).__name__}); "
                          "the report stays local")

    def _loop(self) -> None:
        published = None
        while True:
            with self._cv:
                generation = self._generation
                job, status, wait = self._decide()
            if status == "stop":
                if self.gave_up:
                    self._publish("disabled", "gave up: Slack did not receive the end of the run in time", None)
                return
            if status == "finished":
                # Publish the last state BEFORE releasing finish(): its caller reads it next.
                self._publish("synced", "Slack shows the final report", None)
                with self._cv:
                    self.finished = True
                    self._cv.notify_all()
                return
            if job is not None:
                self._do(job)
                published = None
                continue
            key = (status, self._waiting_for, None if wait is None else round(self._clock.now() + wait, 2))
            if key != published:
                self._publish(status, self._detail(wait), wait)
                published = key
            with self._cv:
                self._clock.wait(self._cv, lambda: self._generation != generation, wait)

    def _decide(self) -> tuple[object, str, float | None]:
        """Under the lock: (job, "", None) to do now, or (None, status, seconds to wait)."""
        self._idle = False
        if self.closed or self.disabled or self.gave_up:
            return None, "stop", None
        job = self._next_job()
        now = self._clock.now()
        if self.give_up_at is not None and now >= self.give_up_at and job is not None:
            self.gave_up = True
            self._cv.notify_all()
            return None, "stop", None
        if job is None:
            self._idle = not self._finishing
            return None, ("finished" if self._finishing else "synced"), None
        ready_at, self._waiting_for = self._resume_at, self._hold
        if isinstance(job, Edit) and not job.final and self._last_edit_at is not None:
            if self._last_edit_at + self._min_interval > ready_at:
                ready_at, self._waiting_for = self._last_edit_at + self._min_interval, Hold.MIN_INTERVAL
        if ready_at <= now:
            return job, "", None
        wait = ready_at - now
        if self.give_up_at is not None:
            wait = min(wait, max(0.0, self.give_up_at - now) + 0.001)  # wake to give up on time
        held = self._waiting_for
        status = "sending" if held in (None, Hold.MIN_INTERVAL) else "retrying" if held in (
            Hold.BACKOFF, Hold.SETTLING) else "rate_limited"
        return None, status, wait

    def _next_job(self):
        message = self.message
        if self._finishing:
            pending = next((d for d in self._queue if not d.done), None)
            if not self._final_shown():
                return self._final
            if pending is not None:
                return MENTIONS if self._mentions_due else pending
            return PERMALINK if message.permalink_due else VERIFY if message.verify_after is not None else None
        if message.permalink_due and self._latest is not None and self._last_edit_at is not None \
                and self._resume_at <= self._clock.now() < self._last_edit_at + self._min_interval:
            # Fetched while the next edit waits out min_interval anyway: otherwise a
            # steady stream of edits would starve it until the end of the run.
            return PERMALINK
        if self._latest is not None:
            return self._latest
        if message.permalink_due:
            return PERMALINK
        return MENTIONS if message.ts is not None and self._mentions_due else None

    def _final_shown(self) -> bool:
        if self._final is None:
            return True  # replies only: this stream edits no message
        return self._final_ts is not None and self._final_ts == self.message.ts and self.message.sent_text is not None

    def _do(self, job) -> None:
        if job is PERMALINK:
            self.message.fetch_permalink()
            self._publish_idle()
            return
        if job is MENTIONS:
            self._resolve_mentions()
            return
        what = "the report" if isinstance(job, Edit) else f"the {getattr(job, 'key', 'report')}"
        self._publish("posting" if self.message.ts is None and isinstance(job, Edit) else "sending",
                      f"sending {what} to Slack", None)
        started = self._clock.now()
        try:
            if isinstance(job, Edit):
                step = self.message.deliver(job)
            elif job is VERIFY:
                step = self.message.verify()
            else:
                step = send(self.message, job, mentions=self._markup)
                if job.problem:
                    self._notify(f"Slack: {job.problem}; the rest of the report is still delivered")
        except Exception as exc:  # noqa: BLE001 - a bug in one step: retried a few times, then stop
            step = Step("wait", Failure(Kind.UNEXPECTED, type(exc).__name__, f"unexpected {type(exc).__name__}"))
        self._apply(job, step, started)

    def _apply(self, job, step: Step, started: float) -> None:
        stop = None
        with self._cv:
            now = self._clock.now()
            if step.status == "done":
                self._failures = self._unexpected = self._again = 0
                self._resume_at, self._hold, self.last_failure = 0.0, None, None
                if step.edited:
                    sent_at = self.message.api.sent_at
                    self._last_edit_at = sent_at if sent_at is not None and sent_at >= started else started
                if job is self._final:
                    self._final_ts = self.message.ts
                elif job is self._latest:
                    self._latest = None
            elif step.status == "again":
                self._again += 1
                if self._again > MAX_AGAIN:
                    stop = "the Slack mirror kept going in circles and stopped; the report stays local"
            elif step.status == "fatal":
                stop = step.failure.fix if step.failure else "Slack refused the report"
            elif step.hold is not None:  # waiting is not a failure
                jitter = self._random.uniform(0.0, min(RATE_JITTER_MAX, RATE_JITTER * step.wait) + 0.05) \
                    if step.hold.gate else 0.0  # only ever later than asked: the stream told first goes first
                self._hold, self._resume_at = step.hold, max(self._resume_at, now + step.wait + jitter)
            else:
                stop = self._retry_later(step.failure, now)
            self._cv.notify_all()  # wait_posted() and wait_finished() look again
        if stop:
            self._disable(stop)
        elif step.status == "done":
            self._publish_idle()

    def _retry_later(self, failure: Failure | None, now: float) -> str | None:
        """Under the lock: set when to try again; a detail text if mirroring must stop instead."""
        failure = self.last_failure = failure or Failure(Kind.UNEXPECTED, "unknown", "unknown failure")
        if failure.kind is Kind.RATE_LIMITED:
            self._hold = Hold.RETRY_AFTER
            self._resume_at = now + (failure.retry_after if failure.retry_after is not None else 1.0)
            return None
        if failure.kind is Kind.UNEXPECTED:
            self._unexpected += 1
            if self._unexpected > MAX_UNEXPECTED:
                return f"the Slack mirror stopped after repeated unexpected errors ({failure.error}); " \
                       "the report stays local"
        if failure.error == "connection_refused" and self._deadline is not None and now >= self._deadline:
            self.gave_up = True  # nothing listens at the API address and the caller stopped waiting
        self._failures += 1
        base, most = self._backoff
        delay = min(most, base * 2 ** (self._failures - 1))
        self._hold, self._resume_at = Hold.BACKOFF, now + delay * self._random.uniform(0.5, 1.5)
        return None

    def _resolve_mentions(self) -> None:
        left = 10.0 if self._deadline is None else self._deadline - self._clock.now() - 1.0
        resolver = MentionResolver(self.message.api.client, wait=self._pause, count_call=self.message.api.count,
                                   clock=self._clock.now)
        resolution = resolver.resolve(self._mentions, timeout=max(0.5, min(10.0, left)))
        if resolution.unresolved:
            why = f": {resolution.problem}" if resolution.problem else ": no such user in the workspace"
            self._notify(f"Slack mentions not resolved, they will not be notified: "
                         f"{', '.join(resolution.unresolved)}{why}")
        with self._cv:
            self._markup, self._mentions_due = resolution.markup, False
        self._publish_idle()

    def _pause(self, seconds: float) -> bool:
        """Interruptible pause for the mention look-ups; False once stopping."""
        with self._cv:
            return not self._clock.wait(self._cv, lambda: self.closed or self.disabled, seconds)

    def _detail(self, wait: float | None) -> str:
        held = self._waiting_for if wait is not None else None
        if held is None:
            return "Slack shows the latest report"
        if held is Hold.BACKOFF and self.last_failure is not None:
            return f"{self.last_failure.fix or self.last_failure.error}: {held.why}, then sending the newest report"
        return held.why if held in (Hold.MIN_INTERVAL, Hold.SETTLING) else f"{held.why}, then sending the newest report"

    def _publish_idle(self) -> None:
        with self._cv:
            busy = self._next_job() is not None
        self._publish("sending" if busy else "synced", "more to send" if busy else "Slack shows the latest report",
                      None)

    def _snapshot(self, status: str, detail: str, wait: float | None) -> MirrorState:
        message = self.message
        if message.note and status != "disabled":
            detail = f"{detail} (note: {message.note})"
        return MirrorState(status=status, detail=scrub(detail, self._token),
                           next_attempt_in=None if wait is None else max(0.0, round(wait, 3)),
                           permalink=message.permalink, channel_id=message.channel_id, ts=message.ts,
                           sent_text=message.sent_text, api_calls=message.api.calls, budget=message.budget,
                           mentions=self._markup, delivering=self.delivering)

    def _publish(self, status: str, detail: str, wait: float | None) -> None:
        state = self._snapshot(status, detail, wait)
        if state == self.state:
            return
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # noqa: BLE001 - a display callback must not stop mirroring
                pass

    def _notify(self, text: str) -> None:
        with self._cv:
            self._notices.append(scrub(text, self._token))

    def _disable(self, detail: str) -> None:
        with self._cv:
            if self.disabled:
                return
            self.disabled = True
            self._cv.notify_all()
        self._notify(f"Slack mirroring stopped: {detail}. The report continues locally.")
        self._publish("disabled", detail, None)
