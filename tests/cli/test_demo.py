"""``slacknb demo`` as a new user runs it: offline, quiet, showing the message and its thread;
and ``slacknb demo --notebook slacknb/examples/pytorch.ipynb``; which example runs by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_and_prints_the_message_and_its_thread(tmp_path):
    # Started as `.venv/bin/slacknb demo` is, directly: none of the scripts' environment.
    env = {k: v for k, v in os.environ.items()
           if k not in ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL",
                        "SETUPTOOLS_USE_DISTUTILS", "VIRTUAL_ENV")}
    slacknb = os.path.join(os.path.dirname(sys.executable), "slacknb")
    done = subprocess.run([slacknb, "demo", "--output", str(tmp_path / "out.ipynb")],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "without encryption" not in output  # ipykernel's TCP warning
    assert "Traceback" not in output  # e.g. widget updates sent while the kernel shuts down
    assert "built-in local Slack-compatible server" in output
    final = output.split("The Slack message, as Slack shows it")[1]
    assert final.split("\n", 2)[2].lstrip().startswith("Completed - ")
    assert "Thread reply:" in final and "@alice" in final and "Completed" in final.split("Thread reply:")[1]
    # The chart's reply has no text: the file is named instead of an empty reply.
    replies = [part.strip() for part in final.split("Thread reply:")[1:]]
    assert all(replies) and any(r.startswith("[file] quickstart-completed.png (image/png, ") for r in replies)
    assert "<!date" not in output and "(updated " in final  # dates read as times
    assert saved_sync(tmp_path / "out.ipynb") == ["synced"]  # the saved notebook shows where Slack stood at the end


def test_demo_runs_the_pytorch_notebook_against_the_local_server(tmp_path):
    pytest.importorskip("pytorch_pfn_extras")
    env = {name: value for name, value in os.environ.items()
           if name not in ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL")}
    # The python3 kernelspec starts "python" from PATH: make it this interpreter.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    out = tmp_path / "pytorch.executed.ipynb"
    done = subprocess.run([sys.executable, "-m", "slacknb", "demo", "--notebook", "slacknb/examples/pytorch.ipynb",
                           "--output", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "local Slack-compatible server" in done.stdout
    final = done.stdout.split("The Slack message, as Slack shows it")[1]
    assert [line.strip() for line in final.splitlines() if line.strip()][1].startswith("Completed - ")
    assert "epoch  train/loss  train/accuracy  val/accuracy  elapsed_time" in final  # the aligned table
    assert out.exists() and not list((ROOT / "slacknb" / "examples").glob("kernel-ipc-*"))
    # The kernel ends quietly (nothing updates a display while it shuts down), and the saved
    # notebook shows where Slack stood at the end: synced.
    assert "Traceback" not in done.stdout + done.stderr and "zmq" not in done.stderr, done.stderr[-3000:]
    assert saved_sync(out) == ["synced"]


def saved_sync(path: Path) -> list[str]:
    """The Slack line's state of every report widget saved in an executed notebook."""
    import re

    import nbformat

    nb = nbformat.read(path, as_version=4)
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
    values = [str(model["state"].get("value", "")) for model in models]
    return [m.group(1) for v in values for m in [re.search(r'class="slacknb-sync" data-sync="(\w+)"', v)] if m]


@pytest.mark.parametrize("installed, example", [
    ({"chainer", "pytorch_pfn_extras"}, "quickstart.ipynb"),
    ({"chainer"}, "quickstart.ipynb"),
    ({"pytorch_pfn_extras"}, "pytorch.ipynb"),
    (set(), None),
])
def test_the_demo_runs_the_example_of_the_installed_framework(installed, example):
    from slacknb.cli.demo import demo_notebook

    found = demo_notebook(find_spec=lambda name: object() if name in installed else None)
    assert (found.name if found else None) == example
    assert found is None or found.exists()  # shipped in the package


def test_without_a_framework_the_demo_says_what_to_install(monkeypatch, capsys):
    from slacknb.cli import demo

    monkeypatch.setattr(demo, "demo_notebook", lambda: None)
    assert demo.run_demo() == 1
    assert 'pip install ".[ppe]"' in capsys.readouterr().out
