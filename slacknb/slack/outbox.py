"""The one worker: typed operations to Slack, in order, latest-wins for intermediate edits.

Like tqdm's ``MonoWorker``, :meth:`Outbox.put` only stores the newest :class:`Edit` (a lock,
no I/O); a newer one replaces the waiting one. :meth:`Outbox.finish` queues the end of the run
(:class:`~slacknb.slack.replies.EndOfRun`), delivered in order, each exactly once, after the
caller stopped waiting too, until ``give_up_at``. The worker calls the message layer, which
calls slack_sdk; nothing calls back up: what it says comes back as data (the published
:class:`MirrorState` and notices). Every wait is a :class:`~slacknb.slack.limits.Hold` on the
injected clock. Mentions are resolved here, on the worker, before a reply is composed.
"""

from __future__ import annotations

from typing import Callable

from slacknb.slack.clock import Clock
from slacknb.slack.errors import Failure, Kind
from slacknb.slack.limits import Hold
from slacknb.slack.mentions import Mention, MentionResolver, Pending
from slacknb.slack.message import SlackMessage, Step
from slacknb.slack.operations import Edit, MirrorState, Operation, Publisher
from slacknb.slack.replies import EndOfRun, send, verify
from slacknb.slack.timing import Timing
from slacknb.slack.worker import Worker

__all__ = ["Outbox"]

MAX_AGAIN = 20  # steps in a row that make no call-free progress: a loop, treat as unexpected
MENTIONS, PERMALINK, VERIFY = "mentions", "permalink", "verify"  # the worker's own jobs


