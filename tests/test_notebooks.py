"""The example notebooks, run top to bottom in a real kernel against the local Slack server.

The kernel is a separate process: it inherits this process's environment, so the
server's URL, token and channel reach it through SLACKNB_API_URL, SLACK_BOT_TOKEN
and SLACK_CHANNEL_ID, exactly as a user's settings would.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from support.charts import text_replies


pytestmark = pytest.mark.notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "slacknb" / "examples"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TOKEN_SHAPE = re.compile(r"(?i)(?:xox[a-z]|xapp)-[A-Za-z0-9]")


@pytest.fixture
def kernel_env(slack_env, monkeypatch):
    # The python3 kernelspec starts "python" from PATH: make it this interpreter.
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    return slack_env


def execute(name: str, workdir: Path, *, fails: bool = False):
    """Run ``slacknb/examples/<name>.ipynb`` in a fresh kernel; returns the executed notebook and its JSON."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=60, startup_timeout=60,
                            resources={"metadata": {"path": str(workdir)}})
    if fails:
        with pytest.raises(CellExecutionError) as caught:
            client.execute()
        error = caught.value
        # nbclient saves widget state only after the last cell; a failing run
        # never gets there, but the client has the state the kernel sent.
        client.set_widgets_metadata()
    else:
        client.execute()
        error = None
    text = nbformat.writes(nb)
    (workdir / f"{name}.executed.ipynb").write_text(text)
    return nb, text, error


def widget_states(nb) -> list[dict]:
    """The saved state of every widget model in an executed notebook."""
    return [model["state"] for model in nb.metadata["widgets"][WIDGET_STATE]["state"].values()]


def reports_in(nb) -> list[tuple[str, str]]:
    """``(data-status, table html)`` of each report widget, from the saved widget state."""
    states = widget_states(nb)
    tables = [s["value"] for s in states if "slacknb-table-box" in s.get("_dom_classes", ())]
    statuses = [s["value"] for s in states if "slacknb-status-line" in s.get("_dom_classes", ())]
    found = []
    for status, table in zip(statuses, tables):
        match = re.search(r'data-status="(\w*)"', status)
        found.append((match.group(1) if match else "", table))
    return found


def table_rows(text: str) -> list[list[str]]:
    """The rows of the code block in a Slack message, header first."""
    return [line.split() for line in text.split("```")[1].strip("\n").splitlines()]


def assert_no_token(text: str, server) -> None:
    assert server.token not in text
    assert not TOKEN_SHAPE.search(text)


def test_quickstart_runs_and_ends_completed_in_slack_and_in_the_widget(kernel_env, tmp_path):
    nb, text, _ = execute("quickstart", tmp_path)
    [message] = kernel_env.messages(kernel_env.channel_id)
    assert message.text.startswith("Completed - ")
    rows = table_rows(message.text)
    assert rows[0] == ["epoch", "main/loss", "main/accuracy", "validation/main/accuracy", "elapsed_time"]
    assert [row[0] for row in rows[1:]] == [str(e) for e in range(1, 21)]
    assert message.history[0].startswith("Started")
    # A run that looks like a real one: the loss falls over the epochs, the accuracy
    # climbs, and neither is done at epoch 1.
    loss = [float(row[1]) for row in rows[1:]]
    accuracy = [float(row[3]) for row in rows[1:]]
    assert loss[0] > 0.5 and loss[-1] < 0.7 * loss[0] and loss[9] > loss[-1]
    assert sum(b < a for a, b in zip(loss, loss[1:])) >= 15
    assert accuracy[0] < 0.8 < accuracy[-1] < 1.0
    # The mention is a reply in the thread, to the user the local server knows as alice.
    assert [reply.text for reply in message.replies if "<@U0ALICE>" in reply.text]
    assert all("(updated <!date^" in version for version in message.history)
    # The widget state saved in the notebook shows the end: Completed, all twenty rows.
    [(status, table)] = reports_in(nb)
    assert status == "Completed"
    assert 'data-rows="20"' in table
    last_cell = nb.cells[-2]
    assert last_cell.outputs[-1]["data"]["text/plain"] == "'epochs run: 20'"
    # {trend} in the quickstart's template: the main loss over the run and its last value.
    [trend] = [line for line in message.text.splitlines() if line.startswith("main/loss ")]
    assert re.fullmatch(r"main/loss [▁-█]{12} \S+", trend), trend
    # The saved report (text/html beside the widget) keeps the final chart as an inline PNG.
    html = "".join(o["data"].get("text/html", "") for o in last_cell.outputs if "data" in o)
    assert re.search(r'<img class="slacknb-chart" [^>]*src="data:image/png;base64,iVBORw0KGgo', html)
    # ...and the report's thread has the same run's chart, once.
    [chart] = [f for reply in message.replies for f in reply.files]
    assert chart["name"] == "quickstart-completed.png"
    assert kernel_env.uploads[chart["id"]]["bytes"].startswith(b"\x89PNG\r\n\x1a\n")
    assert_no_token(text, kernel_env)


def test_extension_notebook_reports_each_run_in_its_own_message(kernel_env, tmp_path):
    nb, text, _ = execute("extension", tmp_path)
    messages = kernel_env.messages(kernel_env.channel_id)
    assert len(messages) == 3
    for message, alpha in zip(messages, ("0.001", "0.01", "0.05")):
        assert message.text.startswith(f"Completed *alpha={alpha}* [##########] 100%")
        assert [row[0] for row in table_rows(message.text)[1:]] == ["1", "2", "3", "4", "5"]
        assert text_replies(message) == []  # alert="failed": a completed run pings nobody
    assert [status for status, _ in reports_in(nb)] == ["Completed"] * 3
    summary = nb.cells[-1].outputs[-1]["data"]["text/plain"]
    assert summary.count("'Completed', 'synced'") == 3
    assert_no_token(text, kernel_env)


def test_failing_notebook_fails_and_slack_says_failed(kernel_env, tmp_path):
    nb, text, error = execute("failure", tmp_path, fails=True)
    assert "FloatingPointError" in str(error)
    [message] = kernel_env.messages(kernel_env.channel_id)
    assert message.text.startswith("Failed - ")
    assert [row[0] for row in table_rows(message.text)[1:]] == ["1", "2", "3"]  # epoch 3 was logged, then it failed
    [alert] = text_replies(message)
    assert alert.text.startswith("<!here> :x: *Failed*") and "failure-demo" in alert.text
    assert "loss diverged at epoch 3" in alert.text
    assert "training with alpha=0.01" in alert.text.split("Console (last lines):")[1]
    assert [status for status, _ in reports_in(nb)] == ["Failed"]
    assert nb.cells[-1].get("outputs", []) == []  # cells after the failure did not run
    assert_no_token(text, kernel_env)


def test_pytorch_notebook_reports_the_ppe_training_like_the_quickstart(kernel_env, tmp_path):
    pytest.importorskip("pytorch_pfn_extras")
    nb, text, _ = execute("pytorch", tmp_path)
    [message] = kernel_env.messages(kernel_env.channel_id)
    assert message.text.startswith("Completed - ")
    rows = table_rows(message.text)
    assert rows[0] == ["epoch", "train/loss", "train/accuracy", "val/accuracy", "elapsed_time"]
    assert [row[0] for row in rows[1:]] == [str(e) for e in range(1, 9)]
    assert message.history[0].startswith("Started")
    [(status, table)] = reports_in(nb)  # the same live widget as Chainer's
    assert status == "Completed" and 'data-rows="8"' in table
    assert nb.cells[-2].outputs[-1]["data"]["text/plain"] == "'epochs run: 8'"
    assert_no_token(text, kernel_env)


def board_widgets(nb) -> list[tuple[str, str]]:
    """``(data-status, table html)`` of each study board's widget (its table has a state column)."""
    return [(status, table) for status, table in reports_in(nb) if ">state<" in table]


def test_optuna_notebook_shows_each_board_live_in_the_notebook(kernel_env, tmp_path, monkeypatch):
    # Without Slack settings: the boards and the trials' reports stay in the notebook.
    for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL_ID"):
        monkeypatch.delenv(name)
    nb, text, _ = execute("optuna", tmp_path)
    boards = board_widgets(nb)
    assert [status for status, _ in boards] == ["Completed", "Completed"]
    assert [table.count("<tr") - 1 for _, table in boards] == [4, 3]  # a row per trial, under the header row
    assert all(table.count(">Complete<") == rows for (_, table), rows in zip(boards, (4, 3)))
    # Every trial's training has its own report widget too (4 with SlackReport, 3 from the magic).
    assert len(reports_in(nb)) - len(boards) == 7
    assert nb.cells[-1].outputs[-1]["data"]["text/plain"].startswith("([True, True],\n 'lr-search \u00b7 minimize \u00b7 4 complete")
    assert kernel_env.messages() == []


@pytest.mark.skipif(not hasattr(__import__("slacknb.slack.mirror", fromlist=["SlackMirror"]).SlackMirror, "reply"),
                    reason="needs SlackMirror(parent=, adopt=, priority=) and SlackMirror.reply(key, text)")
def test_optuna_notebook_posts_one_board_per_study_with_the_trials_in_its_thread(kernel_env, tmp_path):
    nb, text, _ = execute("optuna", tmp_path)
    def everything(server):  # each study's end, and each trial's final report, in the boards' threads
        replies = [r.text for m in server.messages() for r in m.replies]
        return sum("optimize ended" in r for r in replies) == 2 and sum(r.startswith("Completed") for r in replies) == 7

    # The notebook's last cell waited for both boards: everything is in Slack already.
    assert nb.cells[-1].outputs[-1]["data"]["text/plain"].startswith("([True, True],")
    assert everything(kernel_env)
    boards = kernel_env.messages(kernel_env.channel_id)
    assert [m.text.split(" \u00b7 ")[0] for m in boards] == ["lr-search", "plain-search"]
    for board, trials in zip(boards, (4, 3)):
        assert f"{trials} complete" in board.text.splitlines()[0]
        assert [row[1] for row in table_rows(board.text)[1:]] == ["Complete"] * trials
        assert sum(reply.text.startswith("Completed") for reply in board.replies) == trials
        assert sum("optimize ended" in reply.text for reply in board.replies) == 1
        [end] = [reply for reply in board.replies if "<@U0ALICE>" in reply.text]  # the one that notifies
        assert end.text.startswith("<@U0ALICE> :white_check_mark: *Completed*") and ": best " in end.text
    assert_no_token(text, kernel_env)


@pytest.mark.parametrize("name", ["quickstart", "extension", "failure", "pytorch", "optuna"])
def test_committed_notebooks_have_no_outputs_and_no_token(name):
    text = (NOTEBOOKS / f"{name}.ipynb").read_text()
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    assert "widgets" not in nb["metadata"]
    assert not TOKEN_SHAPE.search(text)
    nbformat.validate(nbformat.reads(text, as_version=4))
