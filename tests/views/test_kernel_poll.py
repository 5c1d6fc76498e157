"""The widget's Stop button under ipykernel 6 (Colab and many pinned environments run it),
in a real kernel of a fresh virtualenv with ``ipykernel<7`` and slacknb installed from this
checkout: a click reaches a kernel busy training, and queued cells still run after, in order.

(ipykernel 7 is the suite's own: tests/views/test_widget_stop_kernel.py.) Creating the
virtualenv takes minutes, so these run with the install tests (SLACKNB_INSTALL=1, or CI).
"""

from __future__ import annotations

import re
import subprocess

import nbformat
import pytest
from nbclient import NotebookClient

from support.kernel_click import ANNOUNCE, assert_click_mid_cell_then_queued_cells_in_order, execute_clicking
from support.venvs import ROOT, fresh_venv, require_installs

pytestmark = [pytest.mark.install, pytest.mark.notebook]

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


KERNEL = "slacknb-ipykernel6"


@pytest.fixture(scope="module")
def ipykernel6(tmp_path_factory):
    """The Jupyter data folder of a virtualenv with ipykernel 6 and slacknb[ppe], holding its
    kernelspec (named :data:`KERNEL`, its interpreter by absolute path)."""
    require_installs()
    prefix = tmp_path_factory.mktemp("ipykernel6") / "venv"
    bin_dir = fresh_venv(prefix, "ipykernel<7", f"{ROOT}[ppe]",
                         # The CPU build of torch (an unpinned one is a CUDA build of several GB).
                         "torch==2.13.0")
    version = subprocess.run([str(bin_dir / "python"), "-c", "import ipykernel; print(ipykernel.__version__)"],
                             capture_output=True, text=True, check=True).stdout
    assert version.startswith("6."), version
    subprocess.run([str(bin_dir / "python"), "-m", "ipykernel", "install", "--prefix", str(prefix),
                    "--name", KERNEL], check=True, capture_output=True, timeout=120)
    return prefix / "share" / "jupyter"


@pytest.fixture
def kernel6_env(ipykernel6, slack_env, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(ipykernel6))
    monkeypatch.delenv("SETUPTOOLS_USE_DISTUTILS", raising=False)
    return slack_env


TRAIN = ANNOUNCE + """
import ipykernel
import pytorch_pfn_extras as ppe
import torch
from slacknb.ppe import SlackReport

print("ipykernel", ipykernel.__version__)
model = torch.nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
manager = ppe.training.ExtensionsManager(model, optimizer, 10000, iters_per_epoch=2)
manager.extend(ppe.training.extensions.LogReport(trigger=(1, "iteration")))
report = SlackReport(None, None, ["epoch", "iteration", "main/loss"], min_interval=0)
manager.extend(report, trigger=(1, "iteration"))
while not manager.stop_trigger:
    with manager.run_iteration():
        loss = model(torch.randn(8, 4)).pow(2).mean()
        ppe.reporting.report({"main/loss": loss.item()})
        loss.backward()
        optimizer.step()
        if manager.iteration == 3:
            announce_click(report._run.views[0].widget)
print("iterations", manager.iteration, report.state.status)
"""


def test_the_widget_stop_button_stops_a_training_cell_under_ipykernel_6(kernel6_env, tmp_path):
    server = kernel6_env
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAIN)])
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=300, startup_timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})
    execute_clicking(client, tmp_path)
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.output_type == "stream")
    assert "ipykernel 6." in printed, printed[-2000:]
    found = re.search(r"iterations (\d+) Stopped", printed)
    assert found, printed[-2000:]
    assert 3 <= int(found.group(1)) < 20000
    states = [m["state"] for m in nb.metadata["widgets"][WIDGET_STATE]["state"].values()]
    [status] = [s["value"] for s in states if "slacknb-status-line" in s.get("_dom_classes", ())]
    assert 'data-status="Stopped"' in status
    assert server.wait_for(lambda s: s.messages() and s.messages()[0].text.startswith("Stopped from the notebook"),
                           timeout=30), [m.text for m in server.messages()]


def test_a_click_is_handled_mid_cell_and_queued_cells_run_after_in_order_under_ipykernel_6(kernel6_env):
    assert_click_mid_cell_then_queued_cells_in_order(
        KERNEL, setup="import ipykernel\nassert ipykernel.version_info[0] == 6, ipykernel.__version__")
