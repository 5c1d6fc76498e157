"""Where a run happens: above all, a notebook run headless knows its name where the runtime says it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from slacknb.core.context import launcher_notebook, notebook_in_command


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
