"""The one worker: typed operations to Slack, in order, latest-wins for intermediate edits.

Like tqdm's ``MonoWorker`` (:class:`slacknb.runtime.worker.Worker`), :meth:`Outbox.put` only
stores the newest :class:`~slacknb.slack.operations.Edit` (a lock, no I/O); a newer one replaces
the waiting one. :meth:`Outbox.note` keeps a reply for the thread during the run (latest text
per key). :meth:`Outbox.finish` queues the end of the run, delivered in order, each part exactly
once, after the caller stopped waiting too, until ``give_up_at``. What to do next is the pure
:func:`~slacknb.slack.schedule.decide`; the steps call the message layer
(:mod:`~slacknb.slack.message`, :mod:`~slacknb.slack.thread`, :mod:`~slacknb.slack.people`),
which call :class:`~slacknb.slack.api.Api`; nothing calls back up: what the worker says is
published as data (:mod:`slacknb.slack.state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from slacknb.core.mentions import fill_slot
from slacknb.runtime.clock import Clock
from slacknb.runtime.worker import STOP, Worker
from slacknb.slack import thread
from slacknb.slack.exit_wait import listed
from slacknb.slack.errors import Failure, Kind
from slacknb.slack.message import SlackMessage, Step
from slacknb.slack.operations import Edit, Note, Operation
from slacknb.slack.pacing import Pacing
from slacknb.slack.people import People
from slacknb.slack.schedule import Job, Next, Situation, decide
from slacknb.slack.state import MirrorState, Publisher
from slacknb.slack.thread import Delivery

__all__ = ["EndOfRun", "Outbox"]

MAX_AGAIN = 20  # steps in a row that neither call Slack nor finish anything: a loop, stop
PEOPLE_WAIT = 10.0  # how long the end of a run waits for mention look-ups before the final edit


@dataclass
class EndOfRun:
    """The end of a run: the final edit (None: this stream edits no message), then the replies
    people wait for, then the extras (uploads)."""

    final: Edit | None
    deliveries: list[Delivery] = field(default_factory=list)
    final_ts: str | None = None  # ts of the message that showed the final edit

    def final_shown(self, message: SlackMessage) -> bool:
        """True when the report message (still) shows the final edit."""
        if self.final is None:
            return True
        return self.final_ts is not None and self.final_ts == message.ts and message.sent_text is not None

    def next(self, *, essential: bool) -> Delivery | None:
        return next((d for d in self.deliveries if not d.done and d.essential == essential), None)


class Outbox:
    """Runs operations on one daemon thread; see the module docstring."""

    def __init__(self, message: SlackMessage, *, people: People, min_interval: float | None,
                 backoff_base: float = 0.5, backoff_max: float = 30.0, clock: Clock, publisher: Publisher) -> None:
        self.message = message
        self.people = people
        self._clock = clock
        self._pacing = Pacing(min_interval=min_interval, backoff_base=backoff_base, backoff_max=backoff_max)
        self.publisher = publisher
        self._worker: Worker[Edit] = Worker(self._step, clock=clock, name="slacknb-slack", on_crash=self._crashed)
        self._lock = self._worker.lock
        self._notes: dict[str, Delivery] = {}
        self._end: EndOfRun | None = None
        self.finished = self.gave_up = self.disabled = False
        self._deadline: float | None = None  # when the caller stops waiting
        self.give_up_at: float | None = None  # when the worker stops trying
        self._people_deadline: float | None = None
        self._again = 0
        self._idle = True  # nothing to send, or not started: put() must wake the worker
        self._shown: tuple | None = None  # the last published waiting state
        self._sending: Edit | None = None  # the intermediate edit of the step under way
        self.drawing = False
        """True while the worker draws a chart (see :mod:`slacknb.slack.exit_wait`)."""
        self._final_mentions: str | None = None  # how the final text named them, when it was sent

    # -- the caller's side (never blocks on the network) ------------------------------

    def put(self, edit: Edit) -> None:
        """Make ``edit`` the newest intermediate state (latest wins)."""
        with self._lock:
            if self._end is None and not self.stopped:
                # Only an idle worker needs waking: one that waits for min_interval or a backoff
                # picks up the newest edit when its wait ends anyway (and a wake-up per update
                # would make the two threads trade the GIL for nothing).
                self._wake(self._worker.put(edit, wake=self._idle))

    def note(self, note: Note) -> None:
        """Post ``note`` in the thread (once per key; a newer text edits it)."""
        with self._lock:
            if self.stopped:
                return
            delivery = self._notes.setdefault(note.key, Delivery(note))
            delivery.op, delivery.text = note, note.text
            self._wake(self._worker.wake())

    def finish(self, operations: list[Operation], *, deadline: float, give_up_at: float) -> None:
        """Queue the end of the run: at most one final :class:`Edit`, then replies and uploads, in order.

        ``deadline`` (when the caller stops waiting) and ``give_up_at`` are clock times.
        """
        with self._lock:
            if self._end is not None or self.stopped:
                return
            final = next((op for op in operations if isinstance(op, Edit)), None)
            self._end = EndOfRun(final, [Delivery(op) for op in operations if not isinstance(op, Edit)])
            self._worker.take()  # the final edit replaces any intermediate one
            now = self._clock.now()
            self._deadline, self.give_up_at = deadline, max(deadline, give_up_at)
            self._people_deadline = min(now + PEOPLE_WAIT, self.give_up_at)
            # The end of the run is worth an early try: backoff restarts from its base (and
            # is capped from now on), and waits that only hold back intermediate edits do not apply.
            self._pacing.ending = True
            self._pacing.hurry(restart_backoff=True)
            self._wake(self._worker.wake())
        self.publisher.update(delivering=True)

    def attach(self, channel_id: str | None, ts: str | None) -> None:
        """Reply into another process's message (see :meth:`SlackMessage.attach`); look nobody up."""
        with self._lock:
            self.people = People()
            self.message.attach(channel_id, ts)

    def hurry(self) -> None:
        """Cut a backoff short (a Retry-After is still honoured): the process is exiting."""
        with self._lock:
            self._pacing.hurry()
            self._worker.wake()

    def close(self) -> None:
        """Stop the worker after its current step (if any). Idempotent."""
        self._worker.close()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker thread to end (after :meth:`close`)."""
        self._worker.join(timeout)

    def wait_finished(self, timeout: float, *, essential: bool = False) -> bool:
        """Wait until the end of the run is delivered (``essential``: the final edit and the
        replies people wait for); False on timeout or stop."""
        done = (lambda: self._end is not None and self._essential_done()) if essential else (lambda: self.finished)
        return self._wait(done, timeout)

    def wait_posted(self, timeout: float) -> bool:
        """Wait until the message exists in Slack (it has a ``ts``); False on timeout or stop."""
        return self._wait(lambda: self.message.ts is not None, timeout)

    def _wait(self, done: Callable[[], bool], timeout: float) -> bool:
        with self._lock:
            self._clock.wait(self._lock, lambda: done() or self.finished or self.stopped or self.gave_up, timeout)
            return done()

    @property
    def alive(self) -> bool:
        """True while the worker thread runs."""
        return self._worker.alive

    @property
    def stopped(self) -> bool:
        return self.disabled or self._worker.closed

    @property
    def state(self) -> MirrorState:
        return self.publisher.state

    @property
    def last_failure(self) -> Failure | None:
        return self._pacing.last_failure

    @property
    def delivering(self) -> bool:
        """True while the end of the run is queued and neither delivered nor abandoned."""
        return self._end is not None and not (self.finished or self.stopped or self.gave_up)

    def time_left(self) -> float:
        """Seconds until the worker gives up on the end of the run (0 when not finishing)."""
        return 0.0 if self.give_up_at is None else max(0.0, self.give_up_at - self._clock.now())

    def undelivered(self, *, essential: bool | None = None) -> list[str]:
        """What the end of the run has not delivered yet, in order (``essential``: only that part)."""
        with self._lock:
            end = self._end
            if end is None:
                return []
            missing = [] if end.final_shown(self.message) or essential is False else ["the final report edit"]
            return missing + [d.key for d in end.deliveries if not d.done and essential in (None, d.essential)]

    def _essential_done(self) -> bool:
        end = self._end
        return end.final_shown(self.message) and end.next(essential=True) is None

    def _wake(self, started: bool) -> None:
        if not started and not self.disabled:
            self.disabled = True
            self.publisher.notify("Slack mirroring stopped: no thread could be started. The report continues locally.")

    # -- the worker's side -------------------------------------------------------------

    def _situation(self) -> Situation:
        message, end, pacing, now = self.message, self._end, self._pacing, self._clock.now()
        last = pacing.last_edit_at
        return Situation(
            now=now, posted=message.ts is not None, latest=self._worker.peek() is not None, ending=end is not None,
            final_shown=end is None or end.final_shown(message), people_due=self.people.due,
            people_ready_at=self.people.retry_at, people_deadline=self._people_deadline,
            notes_due=any(d.due for d in self._notes.values()),
            reply_due=end is not None and end.next(essential=True) is not None,
            upload_due=end is not None and end.next(essential=False) is not None,
            verify_due=message.verify_after is not None, permalink_due=message.permalink_due,
            resume_at=pacing.resume_at, hold=pacing.hold,
            spaced_at=None if last is None else last + pacing.interval(message.api.streams),
            give_up_at=self.give_up_at, stopped=self.stopped or self.gave_up)

    def _step(self) -> float | None:
        with self._lock:
            plan = decide(self._situation())
            self._idle = plan.over == "synced"
            if plan.over == "gave_up":
                self.gave_up = True
                self._lock.notify_all()
        if plan.over:
            return self._over(plan)
        if plan.job is None:
            self._publish_waiting(plan)
            return plan.wait
        self._shown = None
        calls = self.message.api.calls
        step = self._run(plan.job)
        self._apply(plan.job, step, called=self.message.api.calls > calls)
        return 0.0

    def _over(self, plan: Next) -> float:
        if plan.over == "synced":
            self._publish("synced", "Slack shows the latest report")
            return None
        if plan.over == "finished":
            # Publish the last state BEFORE releasing finish(): its caller reads it next.
            self._publish("synced", "Slack shows the final report", delivering=False)
            with self._lock:
                self.finished = True
                self._lock.notify_all()
        elif plan.over == "gave_up":
            self.publisher.notify(f"Slack did not receive {listed(self.undelivered())} in time"
                                  + _because(self.last_failure) + "; the report is complete locally",
                                  notice=False)  # the exit says it (exit_wait)
            self._publish("disabled", "gave up: Slack did not receive the end of the run in time")
        return STOP

    def _run(self, job: Job) -> Step:
        message = self.message
        try:
            if job is Job.PEOPLE:
                return self.people.step(message.api, self._clock.now())
            if job is Job.GIVE_UP_PEOPLE:
                failure = self.people.last_failure
                self.people.give_up(f"Slack kept failing ({failure.error if failure else 'no answer'}) "
                                    "while looking up mentions")
                return Step("done")
            if job is Job.PERMALINK:
                message.fetch_permalink()
                return Step("done")
            if job is Job.VERIFY:
                return message.verify()
            if job in (Job.EDIT, Job.FINAL):
                edit = self._end.final if job is Job.FINAL else self._worker.peek()
                if edit is None:  # taken by the end of the run since the decision: decide again
                    return Step("again")
                self._sending = edit
                self._publish("posting" if message.ts is None else "sending", "sending the report to Slack")
                if edit.final:  # the people found by now are named in the final text
                    # A new message with a mention notifies, an edit does not: when the final text
                    # is the message's first post it names them in plain text, then an edit puts the
                    # mentions in; only the reply notifies (never twice).
                    markup = self.people.markup if message.ts is not None else self.people.plain
                    self._final_mentions = markup
                    edit = replace(edit, text=fill_slot(edit.text, markup),
                                   keep=tuple(fill_slot(k, markup) for k in edit.keep))
                return message.deliver(edit)
            delivery = self._delivery(job)
            self._publish("sending", f"sending the {delivery.key} to Slack")
            # Drawing runs matplotlib's C++ code: an exit must not tear the thread down in it.
            self.drawing = job is Job.UPLOAD and delivery.data is None and not delivery.done
            try:
                return thread.send(message, delivery, mentions=self.people.markup)
            finally:
                self.drawing = False
        except Exception as exc:  # noqa: BLE001 - a bug in one step: retried a few times, then stop
            return Step("wait", Failure(Kind.UNEXPECTED, type(exc).__name__, f"unexpected {type(exc).__name__}"))

    def _delivery(self, job: Job) -> Delivery:
        if job is Job.NOTE:
            return next(d for d in self._notes.values() if d.due)
        return self._end.next(essential=job is Job.REPLY)

    def _apply(self, job: Job, step: Step, *, called: bool) -> None:
        stop, released = None, False
        with self._lock:
            now = self._clock.now()
            if called:
                self._again = 0  # a call was made: progress, whatever the step says next
            if step.status == "done":
                self._again = 0
                self._pacing.succeeded(edited_at=step.edited_at)
                if job is Job.FINAL and self._final_mentions == self.people.markup:
                    self._end.final_ts = self.message.ts  # shown, mentions and all
                    released = True
                elif job is Job.EDIT and self._worker.peek() is self._sending:
                    self._worker.take()  # shown; a newer one put meanwhile stays, to be sent next
            elif step.status == "again":
                self._again += 1
                if self._again > MAX_AGAIN:
                    stop = "the Slack mirror kept going in circles and stopped; the report stays local"
            elif step.status == "fatal":
                stop = step.failure.fix if step.failure else "Slack refused the report"
            elif step.hold is not None:  # waiting is not a failure
                self._pacing.held(step.hold, step.wait, now)
            else:
                stop = self._pacing.failed(step.failure, now)
                if step.failure is not None and step.failure.error == "connection_refused" \
                        and self._deadline is not None and now >= self._deadline:
                    self.gave_up = True  # nothing listens at the API address and the caller stopped waiting
            self._lock.notify_all()  # wait_posted() and wait_finished() look again
        for problem in self._problems():
            self.publisher.notify(problem)
        if released:
            self.message.api.finished()  # the room the gate kept for this final is free for others
        if stop:
            self._disable(stop)

    def _problems(self) -> list[str]:
        found = [f"Slack: {d.problem}" for d in (self._end.deliveries if self._end else []) if d.problem]
        report = self.people.report()
        return found + ([report] if report else [])

    def _crashed(self, exc: BaseException) -> None:
        self._disable(f"the Slack mirror stopped on an internal error ({type(exc).__name__}); the report stays local")

    def _disable(self, detail: str) -> None:
        with self._lock:
            if self.disabled:
                return
        # The word first: a script waiting for this outbox exits as soon as it reads "disabled".
        self.publisher.notify(f"Slack mirroring stopped: {detail}. The report continues locally.")
        self._publish("disabled", detail, delivering=False)
        with self._lock:
            self.disabled = True
            self._lock.notify_all()
        self.message.api.finished()

    def _publish_waiting(self, plan: Next) -> None:
        status = "sending" if plan.hold is None else plan.hold.status
        key = (status, plan.hold, None if plan.wait is None else round(self._clock.now() + plan.wait, 2))
        if key != self._shown:
            self._shown = key
            self._publish(status, self._pacing.detail(plan.hold), plan.wait)

    def _publish(self, status: str, detail: str, wait: float | None = None, *, delivering: bool | None = None) -> None:
        message = self.message
        if message.note and status != "disabled":
            detail = f"{detail} (note: {message.note})"
        state = self.publisher.state
        self.publisher.publish(replace(
            state, status=status, detail=detail, next_attempt_in=None if wait is None else max(0.0, round(wait, 3)),
            permalink=message.permalink, channel_id=message.channel_id, ts=message.ts,
            sent_text=message.sent_text, api_calls=message.api.calls, budget=message.budget,
            mentions=self.people.markup, names=dict(self.people.names), final_mentions=self._final_mentions,
            delivering=self.delivering if delivering is None else delivering))


def _because(failure: Failure | None) -> str:
    return f" (last problem: {failure.fix or failure.error})" if failure else ""