class Outbox(Worker):
    """Runs operations on one daemon thread; see the module docstring."""

    def __init__(self, message: SlackMessage, *, mentions: tuple[Mention, ...] = (), min_interval: float,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, clock: Clock,
                 on_state: Callable[[MirrorState], object] | None = None) -> None:
        super().__init__(clock)
        self.message = message
        self._mentions = Pending(mentions)
        self._timing = Timing(min_interval=min_interval, backoff_base=backoff_base, backoff_max=backoff_max)
        # What the worker says, as data: the published state and the notices for a person.
        self.publisher = Publisher(message, on_state=on_state, token=getattr(message.api.client, "token", None),
                              mentions=self._mentions.markup)
        self._latest: Edit | None = None  # the newest intermediate edit, not yet shown
        self._end: EndOfRun | None = None
        self.finished = self.gave_up = False
        self._deadline: float | None = None  # when the caller stops waiting
        self.give_up_at: float | None = None  # when the worker stops trying
        self._waiting_for: Hold | None = None  # what the worker waits for now
        self._idle = True  # waiting with nothing to send (or not started): put() must wake it
        self._again = 0



    def put(self, edit: Edit) -> None:
        """Make ``edit`` the newest intermediate state (latest wins). Never blocks on the network."""
        with self._cv:
            if self._end is not None or self.closed or self.disabled:
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
            if self._end is not None or self.closed or self.disabled:
                return
            self._end, self._latest = EndOfRun(operations), None
            self._deadline, self.give_up_at = deadline, max(deadline, give_up_at)
            # The end of the run is worth an early try: backoff restarts from its base,
            # and waits that only hold back intermediate edits do not apply to it.
            self._timing.hurry(restart_backoff=True)
            self._wake()

    def attach(self, channel_id: str | None, ts: str | None) -> None:
        """Reply into another process's message (see :meth:`SlackMessage.attach`); resolve no mentions."""
        with self._cv:
            self._mentions = Pending()
            self.message.attach(channel_id, ts)

    def wait_finished(self, timeout: float) -> bool:
        """Wait until the end of the run is delivered; False on timeout or stop."""
        return self._wait(lambda: self.finished, timeout)

    def wait_posted(self, timeout: float) -> bool:
        """Wait until the message exists in Slack (it has a ``ts``); False on timeout or stop."""
        return self._wait(lambda: self.message.ts is not None, timeout)

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        with self._cv:
            stopped = lambda: self.finished or self.disabled or self.closed or self.gave_up  # noqa: E731
            self._clock.wait(self._cv, lambda: done() or stopped(), timeout)
            return done()

    def hurry(self) -> None:
        """Cut a backoff wait short (a Retry-After is still honoured): the process is exiting."""
        with self._cv:
            self._timing.hurry()
            self._wake()

    @property
    def state(self) -> MirrorState:
        """The latest published :class:`MirrorState`."""
        return self.publisher.state

    @property
    def last_failure(self) -> Failure | None:
        """The most recent failure (for the caller's warning text)."""
        return self._timing.last_failure

    @property
    def delivering(self) -> bool:
        """True while the end of the run is queued and neither delivered nor abandoned."""
        return self._end is not None and not (self.finished or self.disabled or self.closed or self.gave_up)

    @property
    def wants_mentions(self) -> bool:
        """True when a finish reply has someone to notify."""
        return bool(self._mentions.mentions)

    def time_left(self) -> float:
        """Seconds until the worker gives up on the end of the run (0 when not finishing)."""
        return 0.0 if self.give_up_at is None else max(0.0, self.give_up_at - self._clock.now())

    def undelivered(self) -> list[str]:
        """What the end of the run has not delivered yet, in order, for the caller's warning."""
        with self._cv:
            return self._end.undelivered(self.message) if self._end is not None else []

    def _wake(self) -> bool:
        started = super()._wake()
        if not started:
            self.publisher.notify("Slack mirroring stopped: no thread could be started. The report continues locally.")
        return started

    # -- worker side -----------------------------------------------------------------

    def _crashed(self, exc: BaseException) -> None:
        self._disable(f"the Slack mirror stopped on an internal error ({type(exc).__name__}); the report stays local")

    def _loop(self) -> None:
        published = None
        while True:
            with self._cv:
                generation = self._generation
                job, status, wait = self._decide()
            if status == "stop":
                if self.gave_up:
                    self._publish("disabled", "gave up: Slack did not receive the end of the run in time")
                return
            if status == "finished":
                # Publish the last state BEFORE releasing finish(): its caller reads it next.
                self._publish("synced", "Slack shows the final report", delivering=False)
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
                self._publish(status, self._timing.detail(self._waiting_for), wait)
                published = key
            self._sleep(generation, wait)

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
            self._idle = self._end is None
            return None, ("synced" if self._idle else "finished"), None
        ready_at, self._waiting_for = self._timing.ready_at(intermediate_edit=job is self._latest)
        if ready_at <= now:
            return job, "", None
        wait = ready_at - now
        if self.give_up_at is not None:
            wait = min(wait, max(0.0, self.give_up_at - now) + 0.001)  # wake to give up on time
        return None, ("sending" if self._waiting_for is None else self._waiting_for.status), wait

    def _next_job(self):
        message, end = self.message, self._end
        if end is not None:
            pending = end.pending()
            if not end.final_shown(message):
                return end.final
            if pending is not None:
                return MENTIONS if self._mentions.due else pending
            return PERMALINK if message.permalink_due else VERIFY if message.verify_after is not None else None
        if message.permalink_due and self._latest is not None and self._timing.edit_waits(self._clock.now()):
            # Fetched while the next edit waits out min_interval anyway: otherwise a
            # steady stream of edits would starve it until the end of the run.
            return PERMALINK
        if self._latest is not None:
            return self._latest
        if message.permalink_due:
            return PERMALINK
        return MENTIONS if message.ts is not None and self._mentions.due else None

    def _do(self, job) -> None:
        if job is MENTIONS:
            return self._resolve_mentions()
        if job is PERMALINK:
            self.message.fetch_permalink()
            return self._publish_idle()
        what = "the report" if isinstance(job, Edit) else f"the {getattr(job, 'key', 'report')}"
        self._publish("posting" if self.message.ts is None and isinstance(job, Edit) else "sending",
                      f"sending {what} to Slack")
        started = self._clock.now()
        try:
            if isinstance(job, Edit):
                step = self.message.deliver(job)
            elif job is VERIFY:
                step = verify(self.message)
            else:
                step = send(self.message, job, mentions=self._mentions.markup)
                if job.problem:
                    self.publisher.notify(f"Slack: {job.problem}; the rest of the report is still delivered")
        except Exception as exc:  # noqa: BLE001 - a bug in one step: retried a few times, then stop
            step = Step("wait", Failure(Kind.UNEXPECTED, type(exc).__name__, f"unexpected {type(exc).__name__}"))
        self._apply(job, step, started)

    def _apply(self, job, step: Step, started: float) -> None:
        stop = None
        with self._cv:
            now = self._clock.now()
            if step.status == "done":
                self._again = 0
                sent_at = self.message.api.sent_at
                edited_at = (sent_at if sent_at is not None and sent_at >= started else started) if step.edited else None
                self._timing.succeeded(edited_at=edited_at)
                if self._end is not None and job is self._end.final:
                    self._end.shown(self.message)
                elif job is self._latest:
                    self._latest = None
            elif step.status == "again":
                self._again += 1
                if self._again > MAX_AGAIN:
                    stop = "the Slack mirror kept going in circles and stopped; the report stays local"
            elif step.status == "fatal":
                stop = step.failure.fix if step.failure else "Slack refused the report"
            elif step.hold is not None:  # waiting is not a failure
                self._timing.held(step.hold, step.wait, now)
            else:
                stop = self._timing.failed(step.failure, now)
                if step.failure is not None and step.failure.error == "connection_refused" \
                        and self._deadline is not None and now >= self._deadline:
                    self.gave_up = True  # nothing listens at the API address and the caller stopped waiting
            self._cv.notify_all()  # wait_posted() and wait_finished() look again
        if stop:
            self._disable(stop)
        elif step.status == "done":
            self._publish_idle()

    def _resolve_mentions(self) -> None:
        # Names are looked up within the time the end of the run allows, or 10 s before it.
        left = 10.0 if self._deadline is None else self._deadline - self._clock.now() - 1.0
        resolver = MentionResolver(self.message.api.client, wait=self._pause, count_call=self.message.api.count,
                                   clock=self._clock.now)
        problem = self._mentions.resolve(resolver, timeout=max(0.5, min(10.0, left)))
        if problem:
            self.publisher.notify(problem)
        self._publish_idle()

    def _publish_idle(self) -> None:
        with self._cv:
            busy = self._next_job() is not None
        self._publish("sending" if busy else "synced", "more to send" if busy else "Slack shows the latest report")

    def _publish(self, status: str, detail: str, wait: float | None = None, *, delivering: bool | None = None) -> None:
        self.publisher.publish(status, detail, wait, mentions=self._mentions.markup,
                          delivering=self.delivering if delivering is None else delivering)

    def _disable(self, detail: str) -> None:
        with self._cv:
            if self.disabled:
                return
            self.disabled = True
            self._cv.notify_all()
        self.publisher.notify(f"Slack mirroring stopped: {detail}. The report continues locally.")
        self._publish("disabled", detail)
