"""Helpers for tests/test_browser.py: JupyterLab in a subprocess, driven in Debian's Chromium.

Playwright only drives the browser; the browser is the system Chromium
(``/usr/bin/chromium``, or ``SLACKNB_CHROMIUM``), installed by
``scripts/install_browser.sh``. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.ci import skip_or_fail as ci_skip_or_fail

CHROMIUM = os.environ.get("SLACKNB_CHROMIUM", "/usr/bin/chromium")
# No sandbox: CI runs as root, where Chromium's sandbox refuses to start. The
# rest keeps a headless browser from reaching for the network or a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# scripts/bootstrap.sh always installs the browser extra (Playwright, JupyterLab);
# only the system Chromium needs the opt-in.
HOW_TO_GET = ("run 'SLACKNB_BROWSER=1 bash scripts/test' once to install Debian's chromium (needs root or "
              "sudo; or set SLACKNB_CHROMIUM to a Chromium you have), or leave the browser tests out with: "
              "bash scripts/test -m 'not browser'")


def skip_or_fail(reason: str) -> None:
    """Skip locally with ``reason``; fail in CI, where the browser tests must run."""
    ci_skip_or_fail(reason, ci_hint="the browser tests must run here; scripts/bootstrap.sh installs them")


def require_tools() -> str:
    """The Chromium executable, once Playwright and JupyterLab are importable; skips (fails in CI) if not."""
    for module, package in (("playwright.sync_api", "playwright"), ("jupyterlab", "jupyterlab")):
        try:
            __import__(module)
        except ImportError:
            skip_or_fail(f"{package} is not installed: pip install -e '.[browser]', or {HOW_TO_GET}")
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"no Chromium at {CHROMIUM}: {HOW_TO_GET}")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_lab_settings(settings_dir: Path) -> None:
    """User settings for a clean screen: no "get Jupyter news?" toast, no update check."""
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1 serving ``root_dir``, with a random token.

    ``env`` is the server's environment, which its kernels inherit. Everything
    Jupyter writes (config, runtime files, workspaces, settings) goes under
    ``state_dir``, so a developer's own Jupyter set-up changes nothing.
    """

    def __init__(self, root_dir: Path, state_dir: Path, *, env: dict[str, str], log_path: Path):
        self.root_dir, self.state_dir, self.log_path = root_dir, state_dir, log_path
        self.env = dict(env)
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The browser address of ``path`` (e.g. ``lab/tree/quickstart.ipynb``), token included."""
        return f"{self.base_url}/{path}?token={self.token}"

    def start(self, *, timeout: float = 60.0) -> "JupyterLab":
        state = self.state_dir
        settings = state / "settings"
        write_lab_settings(settings)
        env = dict(self.env,
                   JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_DATA_DIR=str(state / "data"),
                   JUPYTER_RUNTIME_DIR=str(state / "runtime"), IPYTHONDIR=str(state / "ipython"))
        # The python3 kernel starts "python" from PATH: make it this interpreter.
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
            # CI runs as root; nobody but this test can reach 127.0.0.1:port without the token.
            "--ServerApp.allow_root=True",
            f"--LabApp.workspaces_dir={state / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
            # Nothing leaves the machine: no news feed, no update check, no PyPI extension manager.
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        log = open(self.log_path, "wb")
        # Its own process group, so that teardown can end the kernels with it.
        self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        status = f"{self.base_url}/api/status"
        request = urllib.request.Request(status, headers={"Authorization": f"token {self.token}"})
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(request, timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer {status} within {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.2)  # poll interval of a condition with a deadline, not a wait for time to pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, *, timeout: float = 15.0) -> None:
        """Stop the server (it shuts its kernels down); kill the whole group if it hangs."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()  # jupyter_server stops on SIGTERM and shuts its kernels down
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # kernels left behind, if any
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def launch_chromium(playwright, user_data_dir: Path, *, viewport=(1280, 1400)):
    """A headless Debian Chromium with a fresh profile, as a Playwright persistent context."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": viewport[0], "height": viewport[1]}, device_scale_factor=1,
    )


# The live widget; the text/html fallback (a saved output) has the class slacknb-report too.
WIDGET = ".jupyter-widgets.slacknb-report"

# What a person sees of the report, recorded on every DOM change of the page.
# A MutationObserver reports each change as it happens, so the history holds
# the intermediate states however fast the training runs; polling could miss them.
RECORDER = r"""
(WIDGET) => {
  if (window.__slacknbSeen) return;
  const seen = window.__slacknbSeen = [];
  const look = () => {
    const report = document.querySelector(WIDGET);
    if (!report) return;
    const cell = report.closest('.jp-Cell');
    const prompt = cell && cell.querySelector('.jp-InputPrompt');
    const status = report.querySelector('.slacknb-status');
    const table = report.querySelector('.slacknb-table');
    const bar = report.querySelector('.slacknb-progress-bar .progress-bar');
    const sync = report.querySelector('.slacknb-sync');
    const chart = report.querySelector('img.slacknb-chart');
    const state = {
      prompt: prompt ? prompt.textContent.trim() : null,
      status: status ? status.dataset.status : null,
      rows: table ? Number(table.dataset.rows) : 0,
      shownRows: table ? table.querySelectorAll('tbody tr').length : 0,
      bar: bar ? parseFloat(bar.style.width) : null,
      barClass: bar ? bar.className : null,
      sync: sync ? sync.dataset.sync : null,
      // Each new picture is a new blob URL: the chart's history is its sources.
      chart: chart && chart.getAttribute('src') ? chart.getAttribute('src') : null,
    };
    const last = seen[seen.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(state)) seen.push(state);
  };
  new MutationObserver(look).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
  look();
}
"""


class NotebookPage:
    """One notebook open in JupyterLab, used the way a person uses it (menus, what shows)."""

    def __init__(self, page, lab: JupyterLab, name: str):
        self.page, self.lab, self.name = page, lab, name

    def open(self, *, timeout_ms: int = 90_000) -> "NotebookPage":
        """Open the notebook and wait until its kernel shows Idle in the status bar."""
        from playwright.sync_api import expect

        # A workspace of its own: JupyterLab would otherwise reopen the tabs an
        # earlier page left open, and the menus would act on one of those.
        workspace = re.sub(r"[^A-Za-z0-9-]", "-", self.name)
        self.page.goto(self.lab.url(f"lab/workspaces/{workspace}/tree/{self.name}"))
        expect(self.page.locator(".jp-Notebook")).to_be_visible(timeout=timeout_ms)
        self.page.evaluate(RECORDER, WIDGET)
        expect(self.page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle$"))).to_be_visible(
            timeout=timeout_ms)
        return self

    def menu(self, *path: str) -> None:
        """Click through the menu bar, e.g. ``menu("Run", "Run All Cells")``."""
        for name in path:
            # A menu item's name ends with its shortcut, if it has one: "Save Notebook Ctrl+S".
            label = re.compile(rf"^{re.escape(name)}(\s+\S*[+]\S+)?\s*$")
            self.page.get_by_role("menuitem", name=label).click()

    def run_all(self) -> None:
        self.menu("Run", "Run All Cells")

    def save(self, *, timeout_ms: int = 30_000) -> None:
        """File > Save Notebook, then wait until the tab no longer shows unsaved changes."""
        from playwright.sync_api import expect

        self.menu("File", "Save Notebook")
        expect(self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=timeout_ms)

    def seen(self) -> list[dict]:
        """Every distinct state of the report the page has shown, oldest first."""
        return self.page.evaluate("() => window.__slacknbSeen || []")

    def wait_until_seen(self, predicate_js: str, *, timeout_ms: int) -> None:
        """Wait until some recorded state matches ``predicate_js`` (a JS function of one state)."""
        self.page.wait_for_function(f"() => (window.__slacknbSeen || []).some({predicate_js})",
                                    timeout=timeout_ms)

    @property
    def report(self):
        """The report widget (the live ipywidgets view, not a saved text/html fallback)."""
        return self.page.locator(WIDGET)

    def report_cell(self):
        """The notebook cell that holds the report widget (code, widget and output)."""
        return self.page.locator(".jp-Cell", has=self.page.locator(WIDGET))

    def preview_text(self) -> str:
        """The Slack message as the widget's preview shows it."""
        return self.report.locator(".slacknb-preview-source").text_content()


