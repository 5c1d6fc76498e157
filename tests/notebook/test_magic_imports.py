"""%%slackreport patches a training framework only when it is in use: already imported, or imported
by the cell itself. A Chainer notebook never imports torch (2 to 3 s), a PyTorch notebook never
imports Chainer (and its warnings). Each case in a fresh interpreter, as a notebook's kernel is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = str(Path(__file__).resolve().parents[1])

SHELL = """
import json, sys
sys.path.insert(0, {tests!r})
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config
config = Config()
config.HistoryManager.hist_file = ":memory:"
config.SlackReportMagics.flush_timeout = 10.0
ip = InteractiveShell.instance(config=config)
ip.run_line_magic("load_ext", "slacknb")
before = sorted(m for m in ("chainer", "torch", "pytorch_pfn_extras") if m in sys.modules)
ip.run_cell_magic("slackreport", "--label imports", {cell!r})
after = sorted(m for m in ("chainer", "torch", "pytorch_pfn_extras") if m in sys.modules)
print(json.dumps({{"before": before, "after": after, "status": ip.user_ns.get("status")}}))
"""

CHAINER_CELL = """
from support.training import make_trainer
trainer = make_trainer({out!r}, epochs=1)
trainer.run()
from slacknb import SlackReport
[status] = [e.extension.state.status for e in trainer._extensions.values() if isinstance(e.extension, SlackReport)]
"""

PPE_CELL = """
from support.ppe_training import make_manager, train_loop
manager, model, optimizer, loader = make_manager({out!r}, epochs=1)
train_loop(manager, model, optimizer, loader)
"""


def run_cell(cell: str, env: dict, tmp_path) -> dict:
    script = tmp_path / "kernel.py"
    script.write_text(SHELL.format(tests=TESTS, cell=textwrap.dedent(cell).format(out=str(tmp_path / "out"))))
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def env(slack_env):
    return {**os.environ, "PYTHONPATH": TESTS}


def test_a_chainer_cell_never_imports_torch(env, tmp_path, slack_env):
    found = run_cell(CHAINER_CELL, env, tmp_path)
    assert found["before"] == [] and found["after"] == ["chainer"]
    assert found["status"] == "Completed"  # imported by the cell, and reported all the same
    [message] = slack_env.messages()
    assert message.text.startswith("Completed")


def test_a_ppe_cell_never_imports_chainer(env, tmp_path, slack_env):
    pytest.importorskip("pytorch_pfn_extras")
    found = run_cell(PPE_CELL, env, tmp_path)
    assert "chainer" not in found["after"] and "pytorch_pfn_extras" in found["after"]
    [message] = slack_env.messages()
    assert message.text.startswith("Completed")
