"""Multi-process training: only rank 0 reports, a failing rank sends one alert naming itself.

Rank detection and the non-zero rank's behaviour run in this process with real training
and the local Slack server; the ChainerMN runs are real: Open MPI's mpiexec starting two
Python processes that train data-parallel on the CPU over the 'naive' communicator
(scripts/install_mpi.sh installs Open MPI and mpi4py; CI must have them).
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import warnings

import pytest

from slacknb import SlackReport
from slacknb.core.ranks import RANK_VARIABLES, Rank, detect_rank
from slacknb.slack.mirror import SlackMirror

from support.charts import text_replies
from support.training import ENTRIES, Boom, make_trainer, raise_at_epoch

from support.ci import skip_or_fail

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
HOST = socket.gethostname()
LAUNCH_VARIABLES = [name for pair in RANK_VARIABLES for name in pair] + [
    "PMIX_NAMESPACE", "OMPI_MCA_orte_ess_jobid", "SLURM_JOB_ID", "SLURM_STEP_ID", "TORCHELASTIC_RUN_ID",
    "MASTER_ADDR", "MASTER_PORT",
]


@pytest.fixture
def alone(monkeypatch):
    """No launcher variables: the test sets the ones it means."""
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def report(server, **kwargs):
    kwargs.setdefault("min_interval", 0)
    kwargs.setdefault("flush_timeout", 10)  # the tests read Slack right after the run
    kwargs.setdefault("out", io.StringIO())
    kwargs.setdefault("template", "{label} {status}\n{content}")
    return SlackReport(server.token, server.channel_id, ENTRIES, base_url=server.url, **kwargs)


# -- which rank am I ----------------------------------------------------------------------

@pytest.mark.parametrize("rank_name, size_name", RANK_VARIABLES)
def test_each_launchers_rank_variable_is_read(rank_name, size_name):
    rank = detect_rank(environ={rank_name: "3", size_name: "8"}, host="node-a")
    assert rank == Rank(3, 8, "node-a", rank_name)
    assert not rank.owner and rank.distributed and rank.describe() == "rank 3 of 8 on node-a"


def test_the_first_variable_wins_and_a_bad_value_is_skipped_with_a_warning():
    environ = {"OMPI_COMM_WORLD_RANK": "1", "RANK": "5"}
    assert detect_rank(environ=environ, host="h").source == "OMPI_COMM_WORLD_RANK"
    with pytest.warns(RuntimeWarning, match="PMI_RANK"):
        rank = detect_rank(environ={"PMI_RANK": "two", "SLURM_PROCID": "2"}, host="h")
    assert (rank.rank, rank.size, rank.source) == (2, 3, "SLURM_PROCID")  # no size given: at least rank + 1


def test_a_lone_process_is_rank_0_of_1_and_not_distributed():
    rank = detect_rank(environ={}, host="h")
    assert rank.owner and not rank.distributed and rank.size == 1


def test_comm_must_be_a_communicator():
    with pytest.raises(TypeError, match=r"chainermn.create_communicator"):
        SlackReport(None, None, ENTRIES, comm="world", local=True)
    with pytest.raises(TypeError, match="communicator"):
        detect_rank(comm=object())


def test_a_communicator_with_numpy_integers_is_one():
    import numpy as np

    class Comm:
        rank, size = np.int64(1), np.int32(4)

        def bcast_obj(self, obj, root=0):
            return obj

    rank = detect_rank(comm=Comm(), host="h")
    assert rank == Rank(1, 4, "h", "comm") and type(rank.rank) is int


# -- ranks from the environment, in this process ----------------------------------------------

def test_another_rank_posts_nothing_while_training(server, tmp_path, alone):
    alone.setenv("RANK", "1")
    alone.setenv("WORLD_SIZE", "2")
    out = io.StringIO()
    trainer = make_trainer(tmp_path, epochs=2)
    r = report(server, out=out, finish_mentions="U0ALICE")
    trainer.extend(r, trigger=(1, "epoch"))
    trainer.run()
    assert r.state.status == "Completed" and r.state.log  # it kept its own report
    assert server.calls == [] and out.getvalue() == ""  # no Slack, no second console table


def test_a_failing_rank_without_rank_0s_message_alerts_the_channel_under_the_label(server, tmp_path, alone):
    alone.setenv("OMPI_COMM_WORLD_RANK", "1")
    alone.setenv("OMPI_COMM_WORLD_SIZE", "2")
    alone.setenv("PMIX_NAMESPACE", "job-42")
    trainer = make_trainer(tmp_path, epochs=4)
    raise_at_epoch(trainer, 2, Boom("loss is <nan>"))
    r = report(server, alert_prefix="@here")
    trainer.extend(r, trigger=(1, "epoch"))
    with pytest.raises(Boom):
        trainer.run()
    [alert] = server.messages()
    assert alert.text.startswith("<!here> :x: *Failed* after 0:00:0")
    assert f"\u00b7 {r.label} \u00b7 rank 1 of 2 on {HOST}" in alert.text
    assert "loss is &lt;nan&gt;" in alert.text and alert.replies == []
    assert server.call_counts()["chat.update"] == 0
    # Every rank of the job derives the same label from the launcher's job id.
    assert r.label == report(server, local=True).label


def test_rank_0_reports_as_usual_and_names_itself_in_its_alert(server, tmp_path, alone):
    alone.setenv("SLURM_PROCID", "0")
    alone.setenv("SLURM_NTASKS", "4")
    trainer = make_trainer(tmp_path, epochs=4)
    raise_at_epoch(trainer, 2, Boom("out of memory"))
    r = report(server, label="sweep-7", finish_mentions="U0ALICE")
    trainer.extend(r, trigger=(1, "epoch"))
    with pytest.raises(Boom):
        trainer.run()
    [message] = server.messages()
    assert message.text.startswith("sweep-7 Failed\n")
    alert, mention = text_replies(message)
    assert f"\u00b7 sweep-7 \u00b7 rank 0 of 4 on {HOST}" in alert.text and "out of memory" in alert.text
    assert mention.text.startswith("<@U0ALICE> :x: *Failed*") and "rank" not in mention.text


def test_an_alert_for_a_thread_that_is_gone_goes_to_the_channel(server):
    owner = SlackMirror(server.token, server.channel_id, base_url=server.url, min_interval=0, flush_timeout=10)
    owner.update("rank 0's report")
    posted = owner.wait_posted(10)
    assert posted is not None
    follower = SlackMirror(server.token, server.channel_id, base_url=server.url, owns_message=False,
                           flush_timeout=10)
    follower.attach(*posted, alert_label="run-1 \u00b7 rank 1 of 2 on h")
    follower.update("never sent")
    assert owner.finish("rank 0's final", outcome="completed", elapsed="0:00:01")
    from slack_sdk import WebClient

    WebClient(token=server.token, base_url=server.url).chat_delete(channel=posted[0], ts=posted[1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert follower.finish("ignored", outcome="failed", elapsed="0:00:02", error="Boom: x")
    report_message, alert = server.messages()
    assert report_message.deleted and report_message.text == "rank 0's final"
    assert alert.text.startswith(":x: *Failed* after 0:00:02 \u00b7 run-1 \u00b7 rank 1 of 2 on h")
    assert server.call_counts()["chat.update"] == 1  # the owner's final edit; the follower edits nothing


# -- real ChainerMN under mpiexec --------------------------------------------------------------

def _mpi_missing() -> str | None:
    if shutil.which("mpiexec") is None:
        return "mpiexec not found (Open MPI: apt-get install openmpi-bin libopenmpi-dev)"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed"
    return None


@pytest.fixture
def mpi():
    """Skip without Open MPI and mpi4py, except in CI, where they must be there."""
    missing = _mpi_missing()
    if missing:
        skip_or_fail(f"{missing}: run SLACKNB_MPI=1 bash scripts/test to get the MPI tests",
                     ci_hint="scripts/bootstrap.sh installs Open MPI and mpi4py in CI")


def mpiexec_command(server, tmp_path, *options: str) -> tuple[list, dict]:
    """The command running tests/mpi_train.py on 2 ranks, and its environment."""
    env = {**os.environ, "SLACK_BOT_TOKEN": server.token, "SLACK_CHANNEL_ID": server.channel_id,
           "SLACKNB_API_URL": server.url, "SLACKNB_LIMITS_DIR": str(tmp_path / "limits"),
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    env.pop("SLACK_ACCESS_TOKEN", None)
    command = ["mpiexec", "-n", "2", "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-run-as-root")  # CI containers run as root
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL_ID", "SLACKNB_API_URL", "SLACKNB_LIMITS_DIR"):
        command += ["-x", name]
    command += [sys.executable, os.path.join(TESTS, "support", "mpi_train.py"), str(tmp_path / "out"),
                str(tmp_path / "results"), *options]
    return command, env


def mpiexec(server, tmp_path, *options: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    """Run tests/mpi_train.py on 2 ranks; the ranks' results by rank number."""
    results = tmp_path / "results"
    results.mkdir()
    command, base = mpiexec_command(server, tmp_path, *options)
    env = {**base, **(env or {})}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT)
    found = {}
    for path in results.iterdir():
        result = json.loads(path.read_text())
        found[result["rank"]] = result
    return done, found


