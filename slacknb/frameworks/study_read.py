"""An Optuna study read from its storage, as the board shows it, and what a trial's report adds.

The board is rendered from the storage alone (the one source of truth every process
shares): :func:`read_study` turns the study's trials into a pure
:class:`~slacknb.core.board.BoardState` and a *version*, a number that grows with every
change the board shows (a trial appears, starts, ends, reports a step) and never
shrinks, because Optuna's trials only move forward. Of two readings, the one with the
larger version is the newer; equal versions show the same trials. So "the board shows
version v" is how processes tell each other that their trials are on it
(:mod:`slacknb.frameworks.lease` carries it).

A trial's ``SlackReport`` (``trial=``) publishes its newest log row under the trial's user
attribute :data:`PROGRESS_KEY`, for the trials that do not ``trial.report()`` themselves.
Optuna is read through its public objects only (``get_trials``, ``directions``,
``user_attrs``); this module does not import it.
"""

from __future__ import annotations

import math
import numbers
from typing import Mapping, Sequence

from slacknb.core.board import COMPLETE, FAIL, PRUNED, RUNNING, WAITING, BoardState, TrialRow

__all__ = ["PROGRESS_KEY", "progress_of", "read_study"]

PROGRESS_KEY = "slacknb:progress"
_WORDS = {"COMPLETE": COMPLETE, "RUNNING": RUNNING, "PRUNED": PRUNED, "FAIL": FAIL, "WAITING": WAITING}
# How far along a trial is, for the version: waiting, running, then finished.
_STAGES = {"WAITING": 1, "RUNNING": 2}
_FINISHED_STAGE = 3
# Keys of a log row that say where training is, not how it does.
_WHERE = ("epoch", "iteration", "elapsed_time")


def read_study(study, *, now: float) -> tuple[BoardState, int]:
    """The study's board state at wall-clock time ``now`` (Unix seconds), and its version."""
    trials = study.get_trials(deepcopy=False)
    rows, version = [], 0
    for trial in trials:
        name = trial.state.name
        progress = trial.user_attrs.get(PROGRESS_KEY)
        progress = progress if isinstance(progress, dict) else {}
        version += _STAGES.get(name, _FINISHED_STAGE) + len(trial.intermediate_values) + _count(progress.get("n"))
        epoch, reported = _latest(trial.intermediate_values, progress)
        rows.append(TrialRow(
            number=trial.number, state=_WORDS.get(name, name.title()), params=dict(trial.params),
            values=tuple(trial.values) if name == "COMPLETE" and trial.values else None,
            epoch=epoch, reported=reported, duration=_duration(trial, now)))
    directions = tuple(direction.name.lower() for direction in study.directions)
    state = BoardState(study.study_name, directions, tuple(sorted(rows, key=lambda r: r.number)),
                       best=_best(rows, directions), updated_at=now)
    return state, version


def progress_of(row: Mapping, entries: Sequence[str] | None, rows: int) -> dict | None:
    """What a trial's report publishes of its newest log ``row``: the epoch (or iteration), the
    first other number among ``entries`` (or the row's keys), and how many rows it has."""
    where = row.get("epoch", row.get("iteration"))
    value = None
    for key in entries if entries is not None else row:
        candidate = row.get(key)
        if key not in _WHERE and _is_number(candidate):
            value = float(candidate)
            break
    if where is None and value is None:
        return None
    return {"epoch": int(where) if _is_number(where) else None, "value": value, "n": rows}


def _is_number(value) -> bool:
    if hasattr(value, "item") and not isinstance(value, numbers.Number):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return False
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(float(value))


def _count(value) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _latest(intermediate: Mapping[int, float], progress: Mapping) -> tuple:
    """The latest step and value: the trial's own ``trial.report()`` ones, else its report's."""
    if intermediate:
        step = max(intermediate)
        return step, intermediate[step]
    return progress.get("epoch"), progress.get("value")


def _duration(trial, now: float) -> float | None:
    start = trial.datetime_start
    if start is None:
        return None
    end = trial.datetime_complete
    # timestamp() reads naive datetimes (older Optuna) as local time and aware ones (UTC) as such.
    return max(0.0, (end.timestamp() if end is not None else now) - start.timestamp())


def _best(rows: Sequence[TrialRow], directions: tuple) -> tuple:
    """The best complete trial's number (one objective), or the Pareto front's (several)."""
    signs = [1.0 if direction == "minimize" else -1.0 for direction in directions]
    scored = [(tuple(sign * value for sign, value in zip(signs, row.values)), row.number)
              for row in rows if row.values is not None and len(row.values) == len(signs)
              and all(_is_number(value) for value in row.values)]
    if not scored:
        return ()
    if len(signs) == 1:
        return (min(scored)[1],)

    def dominated(score) -> bool:
        return any(other != score and all(o <= s for o, s in zip(other, score)) for other, _ in scored)

    return tuple(sorted(number for score, number in scored if not dominated(score)))
