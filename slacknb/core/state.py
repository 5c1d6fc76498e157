"""The report state: what is known about a run at one moment, as plain data.

Views never compute report content themselves: they render a ``ReportState``
with the one ``Renderer``, so the Slack text and the notebook cannot drift.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Mapping, Sequence

__all__ = ["COMPLETED", "FAILED", "FINAL_STATUSES", "INTERRUPTED", "PRUNED", "STALLED", "STARTED", "STOPPED",
           "TERMINATED", "TRAINING", "ReportState", "Status"]


class Status(str, enum.Enum):
    """A run's status; its value is the word ``{status}`` renders, so it reads as that word."""

    STARTED = "Started"
    TRAINING = "Training"
    COMPLETED = "Completed"
    FAILED = "Failed"
    INTERRUPTED = "Interrupted"
    #: Ended by a Stop button (Slack's or the notebook's) at an iteration boundary.
    STOPPED = "Stopped"
    #: An Optuna trial's run ended by its pruner (``optuna.TrialPruned``).
    PRUNED = "Pruned"
    #: Ended by SIGTERM or SIGHUP (a cancelled or preempted job, ``timeout``, a stopped container).
    TERMINATED = "Terminated"
    #: Still running, but no iteration ended for ``stall_after`` seconds (not final).
    STALLED = "Stalled"

    # str(), format() and repr() read exactly as the plain word did before the Enum
    # (not "Status.COMPLETED"), on every Python: users' notebooks print them.
    __str__ = str.__str__
    __format__ = str.__format__
    __repr__ = str.__repr__

    @property
    def final(self) -> bool:
        """True for the statuses a run ends with."""
        return self in FINAL_STATUSES


STARTED, TRAINING, COMPLETED, FAILED, INTERRUPTED, STOPPED, PRUNED, TERMINATED, STALLED = Status
FINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED, Status.INTERRUPTED, Status.STOPPED, Status.PRUNED,
                            Status.TERMINATED})


@dataclass
class ReportState:
    """A run as the renderer sees it.

    ``log`` is the list of observations (LogReport's log, shared, append-only);
    ``entries`` the table's columns (None: chosen from the log).
    ``elapsed`` and ``eta`` are seconds; ``progress`` a fraction in [0, 1] or
    None when the stop trigger does not tell. ``updated_at`` is the wall-clock
    time (Unix seconds) this state was last changed, or None when unknown.
    ``stopped_by`` says who stopped a Stopped run ("by <@U0ALICE>", "from the
    notebook"), or which signal ended a Terminated one ("by SIGTERM"): ``{status}``
    reads "Stopped by <@U0ALICE>", "Terminated by SIGTERM". ``waiting`` is what
    ``{content}`` shows while the run is not finished and nothing is logged yet
    ("" for nothing).
    """

    status: Status = Status.STARTED
    log: Sequence[Mapping] = field(default_factory=list)
    entries: Sequence[str] | None = None
    elapsed: float = 0.0
    progress: float | None = None
    eta: float | None = None
    mentions: str = ""
    label: str = ""
    updated_at: float | None = None
    stopped_by: str = ""
    waiting: str = "waiting for the first report"

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES
