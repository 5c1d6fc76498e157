"""Dead and preempted runs say so: real training scripts, real signals, the local Slack server.

Each script (``support/signal_script.py``) trains until the test signals it, once Slack
shows Training. What Slack holds is read right after the process ended: the Terminated
end was delivered before the process went away (it waits for it, bounded).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from support.reports import shows_training


TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(TESTS, "support", "signal_script.py")
FRAMEWORKS = ["ppe", "chainer"]


def framework_installed(name):
    module = "pytorch_pfn_extras" if name == "ppe" else "chainer"
    pytest.importorskip(module)


def start(framework, case, tmp_path, *, env=None, prefix=(), preexec_fn=None):
    framework_installed(framework)
    return subprocess.Popen([*prefix, sys.executable, SCRIPT, framework, case, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)


def wait_training(server, process):
    shown = server.wait_for(shows_training, timeout=120)
    if not shown:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the run never showed Training: {err[-3000:]}")


def ended(process, timeout=90):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def the_message(server):
    [message] = server.messages(server.channel_id)
    return message


def assert_terminated(server, signal_name, out, err):
    message = the_message(server)
    assert message.text.startswith(f"Terminated by {signal_name} - "), (message.text[:200], err[-2000:])
    assert any(text.startswith("Training") for text in message.history)
    alerts = [r for r in message.replies if signal_name in r.text and "<@U0ALICE>" not in r.text]
    assert len(alerts) == 1, [r.text for r in message.replies]
    [finish] = [r for r in message.replies if "<@U0ALICE>" in r.text]
    assert ":no_entry: *Terminated* after" in finish.text
    assert server.token not in out + err
    return message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_sigterm_mid_run_ends_it_as_terminated_then_the_process_as_sigterm_would(slack_env, tmp_path, framework):
    server = slack_env
    server.latency = 0.3  # Slack answering in 300 ms
    process = start(framework, "plain", tmp_path)
    wait_training(server, process)
    process.send_signal(signal.SIGTERM)
    returncode, out, err = ended(process)
    assert returncode == -signal.SIGTERM  # a shell shows 143
    assert_terminated(server, "SIGTERM", out, err)
    assert "slacknb: Terminated by SIGTERM" in err  # the console (a job's log) says it too


def test_the_alert_reads_terminated_by_the_signal(slack_env, tmp_path):
    process = start("ppe", "plain", tmp_path)
    wait_training(slack_env, process)
    process.send_signal(signal.SIGTERM)
    ended(process)
    [alert] = [r for r in the_message(slack_env).replies if "SIGTERM" in r.text]
    assert alert.text.startswith(":no_entry: *Terminated* by SIGTERM after 0:00:")


def test_timeout_ends_the_run_as_terminated(slack_env, tmp_path):
    process = start("chainer", "plain", tmp_path, prefix=("timeout", "-s", "TERM", "20"))
    returncode, out, err = ended(process, timeout=120)
    assert returncode == 124  # timeout's own status for "the command timed out"
    assert_terminated(slack_env, "SIGTERM", out, err)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_scripts_own_handler_runs_and_decides_the_exit(slack_env, tmp_path, framework):
    process = start(framework, "handler-exits", tmp_path)
    wait_training(slack_env, process)
    process.send_signal(signal.SIGTERM)
    returncode, out, err = ended(process)
    assert "script handler ran: SIGTERM" in out
    assert returncode == 3  # the handler's SystemExit(3)
    assert_terminated(slack_env, "SIGTERM", out, err)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_script_that_stops_gracefully_on_sigterm_still_does_and_reads_terminated(slack_env, tmp_path, framework):
    process = start(framework, "handler-flag", tmp_path)
    wait_training(slack_env, process)
    process.send_signal(signal.SIGTERM)
    returncode, out, err = ended(process)
    assert returncode == 0 and "script handler ran: SIGTERM" in out
    assert "ended: Terminated" in out  # its loop ended by itself; the run had ended at the signal
    assert_terminated(slack_env, "SIGTERM", out, err)


def test_sighup_ends_the_run_as_terminated(slack_env, tmp_path):
    process = start("ppe", "plain", tmp_path)
    wait_training(slack_env, process)
    process.send_signal(signal.SIGHUP)
    returncode, out, err = ended(process)
    assert returncode == -signal.SIGHUP
    assert_terminated(slack_env, "SIGHUP", out, err)


def test_an_ignored_sighup_stays_ignored(slack_env, tmp_path):
    # nohup: SIGHUP is ignored before Python starts, and slacknb leaves it so.
    process = start("ppe", "plain", tmp_path, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    wait_training(slack_env, process)
    process.send_signal(signal.SIGHUP)  # discarded by the kernel: the run trains on
    process.send_signal(signal.SIGTERM)
    returncode, out, err = ended(process)
    assert returncode == -signal.SIGTERM
    assert_terminated(slack_env, "SIGTERM", out, err)


def test_with_slack_unreachable_the_process_ends_within_the_delivery_bound(slack_env, tmp_path):
    process = start("ppe", "plain", tmp_path, env={"TEST_DELIVERY_TIMEOUT": "2"})
    wait_training(slack_env, process)
    slack_env.down = True
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    returncode, out, err = ended(process)
    waited = time.monotonic() - signalled
    assert returncode == -signal.SIGTERM
    # Bounded by delivery_timeout (2 s here; never more than 20 s): not the 120 s default.
    assert waited < 15, waited
    slack_env.down = False