def failing_copy(source: Path, target: Path, *, epoch: int, message: str) -> None:
    """``source`` (the quickstart) with a cell before ``%%slackreport`` that makes training fail at ``epoch``."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    index = next((i for i, cell in enumerate(nb.cells)
                  if cell.cell_type == "code" and cell.source.lstrip().startswith("%%slackreport")), None)
    if index is None:
        raise AssertionError(f"{source.name} has no %%slackreport cell to make fail")
    nb.cells.insert(index, nbformat.v4.new_code_cell(
        "from chainer import training as _training\n\n\n"
        "@_training.make_extension(trigger=(1, 'epoch'))\n"
        "def fail_mid_training(trainer):\n"
        f"    if trainer.updater.epoch >= {epoch}:\n"
        f"        raise FloatingPointError({message!r})\n\n\n"
        "trainer.extend(fail_mid_training)\n"
    ))
    nbformat.write(nb, target)


def picture(locator, path: Path, *, attempts: int = 5) -> None:
    """A screenshot of the element ``locator`` finds, found again if the widget redraws it meanwhile.

    The widget is redrawn on every state it is sent (the end goes on changing it while Slack
    catches up), so the element found can be detached before its picture is taken.
    """
    from playwright.sync_api import Error

    for attempt in range(attempts):
        try:
            locator.screenshot(path=path)
            return
        except Error as error:
            if "not attached" not in str(error) or attempt == attempts - 1:
                raise
