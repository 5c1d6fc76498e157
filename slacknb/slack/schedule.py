"""What the outbox does next, and when: one pure function of what it knows and the time.

:func:`decide` takes a :class:`Situation` (plain values read under the outbox's lock) and
returns a :class:`Next`: a :class:`Job` to do now, or how long to wait and why (a
:class:`~slacknb.slack.pacing.Hold`), or that the work is over. No I/O, no clock of its own:
the tests read it as a table (``tests/slack/test_schedule.py``).

The order of importance:

* during the run: the first post, then the people look-ups (so the end can name them), then
  notes (a "Stalled" reply), the permalink while an edit waits for ``min_interval``, the
  newest edit;
* at the end: the people (bounded: they are given up at ``people_deadline``), the final edit,
  the replies people wait for (the failure alert, the finish reply that notifies), then notes,
  then what is extra (the chart), then the read-back after a timed-out edit, the permalink.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from slacknb.slack.pacing import Hold

__all__ = ["Job", "Next", "Situation", "decide"]


class Job(enum.Enum):
    """One step of work (at most one API call)."""

    EDIT = "edit"  # the newest intermediate edit (the first one posts the message)
    FINAL = "final"  # the final edit
    PEOPLE = "people"  # one mention look-up
    GIVE_UP_PEOPLE = "give_up_people"  # the end cannot wait longer for the look-ups
    NOTE = "note"  # a reply during the run, or its newer text
    REPLY = "reply"  # an end-of-run reply people wait for
    UPLOAD = "upload"  # one step of an extra (the chart)
    VERIFY = "verify"  # read the message back after a timed-out edit
    PERMALINK = "permalink"


@dataclass(frozen=True)
class Situation:
    """What the outbox knows at ``now`` (clock seconds)."""

    now: float
    posted: bool = False
    """The message exists in Slack (or this stream replies in another's thread)."""
    latest: bool = False
    """An intermediate edit waits to be shown."""
    ending: bool = False
    final_shown: bool = False
    people_due: bool = False
    people_ready_at: float = 0.0
    people_deadline: float | None = None
    notes_due: bool = False
    reply_due: bool = False
    upload_due: bool = False
    verify_due: bool = False
    permalink_due: bool = False
    resume_at: float = 0.0
    """Nothing may be sent before this (backoff, Retry-After, the gate), because of ``hold``."""
    hold: Hold | None = None
    spaced_at: float | None = None
    """The next intermediate edit may go from this time (``min_interval`` after the last edit)."""
    give_up_at: float | None = None
    stopped: bool = False


@dataclass(frozen=True)
class Next:
    """``job`` to do now; else wait ``wait`` seconds (None: until woken) for ``hold``, or stop.

    ``over`` is "" while there is work, else "finished" (the end was delivered), "synced"
    (nothing to send until woken), "gave_up" (the end was not delivered in time) or "stopped".
    """

    job: Job | None = None
    wait: float | None = None
    hold: Hold | None = None
    over: str = ""


def decide(s: Situation) -> Next:
    """The next step; see the module docstring."""
    if s.stopped:
        return Next(over="stopped")
    job = _choose(s)
    if job is None:
        return Next(over="finished" if s.ending else "synced")
    if s.give_up_at is not None and s.now >= s.give_up_at:
        return Next(over="gave_up")
    if job is Job.GIVE_UP_PEOPLE:
        return Next(job)
    ready_at, hold = s.resume_at, s.hold
    if job is Job.EDIT and s.spaced_at is not None and s.spaced_at > ready_at:
        ready_at, hold = s.spaced_at, Hold.MIN_INTERVAL
    if job is Job.PEOPLE and s.people_ready_at > ready_at:
        ready_at, hold = s.people_ready_at, Hold.BACKOFF
        if s.ending and s.people_deadline is not None:
            ready_at = min(ready_at, s.people_deadline)  # wake to give them up on time
    if ready_at <= s.now:
        return Next(job)
    wait = ready_at - s.now
    if s.give_up_at is not None:
        wait = min(wait, max(0.0, s.give_up_at - s.now) + 0.001)  # wake to give up on time
    return Next(job=None, wait=wait, hold=hold)


def _choose(s: Situation) -> Job | None:
    if s.ending:
        if s.people_due:
            return Job.GIVE_UP_PEOPLE if s.people_deadline is not None and s.now >= s.people_deadline else Job.PEOPLE
        if not s.final_shown:
            return Job.FINAL
        if s.reply_due:
            return Job.REPLY
        if s.notes_due and s.posted:
            return Job.NOTE
        if s.upload_due:
            return Job.UPLOAD
        if s.verify_due:
            return Job.VERIFY
        return Job.PERMALINK if s.permalink_due else None
    if not s.posted:
        return Job.EDIT if s.latest else None
    if s.people_due and s.people_ready_at <= s.now:
        return Job.PEOPLE
    if s.notes_due:
        return Job.NOTE
    edit_waits = s.spaced_at is not None and s.now < s.spaced_at and s.resume_at <= s.now
    if s.permalink_due and (not s.latest or edit_waits):
        # Fetched while the next edit waits out min_interval anyway: otherwise a steady
        # stream of edits would starve it until the end of the run.
        return Job.PERMALINK
    if s.latest:
        return Job.EDIT
    return Job.PEOPLE if s.people_due else None
