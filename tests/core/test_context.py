"""Where a run happens: the command line as the message header shows it (secrets hidden), and the
name of a notebook run headless, where the runtime says it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from slacknb.core.context import command_arguments, launcher_notebook, notebook_in_command


@pytest.mark.parametrize("argv, shown", [
    (["--token", "xoxb-1-2-abc", "--epochs", "3"], "--token [hidden] --epochs 3"),
    (["--api-key=sk 1", "--password", "p w", "PASSWORD=x"], "--api-key=[hidden] --password [hidden] PASSWORD=[hidden]"),
    (["--lr", "0.1", "a b", ""], "--lr 0.1 'a b' ''"),
    (["note xoxp-9-9 end"], "'note '[hidden]' end'"),
])
def test_the_command_line_hides_secret_values_and_stays_shell_quoted(argv, shown):
    assert command_arguments(argv) == shown
    assert len(shlex.split(shown)) == len(argv)


@pytest.mark.parametrize("argv, notebook", [
    (["/venv/bin/papermill", "runs/train.ipynb", "out/train-lr.ipynb", "-p", "lr", "0.1"], "runs/train.ipynb"),
    (["/venv/bin/jupyter-nbconvert", "--to", "notebook", "--execute", "--output", "done.ipynb", "train.ipynb"],
     "train.ipynb"),
    (["/venv/bin/jupyter-nbconvert", "--execute", "--output=done.ipynb", "train.ipynb"], "train.ipynb"),
    (["/venv/bin/jupyter-execute", "train.ipynb"], "train.ipynb"),
    (["-m", "papermill", "train.ipynb", "out.ipynb"], "train.ipynb"),
    (["/venv/bin/jupyter-lab", "--no-browser"], ""),
    (["train.ipynb"], ""),  # a program's own name is not a notebook it runs
])
def test_the_notebook_a_runner_executes_is_read_from_its_command_line(argv, notebook):
    assert notebook_in_command(argv) == notebook


def test_the_launcher_is_found_through_jpy_parent_pid():
    # A real process whose command line names a notebook, as papermill's would.
    launcher = subprocess.Popen([sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)",
                                 "exp/mnist.ipynb", "out.ipynb"], stdout=subprocess.PIPE, text=True)
    try:
        assert launcher.stdout.readline() == "up\n"  # its own command line, no longer its parent's
        if not os.path.exists(f"/proc/{launcher.pid}/cmdline"):
            pytest.skip("this system shows no process command lines in /proc")
        assert launcher_notebook(environ={"JPY_PARENT_PID": str(launcher.pid)}) == "exp/mnist.ipynb"
    finally:
        launcher.kill()
        launcher.wait()
    assert launcher_notebook(environ={}) == ""
    assert launcher_notebook(environ={"JPY_PARENT_PID": "not-a-pid"}) == ""


# -- in real kernels, reported to the local Slack server -------------------------------------------

CELL = '%%slackreport --grace 0 -t "{label}|{cmd}|{notebook}"\nanswer = 6 * 7'


def reported(server) -> list[str]:
    assert server.wait_for(lambda s: bool(s.messages()) and "|" in s.messages()[0].text
                           and not s.messages()[0].text.startswith("Started"), timeout=60)
    return server.messages()[0].text.split("|")


@pytest.fixture
def kernel_env(slack_env, monkeypatch):
    # The python3 kernelspec starts "python" from PATH: make it this interpreter.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return slack_env


def notebook() -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%load_ext slacknb"),
                                           nbformat.v4.new_code_cell(CELL)])


@pytest.mark.notebook
def test_nbclient_with_jpy_session_name_reports_the_notebooks_name(kernel_env, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "mnist.ipynb"))
    NotebookClient(notebook(), kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    label, cmd, path = reported(kernel_env)
    assert label.startswith("mnist-") and cmd == "mnist.ipynb" and path == str(tmp_path / "mnist.ipynb")


@pytest.mark.notebook
def test_nbclient_without_a_name_reports_a_notebook(kernel_env, tmp_path):
    NotebookClient(notebook(), kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    label, cmd, path = reported(kernel_env)
    assert label.startswith("notebook-") and cmd == "jupyter" and path == ""


@pytest.mark.notebook
def test_a_notebook_run_by_jupyter_execute_knows_its_name_from_the_command(kernel_env, tmp_path):
    nbformat.write(notebook(), tmp_path / "sweep.ipynb")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "jupyter-execute"), "sweep.ipynb"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, textwrap.shorten(done.stderr, 3000)
    label, cmd, path = reported(kernel_env)
    assert label.startswith("sweep-") and cmd == "sweep.ipynb" and path == "sweep.ipynb"
