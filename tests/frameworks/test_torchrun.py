"""torch.distributed jobs: only rank 0 owns the message; a failing rank sends one alert in its thread.

Real jobs: ``torchrun --nproc_per_node 2`` starts two processes that train
data-parallel (DistributedDataParallel over gloo, on the CPU) with a hand-written
ppe loop, reporting to the local Slack server through the environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("pytorch_pfn_extras")

from support.reports import table_lines  # noqa: E402

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPPORT = os.path.join(TESTS, "support")
HOST = socket.gethostname()


def torchrun(case, tmp_path):
    env = dict(os.environ)
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
                           os.path.join(SUPPORT, "ppe_torchrun.py"), case, str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=240)


def test_a_completed_job_is_one_message_with_rank_0s_table(slack_env, tmp_path):
    done = torchrun("complete", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    [message] = slack_env.messages(slack_env.channel_id)
    label = message.text.split()[0]
    assert message.text.startswith(f"{label} Completed")
    assert [row.split()[:2] for row in table_lines(message.text)[1:]] == [["1", "10"], ["2", "20"], ["3", "30"]]
    # Both ranks learnt rank 0's label through the broadcast.
    assert f"rank 0: Completed label={label}" in done.stdout
    assert f"rank 1: Completed label={label}" in done.stdout
    assert len([m for m in message.replies if "rank" in m.text]) == 0
    assert slack_env.token not in done.stdout + done.stderr


def test_a_failing_rank_sends_one_alert_in_rank_0s_thread(slack_env, tmp_path):
    done = torchrun("rank1-fails", tmp_path)
    assert done.returncode != 0
    [message] = slack_env.messages(slack_env.channel_id)  # rank 1 posted no message of its own
    assert "Completed" not in message.text
    [alert] = [m for m in message.replies if "rank 1 diverged" in m.text]
    assert f"rank 1 of 2 on {HOST}" in alert.text
    assert "Boom: rank 1 diverged" in alert.text and "Traceback" in alert.text
    assert slack_env.token not in done.stdout + done.stderr


def test_rank_0_terminated_by_torchrun_after_rank_1_failed_reads_terminated(slack_env, tmp_path):
    # Rank 1 fails while rank 0 loads a batch (not inside a collective): torchrun's agent then
    # sends rank 0 SIGTERM, and rank 0's report ends there.
    done = torchrun("rank1-fails-rank0-loads", tmp_path)
    assert done.returncode != 0
    assert "rank 0: loading a slow batch" in done.stdout
    [message] = slack_env.messages(slack_env.channel_id)
    label = message.text.split()[0]
    assert message.text.startswith(f"{label} Terminated by SIGTERM"), (message.text[:200], done.stderr[-3000:])
    # The failing rank's alert stays in rank 0's thread, and rank 0 says it was terminated.
    [alert] = [m for m in message.replies if "rank 1 diverged" in m.text]
    assert f"rank 1 of 2 on {HOST}" in alert.text and "Traceback" in alert.text
    assert [m for m in message.replies if "SIGTERM" in m.text and "rank 1" not in m.text]
    assert "exitcode  : -15" in done.stderr  # rank 0 ended as SIGTERM ends a process
    assert slack_env.token not in done.stdout + done.stderr
