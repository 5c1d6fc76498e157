"""The end of the runs still on their way to Slack when the interpreter exits, and what was found after.

:meth:`SlackMirror.finish <slacknb.slack.mirror.SlackMirror.finish>` hands the end of a run to
the worker and returns; a script that ends right after training would kill that background work,
so at exit the process waits for it: for what people wait for (the final edit, the alert, the
mention reply) up to each run's ``delivery_timeout``, then for the extras (the chart) at most
:data:`EXTRA_WAIT` seconds more. It says so on stderr only when the wait lasts long enough to
notice (:data:`QUIET_WAIT`), then how it ended; and it prints, once each, the problems found after
the end that nobody was told yet (a missing scope, an unresolved mention, what did not arrive).
Ctrl-C skips the wait. ``os._exit`` and a killed process skip it too: nothing can help those.

The exit hook is registered by the first mirror that talks to Slack (:func:`arm`), not at
import: a process that never mirrors runs no code at exit. Not later either: exit functions run
last-registered first, and a run that only ends at exit (see :mod:`slacknb.frameworks.endings`)
must hand its end over before this one waits.

A Jupyter kernel is shut down before its interpreter exits (nbclient, nbconvert and papermill
right after the last cell, and kill it :data:`KERNEL_WAIT` seconds later): its shutdown request
first stops the notebook's views from following the delivery (their updates would go to sockets
being closed) and gives the essential end of each run up to :data:`KERNEL_WAIT` seconds.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time

__all__ = ["EXTRA_WAIT", "KERNEL_WAIT", "QUIET_WAIT", "arm", "before_kernel_shutdown", "hold", "pending", "shortfall",
           "wait_for_pending"]

QUIET_WAIT = 1.0  # a wait shorter than this is not worth a line on stderr
EXTRA_WAIT = 5.0  # once the essential end arrived, the chart gets this long at most
DRAWING_WAIT = 30.0  # a chart being drawn is finished first: a daemon thread torn down in C++ aborts
KERNEL_WAIT = 4.0  # jupyter_client kills a kernel 5 s after asking it to shut down

_held: list = []  # outboxes whose end of run was handed over (delivered or not)
_lock = threading.Lock()
_registered = False


def arm() -> None:
    """Register the exit hook (once): a mirror that may deliver in the background exists."""
    global _registered
    with _lock:
        if not _registered:
            atexit.register(wait_for_pending)
            _registered = True
            _hook_kernel_shutdown()


def _hook_kernel_shutdown() -> None:
    """In a Jupyter kernel: :func:`before_kernel_shutdown` runs first when it is asked to shut down."""
    if "ipykernel" not in sys.modules:
        return
    from IPython import get_ipython

    kernel = getattr(get_ipython(), "kernel", None)
    original = getattr(kernel, "do_shutdown", None)
    if original is None or getattr(original, "_slacknb", False):
        return

    def do_shutdown(restart):
        before_kernel_shutdown()
        return original(restart)

    do_shutdown._slacknb = True
    kernel.do_shutdown = do_shutdown


def before_kernel_shutdown(wait: float = KERNEL_WAIT) -> None:
    """The kernel is shutting down: the views stop following the deliveries, which get up to
    ``wait`` seconds in all for their essential part."""
    with _lock:
        held = list(_held)
    for outbox in held:
        outbox.publisher.mute()
    _all([o for o in held if o.delivering], wait, essential=True)


def hold(outbox) -> None:
    """Keep ``outbox`` for the exit: wait (bounded) for the end of its run, tell what it found."""
    arm()
    with _lock:
        _held[:] = [o for o in _held if o.delivering or o.publisher.has_notices]
        if outbox not in _held:
            _held.append(outbox)


def pending() -> list:
    """The outboxes still delivering (for tests and the exit hook)."""
    with _lock:
        return [o for o in _held if o.delivering]


def shortfall(missing: list[str], *, waited: float, failure, more: float | None) -> str:
    """The one warning about an end of run Slack did not receive within ``waited`` seconds.

    ``more``: seconds the worker goes on trying in the background (None: it gave up).
    """
    why = f" (last problem: {failure.fix or failure.error})" if failure else ""
    goes_on = "" if more is None else f"; still trying in the background for up to {more:g} s more"
    return f"Slack did not receive {listed(missing)} within {waited:g} s{why}{goes_on}; the report is complete locally"


def listed(missing: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    missing = missing or ["the end-of-run messages"]
    return missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]


def wait_for_pending(*, out=None) -> int:
    """Wait for every pending delivery, then tell what is worth telling; the number of runs
    whose essential end did not arrive."""
    out = out if out is not None else sys.stderr
    with _lock:
        held = list(_held)
    if "ipykernel" in sys.modules:  # a kernel's displays are going away with its output channel
        for outbox in held:
            outbox.publisher.mute()
    waiting = [o for o in held if o.delivering]
    started = time.monotonic()
    announced = False
    try:
        if waiting and not _all(waiting, QUIET_WAIT, essential=True):
            longest = max(o.time_left() for o in waiting)
            _say(out, f"slacknb: waiting up to {longest:.0f} s for Slack to receive the end of "
                      f"{_runs(len(waiting))} (Ctrl-C skips)")
            announced = True
            for outbox in waiting:
                outbox.hurry()  # a backoff is not worth waiting out now; a Retry-After still is
            for outbox in waiting:
                outbox.wait_finished(outbox.time_left() + 0.5, essential=True)
        _all([o for o in waiting if o.delivering], EXTRA_WAIT, essential=False)
    except KeyboardInterrupt:
        pass
    missed = 0
    for outbox in held:
        for notice in outbox.publisher.take_notices():
            _say(out, f"slacknb: {notice}")
        essential, extra = outbox.undelivered(essential=True), outbox.undelivered(essential=False)
        if essential:
            missed += 1
            _say(out, f"slacknb: Slack did not receive {listed(essential)}{_reason(outbox)}; the report is "
                      "complete locally")
        elif extra:
            _say(out, f"slacknb: left out after waiting {EXTRA_WAIT:g} s for it: {listed(extra)}")
        if outbox.delivering:
            outbox.close()
            if outbox.drawing:  # matplotlib's C++ code must not be torn down mid-drawing
                outbox.join(DRAWING_WAIT)
    if announced and not missed:
        _say(out, f"slacknb: Slack received the end of {_runs(len(waiting))} after "
                  f"{time.monotonic() - started:.1f} s")
    return missed


def _all(outboxes: list, seconds: float, *, essential: bool) -> bool:
    """Wait up to ``seconds`` in all for ``outboxes``; True when each delivered that part."""
    deadline = time.monotonic() + seconds
    return all(o.wait_finished(max(0.0, deadline - time.monotonic()), essential=essential) for o in outboxes)


def _reason(outbox) -> str:
    failure = outbox.last_failure
    return f" (last problem: {failure.fix or failure.error})" if failure else ""


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def _say(out, text: str) -> None:
    try:
        print(text, file=out, flush=True)
    except Exception:  # noqa: BLE001 - stderr may already be closed at exit
        pass