@pytest.mark.mpi
@pytest.mark.timeout(240)
def test_a_completed_chainermn_run_is_one_message_with_rank_0s_table(server, tmp_path, mpi):
    done, ranks = mpiexec(server, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert server.token not in done.stdout + done.stderr
    zero, one = ranks[0], ranks[1]
    assert zero["source"] == one["source"] == "comm" and zero["size"] == 2
    assert one["label"] == zero["label"]  # shared from rank 0 at the start
    assert zero["status"] == one["status"] == "Completed"
    [message] = server.messages()
    assert message.text == zero["text"] != one["text"]  # rank 0's own table (rank 1 has another shard)
    assert message.text.startswith(f"{zero['label']} Completed\n")
    rows = message.text.split("```")[1].strip("\n").splitlines()
    assert rows[0].split() == ENTRIES and [row.split()[0] for row in rows[1:]] == ["1", "2", "3"]
    [reply] = text_replies(message)
    assert reply.text.startswith("<@U0ALICE> :white_check_mark: *Completed*")
    assert one["api_calls"] == 0  # the other rank never talked to Slack
    assert server.call_counts()["chat.postMessage"] == 2  # the report and its finish reply


@pytest.mark.mpi
@pytest.mark.timeout(240)
def test_a_rank_that_fails_sends_one_alert_in_rank_0s_thread(server, tmp_path, mpi):
    # The abort ends rank 0 with SIGTERM, then SIGKILL odls_base_sigkill_timeout seconds later
    # (1 by default; raised here so that rank 0's own end is all in Slack every time).
    done, ranks = mpiexec(server, tmp_path, "--fail-rank", "1", env={"OMPI_MCA_odls_base_sigkill_timeout": "30"})
    assert done.returncode != 0  # ChainerMN's hook aborted the job
    assert "loss diverged on rank 1" in done.stderr
    assert server.token not in done.stdout + done.stderr
    one = ranks[1]
    assert one["status"] == "Failed" and one["api_calls"] == 1  # the alert, nothing else
    [message] = server.messages()
    # Rank 0, in the gradients' allreduce (a C call) when the abort's SIGTERM came, says so.
    assert message.text.startswith(f"{one['label']} Terminated by SIGTERM\n")
    [alert] = [r for r in text_replies(message) if "rank 1" in r.text]
    assert [r for r in text_replies(message) if "SIGTERM" in r.text and "rank 0 of 2" in r.text]
    assert alert.text.startswith(":x: *Failed* after 0:00:0")
    assert f"\u00b7 {one['label']} \u00b7 rank 1 of 2 on {HOST}" in alert.text
    assert "Boom: loss diverged on rank 1" in alert.text and "Traceback" in alert.text


@pytest.mark.mpi
@pytest.mark.timeout(240)
def test_without_comm_the_rank_variables_decide_and_the_alert_goes_to_the_channel(server, tmp_path, mpi):
    done, ranks = mpiexec(server, tmp_path, "--no-comm", "--fail-rank", "1")
    assert done.returncode != 0
    one = ranks[1]
    assert one["source"] == "OMPI_COMM_WORLD_RANK" and one["api_calls"] == 1
    [alert] = [m for m in server.messages() if m.text.startswith(":x: *Failed*")]
    [report_message] = [m for m in server.messages() if m is not alert and m.ts != alert.ts]
    assert report_message.text.startswith(f"{one['label']} ")  # rank 0 derived the same label
    # Rank 1's alert is not in rank 0's thread (only rank 0's own Terminated end may be).
    assert not [r for r in text_replies(report_message) if "rank 1" in r.text]
    assert f"\u00b7 {one['label']} \u00b7 rank 1 of 2 on {HOST}" in alert.text


@pytest.mark.mpi
@pytest.mark.timeout(240)
def test_a_terminated_chainermn_job_reads_terminated(server, tmp_path, mpi):
    # mpiexec passes SIGTERM on to the ranks, then SIGKILL after odls_base_sigkill_timeout
    # seconds (1 by default): the README tells to raise it, as here.
    (tmp_path / "results").mkdir()
    command, env = mpiexec_command(server, tmp_path, "--endless")
    env["OMPI_MCA_odls_base_sigkill_timeout"] = "30"
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert server.wait_for(lambda s: any(" Training" in m.text for m in s.messages()), timeout=120)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    [message] = server.messages()
    assert " Terminated by SIGTERM\n" in message.text, (message.text[:200], err[-3000:])
    # Rank 0's alert and reply; rank 1 (no message of its own) says nothing about the signal.
    replies = text_replies(message)
    assert len([r for r in replies if "SIGTERM" in r.text]) == 1 and not [r for r in replies if "rank 1" in r.text]
    assert any("<@U0ALICE>" in r.text and "*Terminated*" in r.text for r in replies)
    assert server.token not in out + err
