"""Final reports still on their way when the interpreter exits.

:meth:`SlackMirror.finish <slacknb.slack.mirror.SlackMirror.finish>` waits ``flush_timeout``
for the end of a run; what has not arrived by then (a shared rate limit, a slow Slack)
goes on in the background until the mirror's ``delivery_timeout``. A script that ends
right after training would kill that background work, so at exit the process waits for
it, each report at most until its own hard bound, and says so on stderr. Ctrl-C skips
the wait. ``os._exit`` and a killed process skip it too: nothing can help those.

The exit hook is registered when the first delivery is held, not at import: a process
that never leaves anything behind runs no code at exit.
"""

from __future__ import annotations

import atexit
import sys
import threading

__all__ = ["hold", "pending", "wait_for_pending"]

_pending: list = []  # Outbox objects whose end of run is still being delivered
_lock = threading.Lock()
_registered = False


def hold(outbox) -> None:
    """Make interpreter exit wait (bounded) for ``outbox`` to deliver the end of its run."""
    global _registered
    with _lock:
        _pending[:] = [o for o in _pending if o.delivering]
        _pending.append(outbox)
        if not _registered:
            atexit.register(wait_for_pending)
            _registered = True


def pending() -> list:
    """The outboxes still delivering (for tests and the exit hook)."""
    with _lock:
        return [o for o in _pending if o.delivering]


def wait_for_pending(*, out=None) -> int:
    """Wait for every pending delivery up to its hard bound; the number still undelivered."""
    waiting = pending()
    if not waiting:
        return 0
    out = out if out is not None else sys.stderr
    longest = max(0.0, max(o.time_left() for o in waiting))
    _say(out, f"slacknb: waiting up to {longest:.0f} s for Slack to receive the end of "
              f"{len(waiting)} run(s) (Ctrl-C skips)")
    for outbox in waiting:
        outbox.hurry()  # a backoff is not worth waiting out now; a Retry-After still is
    try:
        for outbox in waiting:
            outbox.wait_finished(outbox.time_left() + 0.5)
    except KeyboardInterrupt:
        pass
    missed = len(pending())
    if missed:
        _say(out, f"slacknb: Slack did not receive the end of {missed} run(s); the reports are complete locally")
    return missed


def _say(out, text: str) -> None:
    try:
        print(text, file=out, flush=True)
    except Exception:  # noqa: BLE001 - stderr may already be closed at exit
        pass
