"""Where a run happens: host, directory, command, notebook.

Collected once per report. Inside a Jupyter kernel ``sys.argv`` is
``ipykernel_launcher -f /path/kernel-123.json``: it leaks a connection-file
path and means nothing to a reader, so the notebook stands in for the command
and the arguments are left empty.
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from dataclasses import dataclass


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
            args = " ".join(shlex.quote(a) for a in sys.argv[1:])
        return cls(socket.gethostname(), os.getcwd(), cmd, args, notebook)


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
    """The running notebook's path when the front end tells it, else ''.

    JupyterLab / Notebook 7 put it in JPY_SESSION_NAME; VS Code defines
    ``__vsc_ipynb_file__`` in the user namespace.
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
    return ""
