"""One Slack message for a multi-process (ChainerMN / MPI) training job.

Which process am I? A ChainerMN communicator says so (``comm.rank``, ``comm.size``);
without one, the usual launcher variables do: ``OMPI_COMM_WORLD_RANK`` (Open MPI),
``PMI_RANK`` (MPICH, Intel MPI), ``RANK`` (torchrun and friends), ``SLURM_PROCID``.
Nothing here imports mpi4py or chainermn: a communicator is used through its own
methods, and the variables are only read.

What each rank does:

* Rank 0 owns the report message and its thread, exactly like a single process.
* Every other rank posts nothing while training. If its run fails, it sends ONE alert
  naming its rank and host: as a reply in rank 0's thread when it knows that message,
  else to the channel, with the run label so it can be told apart.
* With a communicator, rank 0's message is shared at the start of training
  (:mod:`slacknb.frameworks.distributed`).
"""

from __future__ import annotations

import numbers
import os
import socket
import warnings
from dataclasses import dataclass
from typing import Mapping

__all__ = ["RANK_VARIABLES", "Rank", "alert_label", "detect_rank"]

# Each rank variable with the variable its launcher sets to the number of processes.
RANK_VARIABLES = (
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("PMI_RANK", "PMI_SIZE"),
    ("RANK", "WORLD_SIZE"),
    ("SLURM_PROCID", "SLURM_NTASKS"),
)


@dataclass(frozen=True)
class Rank:
    """Where this process stands in its job."""

    rank: int = 0
    size: int = 1
    host: str = ""
    source: str = ""
    """"comm" for a communicator, the variable's name, or "" for a lone process."""

    @property
    def owner(self) -> bool:
        """True for the process that owns the report message (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when this process is one of several ranks of one job."""
        return bool(self.source) and (self.size > 1 or self.rank > 0)

    def describe(self) -> str:
        """``"rank 1 of 4 on node-a"``, for alerts."""
        of = f" of {self.size}" if self.size > self.rank else ""
        on = f" on {self.host}" if self.host else ""
        return f"rank {self.rank}{of}{on}"


def detect_rank(comm=None, *, environ: Mapping[str, str] | None = None, host: str | None = None) -> Rank:
    """This process's :class:`Rank`, from ``comm`` when given, else from the environment.

    Raises TypeError when ``comm`` is not a ChainerMN communicator.
    """
    host = socket.gethostname() if host is None else host
    if comm is not None:
        rank, size = getattr(comm, "rank", None), getattr(comm, "size", None)
        if not (_whole(rank) and _whole(size) and hasattr(comm, "bcast_obj")):
            raise TypeError(
                "comm must be a ChainerMN communicator, e.g. chainermn.create_communicator('naive'), "
                f"not {type(comm).__name__}"
            )
        return Rank(int(rank), int(size), host, "comm")
    environ = os.environ if environ is None else environ
    for rank_name, size_name in RANK_VARIABLES:
        value = environ.get(rank_name, "").strip()
        if not value:
            continue
        if not value.isdigit():
            warnings.warn(f"slacknb: {rank_name}={value!r} is not a rank number; it is ignored", RuntimeWarning,
                          stacklevel=2)
            continue
        size_text = environ.get(size_name, "").strip()
        size = int(size_text) if size_text.isdigit() and int(size_text) > 0 else int(value) + 1
        return Rank(int(value), size, host, rank_name)
    return Rank(0, 1, host, "")


def alert_label(label: str, rank: Rank) -> str:
    """The label that names the run, rank and host in a failure alert."""
    if not rank.distributed:
        return label
    return f"{label} \u00b7 {rank.describe()}" if label else rank.describe()


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0
