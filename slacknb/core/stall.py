"""When a run is stalled, and what its thread reply says: pure functions over plain data.

A watch (off the training thread) samples the run's iteration count and feeds each
sample to :func:`step`, which says when the run stalled (no iteration ended for the
threshold) and when it resumed. The threshold (:func:`threshold`) is ``stall_after``:
a number fixes it, ``0`` turns the watch off, and ``None`` is automatic: ten times the
longest interval between two iterations seen so far, and at least five minutes, so a
run whose iterations are slow by nature (or whose epoch ends with a long validation)
is not called stalled, while a dead data loader is noticed within minutes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

from slacknb.core.context import shorten_home
from slacknb.core.slack_text import code_block, escape, slack_date

__all__ = ["AUTO_FACTOR", "AUTO_FLOOR", "DATE", "Resumed", "StallState", "Stalled", "duration_words",
           "resumed_reply", "stall_reply", "step", "threshold", "where_text"]

AUTO_FACTOR = 10
AUTO_FLOOR = 300.0
# "Today at 14:03:22" in each reader's own time zone (Slack's date tokens).
DATE = "{date_short_pretty} {time_secs}"
FRAMES = 8  # the innermost frames shown: where the thread waits, and what called it


@dataclass(frozen=True)
class StallState:
    """What the watch knows: the ``iteration`` count last seen, since when (``at``, on the
    monotonic clock; ``wall``, Unix seconds), the ``longest`` interval between two changes
    (None before the first), and whether a stall was announced."""

    iteration: int | None
    at: float
    wall: float | None = None
    longest: float | None = None
    stalled: bool = False


@dataclass(frozen=True)
class Stalled:
    """No iteration ended for ``idle`` seconds; the last was ``iteration`` at ``wall``."""

    idle: float
    iteration: int | None
    wall: float | None


@dataclass(frozen=True)
class Resumed:
    """Iterations came back after ``lasted`` seconds without one, at ``iteration``, ``wall``."""

    lasted: float
    iteration: int | None
    wall: float | None


def threshold(stall_after: float | None, longest: float | None) -> float | None:
    """Seconds without an iteration that make a stall; None: not watched (yet).

    ``stall_after`` 0 turns the watch off; a number fixes the threshold; None is automatic
    (:data:`AUTO_FACTOR` times ``longest``, at least :data:`AUTO_FLOOR`), which waits for a
    first iteration to learn from: a first iteration may compile, download or warm up.
    """
    if stall_after is not None:
        return stall_after if stall_after > 0 else None
    if longest is None:
        return None
    return max(AUTO_FLOOR, AUTO_FACTOR * longest)


def step(state: StallState, iteration: int | None, *, now: float, wall: float | None,
         stall_after: float | None) -> tuple[StallState, Stalled | Resumed | None]:
    """The watch's next state after sampling ``iteration`` at ``now``, and what happened."""
    if iteration != state.iteration:
        longest = max(state.longest or 0.0, now - state.at)
        moved = StallState(iteration, now, wall, longest)
        return moved, (Resumed(now - state.at, iteration, wall) if state.stalled else None)
    limit = threshold(stall_after, state.longest)
    if state.stalled or limit is None or now - state.at < limit:
        return state, None
    return dataclasses.replace(state, stalled=True), Stalled(now - state.at, state.iteration, state.wall)


def duration_words(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"2 h 05 min"`` (rounded down)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def _last(iteration: int | None, wall: float | None) -> str:
    if not iteration:
        return f"no iteration yet, started {slack_date(wall, DATE)}" if wall is not None else "no iteration yet"
    at = f" at {slack_date(wall, DATE)}" if wall is not None else ""
    return f"last: iteration {iteration:,}{at}"


def stall_reply(event: Stalled, where: str, *, mentions: str = "") -> str:
    """``"Stalled: no iteration for 12 min (last: iteration 3,201 at <date>)"``, then ``where``."""
    line = f":hourglass_flowing_sand: Stalled: no iteration for {duration_words(event.idle)} " \
           f"({_last(event.iteration, event.wall)})"
    text = f"{mentions} {line}" if mentions else line
    return f"{text}\n{where}" if where else text


def resumed_reply(event: Resumed, stalled: Stalled, where: str) -> str:
    """The stall reply once iterations came back: how long the stall lasted, and where it was."""
    at = f" at {slack_date(event.wall, DATE)}" if event.wall is not None else ""
    iteration = f"iteration {event.iteration:,}" if event.iteration else "an iteration"
    line = f":arrow_forward: Stalled for {duration_words(event.lasted)}, then resumed: {iteration} ended{at} " \
           f"({_last(stalled.iteration, stalled.wall)})"
    return f"{line}\nWhere it waited:\n{where}" if where else line


def where_text(frames: Sequence[tuple[str, int, str]], *, limit: int = FRAMES) -> str:
    """The innermost ``limit`` of ``frames`` (filename, line, function; innermost first) as
    faulthandler shows them, home shortened to ``~``, in a code block; '' for none.

    Only file names, line numbers and function names: never a source line or a value.
    """
    if not frames:
        return ""
    lines = ["Training thread (most recent call first):"]
    lines += [f'  File "{shorten_home(filename)}", line {lineno} in {function}'
              for filename, lineno, function in frames[:limit]]
    if len(frames) > limit:
        lines.append(f"  ... {len(frames) - limit} more")
    return code_block(escape("\n".join(lines)))
