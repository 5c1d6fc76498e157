"""The default run label: what the run is (notebook or script) and which one (a short id).

Twenty runs of ``train.py`` in one channel read as ``train-3f9a1c``, ``train-b20e47``, ...
The id is random per process, except under a job launcher (MPI, Slurm, torchrun),
where it is derived from the job's id so that every rank of one job gets the same label
without talking to the others.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
from typing import Mapping, Sequence

ID_LENGTH = 6
# Set to the same value in every process of one job, by the launchers that start them.
JOB_VARIABLES = (
    ("PMIX_NAMESPACE",),  # Open MPI 4+ (PMIx)
    ("OMPI_MCA_orte_ess_jobid",),  # older Open MPI
    ("SLURM_JOB_ID", "SLURM_STEP_ID"),
    ("TORCHELASTIC_RUN_ID",),
    ("MASTER_ADDR", "MASTER_PORT"),  # torch.distributed's rendezvous
)


def run_id(*, environ: Mapping[str, str] | None = None) -> str:
    """A short hex id for this run: the same on every rank of one launched job, else random."""
    environ = os.environ if environ is None else environ
    for names in JOB_VARIABLES:
        values = [environ.get(name, "") for name in names]
        if values[0]:
            digest = hashlib.sha256("\0".join([*names, *values]).encode()).hexdigest()
            return digest[:ID_LENGTH]
    return secrets.token_hex(ID_LENGTH // 2 + 1)[:ID_LENGTH]


def run_name(*, notebook: str = "", argv: Sequence[str] | None = None, in_kernel: bool = False) -> str:
    """The notebook's or script's name without folder and extension ("train", "mnist")."""
    if notebook:
        return _stem(notebook)
    if in_kernel:
        return "notebook"
    argv = sys.argv if argv is None else argv
    first = argv[0] if argv else ""
    if not first or first == "-c":
        return "python"
    return _stem(first) or "python"


def default_label(*, environ: Mapping[str, str] | None = None) -> str:
    """``"<notebook or script name>-<run id>"`` for the running process, e.g. ``train-3f9a1c``."""
    from .context import in_kernel, notebook_path

    return f"{run_name(notebook=notebook_path(), in_kernel=in_kernel())}-{run_id(environ=environ)}"


def _stem(path: str) -> str:
    name = os.path.basename(path.rstrip("/\\"))
    stem, extension = os.path.splitext(name)
    return stem if extension in (".py", ".ipynb") else name
