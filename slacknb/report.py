"""The report state: what is known about a run at one moment, as plain data.

Views never compute report content themselves: they render a ``ReportState``
with the one ``Renderer``, so the Slack text and the notebook cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

# The status words {status} renders, in lifecycle order.
STARTED, TRAINING, COMPLETED, FAILED, INTERRUPTED = (
    "Started", "Training", "Completed", "Failed", "Interrupted",
)
FINAL_STATUSES = (COMPLETED, FAILED, INTERRUPTED)


@dataclass
class ReportState:
    """A run as the renderer sees it.

    ``log`` is the list of observations (LogReport's log, shared, append-only);
    ``entries`` the table's columns (None: chosen from the log).
    ``elapsed`` and ``eta`` are seconds; ``progress`` a fraction in [0, 1] or
    None when the stop trigger does not tell.
    """

    status: str = STARTED
    log: Sequence[Mapping] = field(default_factory=list)
    entries: Sequence[str] | None = None
    elapsed: float = 0.0
    progress: float | None = None
    eta: float | None = None
    mentions: str = ""
    label: str = ""

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES
