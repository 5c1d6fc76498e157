"""The widget's Stop button in a real kernel (nbclient): a click sent while the cell
trains reaches the busy kernel and stops the run at an iteration boundary."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from support.kernel_click import assert_click_mid_cell_then_queued_cells_in_order, execute_clicking

pytestmark = pytest.mark.notebook

TESTS = Path(__file__).resolve().parent.parent
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TOKEN_SHAPE = re.compile(r"(?i)(?:xox[a-z]|xapp)-[A-Za-z0-9]")

SETUP = f"""
import json, os, sys
sys.path.insert(0, {str(TESTS)!r})
import ipykernel
from chainer import training
from slacknb import SlackReport
from support.training import ENTRIES, make_trainer
"""

TRAIN = """
trainer = make_trainer(".", stop=(20000, "iteration"))
# Slack's Stop button listens too (SLACK_APP_TOKEN is set): its token must stay out of the notebook.
report = SlackReport(None, None, ENTRIES, min_interval=0, stop_button=True, finish_mentions="@alice")
trainer.extend(report, trigger=(1, "epoch"))

@training.make_extension(trigger=(1, "iteration"))
def announce(tr):
    if tr.updater.iteration == 3:
        widget = report._run.views[0].widget
        with open("click-me.tmp", "w") as f:
            json.dump({"model_id": widget.stop_button.model_id,
                       "connection_file": ipykernel.get_connection_file()}, f)
        os.replace("click-me.tmp", "click-me.json")  # whole, or not there

class Finalized(training.Extension):
    def __call__(self, tr):
        pass

    def finalize(self):
        with open("finalized.txt", "w") as f:
            f.write(str(trainer.updater.iteration))

trainer.extend(announce)
trainer.extend(Finalized(), trigger=(1, "iteration"))
trainer.run()
print("iterations", trainer.updater.iteration, report.state.status)
"""


@pytest.fixture
def kernel_env(slack_env, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("SLACK_APP_TOKEN", slack_env.app_token)
    return slack_env


def test_widget_stop_button_stops_a_training_cell(kernel_env, tmp_path):
    server = kernel_env
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(TRAIN)])
    client = NotebookClient(nb, kernel_name="python3", timeout=120, startup_timeout=60,
                            resources={"metadata": {"path": str(tmp_path)}})
    execute_clicking(client, tmp_path)

    printed = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    found = re.search(r"iterations (\d+) Stopped", printed)
    assert found, (printed[-500:], [o for o in nb.cells[1].outputs if o.output_type != "stream"][:1])
    iterations = int(found.group(1))
    assert 3 <= iterations < 20000
    assert (tmp_path / "finalized.txt").read_text() == str(iterations)
    states = [m["state"] for m in nb.metadata["widgets"][WIDGET_STATE]["state"].values()]
    [status] = [s["value"] for s in states if "slacknb-status-line" in s.get("_dom_classes", ())]
    assert 'data-status="Stopped"' in status
    models = nb.metadata["widgets"][WIDGET_STATE]["state"]
    [button] = [s for s in states if "slacknb-stop-button" in s.get("_dom_classes", ())]
    assert models[button["layout"].removeprefix("IPY_MODEL_")]["state"]["display"] == "none"
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Stopped from the notebook - ") and message.blocks is None
    assert server.call_counts()["apps.connections.open"] >= 1
    text = nbformat.writes(nb)
    assert server.token not in text and server.app_token not in text and not TOKEN_SHAPE.search(text)


def test_poll_handles_a_click_mid_cell_and_queued_cells_run_after_in_order(monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    assert_click_mid_cell_then_queued_cells_in_order("python3")
