"""Where a run happens: host, directory, command, notebook, and the run's default label.

Collected once per report. Inside a Jupyter kernel ``sys.argv`` is
``ipykernel_launcher -f /path/kernel-123.json``: it leaks a connection-file
path and means nothing to a reader, so the notebook stands in for the command
and the arguments are left empty.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shlex
import socket
import sys
from dataclasses import dataclass
from typing import Mapping, Sequence

from slacknb.core.scrub import HIDDEN, hide_arguments

__all__ = [
    "ID_LENGTH", "JOB_VARIABLES", "RunContext", "command_arguments", "default_label", "in_kernel",
    "launcher_notebook", "notebook_in_command", "notebook_path", "run_id", "run_name", "shorten_home"
]


@dataclass(frozen=True)
class RunContext:
    """Plain facts about the running process, as shown by the template."""

    hostname: str
    pwd: str
    cmd: str
    args: str
    notebook: str = ""

    @property
    def pwdshort(self) -> str:
        return shorten_home(self.pwd)

    @classmethod
    def detect(cls) -> "RunContext":
        notebook = notebook_path()
        if in_kernel():
            cmd, args = (os.path.basename(notebook) if notebook else "jupyter"), ""
        else:
            cmd = sys.argv[0] if sys.argv and sys.argv[0] else "python"
            args = command_arguments(sys.argv[1:])
        return cls(socket.gethostname(), os.getcwd(), cmd, args, notebook)


def command_arguments(argv: Sequence[str]) -> str:
    """``argv`` as a shell would read it, the value of each secret-named argument (``--token X``,
    ``--api-key=X``, ``PASSWORD=X``: :func:`slacknb.core.scrub.hide_arguments`) as ``[hidden]``."""
    return " ".join(HIDDEN.join(shlex.quote(piece) if piece else "" for piece in arg.split(HIDDEN))
                    if HIDDEN in arg else shlex.quote(arg) for arg in hide_arguments(argv))


def shorten_home(path: str) -> str:
    home = os.path.expanduser("~")
    if home and home != "/" and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home):]
    return path


def in_kernel() -> bool:
    """True inside a Jupyter kernel (not in terminal IPython or a script)."""
    shell = _ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _ipython():
    if "IPython" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def notebook_path() -> str:
    """The running notebook's path where the runtime tells it, else ''.

    JupyterLab / Notebook 7 put it in JPY_SESSION_NAME (and IPython then in
    ``__session__``); VS Code defines ``__vsc_ipynb_file__`` in the user namespace.
    A kernel run headless (``papermill in.ipynb out.ipynb``, ``jupyter nbconvert
    --execute in.ipynb``, ``jupyter execute in.ipynb``) is told nothing, but the
    command that started it names the notebook (:func:`launcher_notebook`).
    """
    path = os.environ.get("JPY_SESSION_NAME", "")
    if path:
        return path
    shell = _ipython()
    if shell is not None:
        for name in ("__vsc_ipynb_file__", "__session__"):
            value = shell.user_ns.get(name)
            if isinstance(value, str) and value.endswith(".ipynb"):
                return value
    if in_kernel():
        return launcher_notebook()
    return ""


# Options of the headless runners whose value is the executed copy, not the notebook run.
_OUTPUT_OPTIONS = ("--output", "--output-dir", "-o")


def notebook_in_command(argv: Sequence[str]) -> str:
    """The notebook a runner's command line executes: its first ``.ipynb`` argument that
    is not where the result goes; '' when there is none."""
    skip = False
    for arg in argv[1:]:
        if skip:
            skip = False
            continue
        if arg in _OUTPUT_OPTIONS:
            skip = True
            continue
        if arg.startswith("-"):
            continue
        if arg.endswith(".ipynb"):
            return arg
    return ""


def launcher_notebook(*, environ: Mapping[str, str] | None = None) -> str:
    """The notebook named on the command line of the process that started this kernel.

    jupyter_client gives every kernel its launcher's PID in JPY_PARENT_PID; the
    launcher's arguments are read where the system shows them (Linux's /proc).
    '' when unknown.
    """
    environ = os.environ if environ is None else environ
    pid = environ.get("JPY_PARENT_PID", "")
    if not pid.isdigit():
        return ""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    argv = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    # The interpreter first when the runner is a Python script: its own name is not an argument.
    if len(argv) > 1 and os.path.basename(argv[0]).startswith("python"):
        argv = argv[1:]
    return notebook_in_command(argv)


# -- the default run label: what the run is (notebook or script) and which one (a short id).
#
# Twenty runs of ``train.py`` in one channel read as ``train-3f9a1c``, ``train-b20e47``, ...
# The id is random per process, except under a job launcher (MPI, Slurm, torchrun),
# where it is derived from the job's id so that every rank of one job gets the same label
# without talking to the others.

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
    return f"{run_name(notebook=notebook_path(), in_kernel=in_kernel())}-{run_id(environ=environ)}"


def _stem(path: str) -> str:
    name = os.path.basename(path.rstrip("/\\"))
    stem, extension = os.path.splitext(name)
    return stem if extension in (".py", ".ipynb") else name
