"""A study board's text: one Slack message that shows every trial of an Optuna study.

Pure data in, one text out, like :mod:`slacknb.core.render` for a run. The header says
the study, its direction, how many trials are in each state, the best trial with its
parameters, and when the board was last updated::

    lr-search · minimize · 12 complete, 4 running, 3 pruned, 1 failed · best 0.081234 (trial 7: lr=0.0031) · updated ...

The table below has one row per trial: number, state, each parameter, value, the latest
epoch and reported value, duration. Its numbers are the report table's (six significant
digits, aligned on the point: :mod:`slacknb.core.table`), and when the rows outgrow
``max_bytes`` the report's normalizer (:mod:`slacknb.core.normalize`) chooses among the
finished trials; the running trials and the best trial(s) are always shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from slacknb.core.normalize import check_strategy, select_rows
from slacknb.core.render import check_max_bytes, format_hms
from slacknb.core.slack_text import FENCE, cut, escape, guard_backticks, slack_date, utf8_len
from slacknb.core.table import AlignedRows, empty_layout, merge_layout, number_text

__all__ = ["BoardRenderer", "BoardState", "COMPLETE", "FAIL", "PRUNED", "RUNNING", "STATES", "TrialRow", "WAITING",
           "best_label", "board_columns", "board_header", "board_rows", "end_reply"]

# The state words of the board, in the order the header counts them.
COMPLETE, RUNNING, PRUNED, FAIL, WAITING = "Complete", "Running", "Pruned", "Fail", "Waiting"
STATES = (COMPLETE, RUNNING, PRUNED, FAIL, WAITING)
_COUNTED = {COMPLETE: "complete", RUNNING: "running", PRUNED: "pruned", FAIL: "failed", WAITING: "waiting"}
_UNFINISHED = (RUNNING, WAITING)


@dataclass(frozen=True)
class TrialRow:
    """One trial as the board shows it.

    ``values``: the objective value(s) of a complete trial (None otherwise); ``epoch`` and
    ``reported``: the latest step the trial reported and the value at that step (None
    when it reported nothing); ``duration``: seconds, so far for a running trial.
    """

    number: int
    state: str
    params: Mapping[str, object] = field(default_factory=dict)
    values: tuple | None = None
    epoch: int | None = None
    reported: float | None = None
    duration: float | None = None


@dataclass(frozen=True)
class BoardState:
    """A study at one moment: its name, directions, trials (by number) and best trial(s).

    ``best`` holds the numbers of the best trial (one objective) or of the Pareto front
    (several); ``updated_at`` is the wall-clock time of the reading (Unix seconds).
    """

    study: str
    directions: tuple = ("minimize",)
    trials: tuple = ()
    best: tuple = ()
    updated_at: float | None = None

    @property
    def counts(self) -> dict:
        """Trials per state word, in :data:`STATES` order (states with none left out)."""
        found = {state: 0 for state in STATES}
        for trial in self.trials:
            found[trial.state] = found.get(trial.state, 0) + 1
        return {state: count for state, count in found.items() if count}

    @property
    def finished(self) -> bool:
        """True when no trial is running or waiting."""
        return not any(trial.state in _UNFINISHED for trial in self.trials)


def _param_names(state: BoardState) -> list[str]:
    names: dict[str, None] = {}
    for trial in state.trials:
        for name in trial.params:
            names.setdefault(name)
    return list(names)


def _value_columns(state: BoardState) -> list[str]:
    if len(state.directions) == 1:
        return ["value"]
    return [f"value{index}" for index in range(len(state.directions))]


def board_columns(state: BoardState) -> tuple:
    """The table's columns: trial, state, each parameter (first seen first), value(s), epoch,
    reported, duration."""
    return ("trial", "state", *_param_names(state), *_value_columns(state), "epoch", "reported", "duration")


def board_rows(state: BoardState) -> list[dict]:
    """One mapping per trial, keyed by :func:`board_columns` (numbers stay numbers, so the
    table formats them; a missing value is left out)."""
    value_columns = _value_columns(state)
    rows = []
    for trial in state.trials:
        row = {"trial": trial.number, "state": trial.state, **trial.params}
        if trial.values is not None:
            row.update(zip(value_columns, trial.values))
        if trial.epoch is not None:
            row["epoch"] = trial.epoch
        if trial.reported is not None:
            row["reported"] = trial.reported
        if trial.duration is not None:
            row["duration"] = format_hms(trial.duration)
        rows.append({key: value for key, value in row.items() if value is not None})
    return rows


def _number(value) -> str:
    text = number_text(value)
    return text if text is not None else str(value)


def _params_text(params: Mapping[str, object]) -> str:
    return ", ".join(f"{name}={_number(value)}" for name, value in params.items())


def _best_text(state: BoardState) -> str:
    by_number = {trial.number: trial for trial in state.trials}
    best = [by_number[number] for number in state.best if number in by_number]
    if not best:
        return ""
    if len(state.directions) > 1:
        return f"best: {len(best)} on the Pareto front (trials {', '.join(str(t.number) for t in best)})"
    trial = best[0]
    value = _number(trial.values[0]) if trial.values else "?"
    params = _params_text(trial.params)
    return f"best {value} (trial {trial.number}{': ' + params if params else ''})"


def board_header(state: BoardState) -> str:
    """The header line, escaped for Slack (study names and parameters are the user's text)."""
    counts = ", ".join(f"{count} {_COUNTED[word]}" for word, count in state.counts.items()) or "no trials yet"
    parts = [state.study, ", ".join(state.directions), counts, _best_text(state)]
    # Outside the code block, a parameter's backticks could open one: guarded like the table's.
    line = guard_backticks(escape(" \u00b7 ".join(part for part in parts if part)))
    updated = slack_date(state.updated_at)
    return f"{line} \u00b7 updated {updated}" if updated else line


class BoardRenderer:
    """Renders a :class:`BoardState` into the board's text, within ``max_bytes`` UTF-8 bytes.

    ``normalizer`` (thin_out, fifo, lifo) chooses among the finished trials when not
    every row fits; running trials and the best trial(s) are always shown, oldest first.
    """

    def __init__(self, *, max_bytes: int = 4000, normalizer: str = "thin_out"):
        self.max_bytes = check_max_bytes(max_bytes)
        self.normalizer = check_strategy(normalizer)

    def render(self, state: BoardState, *, max_bytes: int | None = None) -> str:
        budget = self.max_bytes if max_bytes is None else max_bytes
        header = board_header(state)
        if not state.trials:
            return cut(header, budget)
        room = budget - utf8_len(header) - utf8_len(f"\n{FENCE}\n\n{FENCE}")
        table = self._table(state, room)
        text = f"{header}\n{FENCE}\n{table}\n{FENCE}" if table else header
        updated = slack_date(state.updated_at)
        return cut(text, budget, keep=(f"updated {updated}" if updated else "",))

    def _table(self, state: BoardState, room: int) -> str:
        """The header line and the rows that fit ``room`` bytes ('' when not even the header does)."""
        log = board_rows(state)
        entries = board_columns(state)
        rows = AlignedRows()  # fresh each render: the rows are made anew from the storage each time
        rows.use(log, entries)
        base = empty_layout(entries)
        # The widest layout of all rows first: rows chosen in it fit any narrower one too.
        every = merge_layout(base, *(rows.own_layout(log, entries, i) for i in range(len(log))))
        cost = rows.costs(log, entries, every)
        head = utf8_len(rows.header(entries, every)) + 1
        best = set(state.best)
        kept = [i for i, trial in enumerate(state.trials) if trial.state in _UNFINISHED or trial.number in best]
        others = [i for i in range(len(log)) if i not in set(kept)]
        left = room - head - sum(cost(i) for i in kept)
        if left < 0:
            # Not all of them fit: the newest of the kept rows stay.
            chosen, left = [], room - head
            for i in reversed(kept):
                left -= cost(i)
                if left < 0:
                    break
                chosen.append(i)
            kept, others = chosen, []
        picked = select_rows(len(others), lambda j: cost(others[j]), left, self.normalizer) if others else []
        shown = sorted(set(kept) | {others[j] for j in picked})
        if room - head < 0:
            return ""
        exact = merge_layout(base, *(rows.own_layout(log, entries, i) for i in shown)) if shown else base
        text = rows.texts(log, entries, exact)
        return "\n".join([rows.header(entries, exact)] + [text(i) for i in shown])


def end_reply(state: BoardState, *, host: str, trials_here: int, error: str = "", mentions: str = "",
              prefix: str = "", label: str | None = None) -> str:
    """The thread reply when ``optimize`` returns in one process: how it ended there, the study's
    counts and its best trial so far. ``mentions`` and ``prefix`` are Slack markup (not escaped);
    ``error`` is one line and ``label`` (default: the study's name) the user's text (escaped)."""
    name = state.study if label is None else label
    counts = ", ".join(f"{count} {_COUNTED[word]}" for word, count in state.counts.items()) or "no trials"
    plural = "" if trials_here == 1 else "s"
    if error:
        head = f"{name}: optimize failed on {host} after {trials_here} trial{plural} here: {error}"
    else:
        head = f"{name}: optimize ended on {host} after {trials_here} trial{plural} here"
    parts = [head, counts, _best_text(state) or "no trial complete yet"]
    people = " ".join(part for part in ((prefix if error else ""), mentions) if part)
    line = (":x: " if error else ":white_check_mark: ") + guard_backticks(escape(" \u00b7 ".join(parts)))
    return f"{people} {line}" if people else line


def best_label(state: BoardState, label: str) -> str:
    """``label`` and the best trial so far, e.g. ``lr-search: best 0.081234 (trial 7: lr=0.0031)``
    (the user's text: escaped where it is shown)."""
    return f"{label}: {_best_text(state) or 'no trial complete yet'}"
