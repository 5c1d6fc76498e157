"""``slacknb demo --notebook notebooks/pytorch.ipynb``: the PyTorch notebook through the demo command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.notebook

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_the_pytorch_notebook_against_the_local_server(tmp_path):
    pytest.importorskip("pytorch_pfn_extras")
    env = {name: value for name, value in os.environ.items()
           if name not in ("SLACK_BOT_TOKEN", "SLACK_ACCESS_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL")}
    # The python3 kernelspec starts "python" from PATH: make it this interpreter.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    out = tmp_path / "pytorch.executed.ipynb"
    done = subprocess.run([sys.executable, "-m", "slacknb", "demo", "--notebook", "notebooks/pytorch.ipynb",
                           "--output", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "local Slack-compatible server" in done.stdout
    final = done.stdout.split("The Slack message, as Slack shows it")[1]
    assert [line.strip() for line in final.splitlines() if line.strip()][1].startswith("Completed - ")
    assert "epoch       train/loss  train/accuracy  val/accuracy  elapsed_time" in final
    assert out.exists() and not list((ROOT / "notebooks").glob("kernel-ipc-*"))
