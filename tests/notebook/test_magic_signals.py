"""A Jupyter kernel that receives SIGTERM (a server shutting down) while a ``%%slackreport`` cell
runs ends its reported run as Terminated: a real kernel, a real signal, the local Slack server."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from jupyter_client import KernelManager

pytestmark = pytest.mark.notebook

TESTS = Path(__file__).resolve().parent.parent

SETUP = f"""
import sys, time
sys.path.insert(0, {str(TESTS)!r})
from chainer import training
from support.training import ENTRIES, make_trainer
%load_ext slacknb
"""

TRAINER_CELL = """%%slackreport -e epoch iteration main/loss --interval 0 -m @alice
trainer = make_trainer(".", stop=(1_000_000, "iteration"), log_trigger=(1, "iteration"))
trainer.extend(training.make_extension(trigger=(1, "iteration"))(lambda tr: time.sleep(0.02)))
trainer.run()
"""

JOB_CELL = """%%slackreport --grace 0 --interval 0 -m @alice
for step in range(100_000):
    time.sleep(0.05)
"""


@pytest.fixture
def kernel(slack_env, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.chdir(tmp_path)
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply = client.execute_interactive(SETUP, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        yield manager, client
    finally:
        client.stop_channels()
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


def terminate_when_shown(server, manager, word):
    """Send the kernel SIGTERM once the message shows ``word``; the kernel's exit status."""
    assert server.wait_for(lambda s: any(m.text.startswith(word) for m in s.messages(s.channel_id)), timeout=120)
    manager.signal_kernel(signal.SIGTERM)
    return manager.provisioner.process.wait(timeout=60)


@pytest.mark.parametrize("cell, shown", [(TRAINER_CELL, "Training"), (JOB_CELL, "Started")],
                         ids=["trainer", "cell-job"])
def test_a_kernel_terminated_mid_cell_ends_its_run_as_terminated(slack_env, kernel, cell, shown):
    manager, client = kernel
    client.execute(cell)
    returncode = terminate_when_shown(slack_env, manager, shown)
    assert returncode == -signal.SIGTERM  # then the kernel ended as SIGTERM ends a process
    [message] = slack_env.messages(slack_env.channel_id)
    assert message.text.startswith("Terminated by SIGTERM - "), message.text[:300]
    assert any("<@U0ALICE>" in r.text and "*Terminated*" in r.text for r in message.replies)
