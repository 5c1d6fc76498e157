"""The outbox's decisions, read as a table: what it knows at a moment -> what it does next."""

from __future__ import annotations

import pytest

from slacknb.slack.pacing import Hold
from slacknb.slack.schedule import Job, Next, Situation, decide

NOW = 100.0


def at(**known) -> Situation:
    return Situation(now=NOW, **known)


TABLE = [
    # -- during the run -------------------------------------------------------------------------
    ("nothing to send", at(), Next(over="synced")),
    ("the first edit posts the message", at(latest=True), Next(Job.EDIT)),
    ("nobody is looked up before the message exists", at(latest=True, people_due=True), Next(Job.EDIT)),
    ("then the people, before the next edit", at(posted=True, latest=True, people_due=True), Next(Job.PEOPLE)),
    ("people on their own backoff: the edit goes meanwhile",
     at(posted=True, latest=True, people_due=True, people_ready_at=NOW + 3), Next(Job.EDIT)),
    ("people on their own backoff, nothing else: wait for them",
     at(posted=True, people_due=True, people_ready_at=NOW + 3), Next(wait=3.0, hold=Hold.BACKOFF)),
    ("a note goes before the newest edit", at(posted=True, latest=True, notes_due=True), Next(Job.NOTE)),
    ("the edit waits out min_interval",
     at(posted=True, latest=True, spaced_at=NOW + 0.5), Next(wait=0.5, hold=Hold.MIN_INTERVAL)),
    ("the permalink fills the wait for min_interval",
     at(posted=True, latest=True, spaced_at=NOW + 0.5, permalink_due=True), Next(Job.PERMALINK)),
    ("a Retry-After holds everything",
     at(posted=True, latest=True, resume_at=NOW + 2, hold=Hold.RETRY_AFTER), Next(wait=2.0, hold=Hold.RETRY_AFTER)),
    ("a backoff longer than min_interval is what the edit waits for",
     at(posted=True, latest=True, resume_at=NOW + 4, hold=Hold.BACKOFF, spaced_at=NOW + 1),
     Next(wait=4.0, hold=Hold.BACKOFF)),
    # -- at the end -----------------------------------------------------------------------------
    ("the people first, so the final edit names them",
     at(ending=True, people_due=True, people_deadline=NOW + 10), Next(Job.PEOPLE)),
    ("people on their backoff at the end: wait, but no longer than their deadline",
     at(ending=True, people_due=True, people_ready_at=NOW + 30, people_deadline=NOW + 10),
     Next(wait=10.0, hold=Hold.BACKOFF)),
    ("their deadline passed: give them up", at(ending=True, people_due=True, people_deadline=NOW),
     Next(Job.GIVE_UP_PEOPLE)),
    ("then the final edit", at(ending=True), Next(Job.FINAL)),
    ("the final edit is not held for min_interval", at(ending=True, spaced_at=NOW + 5), Next(Job.FINAL)),
    ("but a Retry-After holds it", at(ending=True, resume_at=NOW + 1, hold=Hold.RETRY_AFTER),
     Next(wait=1.0, hold=Hold.RETRY_AFTER)),
    ("then the replies people wait for", at(ending=True, final_shown=True, reply_due=True, upload_due=True,
                                             notes_due=True, posted=True), Next(Job.REPLY)),
    ("then notes", at(ending=True, final_shown=True, upload_due=True, notes_due=True, posted=True), Next(Job.NOTE)),
    ("then the extras", at(ending=True, final_shown=True, upload_due=True, verify_due=True), Next(Job.UPLOAD)),
    ("then the read-back of a timed-out edit", at(ending=True, final_shown=True, verify_due=True,
                                                   permalink_due=True), Next(Job.VERIFY)),
    ("then the permalink", at(ending=True, final_shown=True, permalink_due=True), Next(Job.PERMALINK)),
    ("everything delivered", at(ending=True, final_shown=True), Next(over="finished")),
    ("time is up with work left", at(ending=True, give_up_at=NOW), Next(over="gave_up")),
    ("time is up, nothing left: delivered all the same", at(ending=True, final_shown=True, give_up_at=NOW),
     Next(over="finished")),
    ("a wait is cut to wake when time is up",
     at(ending=True, resume_at=NOW + 9, hold=Hold.BACKOFF, give_up_at=NOW + 2), Next(wait=2.001, hold=Hold.BACKOFF)),
    ("stopped (a fix is needed, or closed)", at(ending=True, stopped=True), Next(over="stopped")),
]


@pytest.mark.parametrize("situation, expected", [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_the_next_step(situation, expected):
    got = decide(situation)
    assert (got.job, got.hold, got.over) == (expected.job, expected.hold, expected.over)
    assert got.wait == pytest.approx(expected.wait) if expected.wait is not None else got.wait is None
