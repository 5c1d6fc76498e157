"""The notebook widget as a person sees it: JupyterLab in Debian's Chromium, driven by Playwright.

JupyterLab runs as a subprocess on 127.0.0.1; its kernels inherit the local
Slack server's URL, token and channel through SLACKNB_API_URL, SLACK_BOT_TOKEN
and SLACK_CHANNEL_ID, as a user's settings would reach them. The tests open a
notebook, use the menus to run it, and assert on what the page shows. Each
state the report passes through is recorded in the page by a MutationObserver,
so "the table grows while the cell runs" is checked however fast training is.

Screenshots go to artifacts/browser/. Leave these tests out locally with
``bash scripts/test -m "not browser"``; without Chromium they skip, except
under CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from support.browser import WIDGET, JupyterLab, NotebookPage, failing_copy, launch_chromium, picture, require_tools
from slacknb.core.chart import WIDTH_PX
from slacknb.testing import SlackServer

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "slacknb" / "examples" / "quickstart.ipynb"
ARTIFACTS = REPO / "artifacts" / "browser"
FAILING = "failing.ipynb"
STOPPABLE = "stoppable.ipynb"
FAILURE_MESSAGE = "loss diverged at epoch 3"
# Long enough for a cold kernel on a loaded 2-core machine: importing Chainer
# and starting the kernel take most of it.
RUN_TIMEOUT_MS = 150_000


@pytest.fixture(scope="module")
def chromium_path():
    return require_tools()


@pytest.fixture(scope="module")
def slack():
    with SlackServer() as server:
        yield server
        assert server.errors == []


@pytest.fixture(scope="module")
def lab(chromium_path, slack, tmp_path_factory):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # A home of its own for the server and its kernels: the report's status line
    # then reads "host:~/notebooks", and a developer's ~/.jupyter changes nothing.
    home = tmp_path_factory.mktemp("home")
    root = home / "notebooks"
    root.mkdir()
    shutil.copy(QUICKSTART, root / "quickstart.ipynb")
    failing_copy(QUICKSTART, root / FAILING, epoch=3, message=FAILURE_MESSAGE)
    stoppable_copy(QUICKSTART, root / STOPPABLE)
    env = dict(os.environ, SLACKNB_API_URL=slack.url, SLACK_BOT_TOKEN=slack.token,
               SLACK_CHANNEL_ID=slack.channel_id, HOME=str(home))
    env.pop("SLACK_ACCESS_TOKEN", None)
    server = JupyterLab(root, tmp_path_factory.mktemp("jupyter"), env=env,
                        log_path=ARTIFACTS / "jupyterlab.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
    # Its log holds the kernel's stderr too: the Slack token must not be there.
    assert slack.token not in server.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        context = launch_chromium(playwright, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield context
        finally:
            context.close()
    finally:
        playwright.stop()


@pytest.fixture
def open_notebook(browser, lab, request):
    pages = []

    def opener(name: str) -> NotebookPage:
        page = browser.new_page()
        pages.append(page)
        return NotebookPage(page, lab, name).open()

    failed_before = request.session.testsfailed
    yield opener
    for index, page in enumerate(pages):
        if request.session.testsfailed > failed_before:  # what the page showed when it went wrong
            page.screenshot(path=ARTIFACTS / f"{request.node.name}-failed-{index}.png", full_page=True)
        page.close()


def new_messages(slack: SlackServer, before: set[str]):
    return [m for m in slack.messages() if m.ts not in before]


def settled_bar(page) -> list[float]:
    """Red, green, blue and width (%) of the widget's progress bar, once it is drawn with a colour."""
    return page.wait_for_function("""selector => {
        const bar = document.querySelector(selector);  // looked up afresh: the widget may be redrawn
        const colour = bar ? getComputedStyle(bar).backgroundColor : "";
        const rgb = colour.match(/\\d+(\\.\\d+)?/g);
        if (!rgb || rgb.length < 3 || (rgb.length > 3 && Number(rgb[3]) === 0) || !bar.style.width) return null;
        return [...rgb.slice(0, 3).map(Number), parseFloat(bar.style.width)];
    }""", arg=f"{WIDGET} .slacknb-progress-bar .progress-bar", timeout=30_000).json_value()


def test_quickstart_report_is_live_and_matches_the_slack_message(open_notebook, slack, lab):
    from playwright.sync_api import expect

    before = {m.ts for m in slack.messages()}
    nb = open_notebook("quickstart.ipynb")
    nb.run_all()

    # Mid-run: once a training state with a log row has been shown (the record
    # only grows, so this cannot be missed), the screen shows the run going on.
    nb.wait_until_seen("s => s.status === 'Training' && s.rows >= 1", timeout_ms=RUN_TIMEOUT_MS)
    nb.page.screenshot(path=ARTIFACTS / "quickstart-running.png")
    picture(nb.report, ARTIFACTS / "quickstart-running-widget.png")

    report = nb.report
    expect(report.locator(".slacknb-status")).to_have_attribute("data-status", "Completed", timeout=RUN_TIMEOUT_MS)
    expect(report.locator(".slacknb-badge")).to_have_text("Completed")
    expect(report.locator(".slacknb-sync")).to_have_attribute("data-sync", "synced", timeout=60_000)
    expect(report.locator(".slacknb-sync-text")).to_have_text("synced")
    expect(report.locator(".slacknb-preview-note")).to_have_text("exactly what Slack shows")
    cell = nb.report_cell()
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"^\[\d+\]:$"))  # the cell has finished
    nb.page.screenshot(path=ARTIFACTS / "quickstart-final.png")
    picture(report, ARTIFACTS / "quickstart-widget.png")
    chart = report.locator("img.slacknb-chart")
    expect(chart).to_be_visible()
    # A decoded picture, drawn at its size (the README's docs/chart.png is this screenshot).
    expect(chart).to_have_js_property("complete", True)
    expect(chart).to_have_js_property("naturalWidth", WIDTH_PX)
    picture(chart, ARTIFACTS / "quickstart-chart.png")

    seen = nb.seen()
    # The widget appeared while its cell was still running...
    assert seen[0]["prompt"] == "[*]:", seen[:3]
    running = [s for s in seen if s["status"] == "Training" and s["prompt"] == "[*]:"]
    assert running, seen
    # ...its table grew row by row, every row counted was on screen...
    rows = [s["rows"] for s in running]
    assert rows == sorted(rows) and len(set(rows)) >= 2, rows
    assert all(s["shownRows"] == s["rows"] for s in seen if s["rows"] <= 50), seen
    # ...and the progress bar moved forward without reaching the end early.
    bars = [s["bar"] for s in running if s["bar"] is not None]
    assert bars == sorted(bars) and len(set(bars)) >= 2 and bars[0] < 100, bars
    # The chart appeared while the cell ran, and changed as it trained.
    charts = [s["chart"] for s in running if s["chart"]]
    assert len(set(charts)) >= 2, charts
    final = seen[-1]
    assert final["status"] == "Completed" and final["bar"] == 100, final
    assert "progress-bar-success" in final["barClass"], final
    assert final["rows"] >= max(rows) and final["shownRows"] >= 1, final

    # Slack holds one message for the run, edited in place, and it is the preview, character for character.
    messages = new_messages(slack, before)
    assert len(messages) == 1, [m.text for m in messages]
    message = messages[0]
    assert message.channel == slack.channel_id
    assert message.text == nb.preview_text()
    assert message.text.startswith("Completed"), message.text
    assert len(message.history) >= 2, message.history
    link = report.locator(".slacknb-link")
    expect(link).to_have_text("open in Slack")
    assert link.get_attribute("href").startswith(slack.root + "/") and message.ts.replace(".", "") in \
        link.get_attribute("href")

    # Saved from the browser, the notebook keeps the final report and never the token.
    nb.save()
    saved = (lab.root_dir / "quickstart.ipynb").read_text()
    assert "slacknb-report" in saved and 'data-status=\\"Completed\\"' in saved
    assert slack.token not in saved
    assert slack.token not in nb.page.content()


def test_failing_cell_shows_red_bar_and_failed_in_widget_and_message(open_notebook, slack):
    from playwright.sync_api import expect

    before = {m.ts for m in slack.messages()}
    nb = open_notebook(FAILING)
    nb.run_all()

    report = nb.report
    expect(report.locator(".slacknb-status")).to_have_attribute("data-status", "Failed", timeout=RUN_TIMEOUT_MS)
    expect(report.locator(".slacknb-badge")).to_have_text("Failed")
    bar = report.locator(".slacknb-progress-bar .progress-bar")
    expect(bar).to_have_class(re.compile(r"\bprogress-bar-danger\b"))
    # The class can land a frame before the theme's colour does, and the widget is redrawn while
    # the end goes to Slack: read colour and width together from one drawn bar.
    red, green, blue, width = settled_bar(nb.page)
    assert red > 150 and red > 2 * green and red > 2 * blue, (red, green, blue)
    # It stopped part way: the bar stays where training stopped.
    assert 0 < width < 100, width
    # The cell fails as it would without the magic, with the error shown under it.
    cell = nb.report_cell()
    expect(cell.locator(".jp-OutputArea-output").last).to_contain_text(f"FloatingPointError: {FAILURE_MESSAGE}")
    expect(report.locator(".slacknb-sync")).to_have_attribute("data-sync", "synced", timeout=60_000)
    expect(report.locator(".slacknb-preview-note")).to_have_text("exactly what Slack shows")
    nb.page.screenshot(path=ARTIFACTS / "failing-final.png")
    picture(report, ARTIFACTS / "failing-widget.png")

    seen = nb.seen()
    assert any(s["status"] == "Training" and s["prompt"] == "[*]:" for s in seen), seen
    assert seen[-1]["status"] == "Failed" and "progress-bar-danger" in seen[-1]["barClass"], seen[-1]

    messages = new_messages(slack, before)
    assert len(messages) == 1, [m.text for m in messages]
    message = messages[0]
    assert message.text == nb.preview_text()
    assert message.text.startswith("Failed"), message.text
    # The loud part: an alert in the message's thread that names the error.
    slack.wait_for(lambda s: any(FAILURE_MESSAGE in r.text for m in new_messages(s, before) for r in m.replies),
                   timeout=30)
    message = new_messages(slack, before)[0]
    assert any("Failed" in reply.text and FAILURE_MESSAGE in reply.text for reply in message.replies), \
        [reply.text for reply in message.replies]


def stoppable_copy(source: Path, target: Path) -> None:
    """``source`` (the quickstart) training for far longer than any test waits."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    index = next(i for i, cell in enumerate(nb.cells)
                 if cell.cell_type == "code" and cell.source.lstrip().startswith("%%slackreport"))
    nb.cells.insert(index, nbformat.v4.new_code_cell(
        "trainer.stop_trigger = training.get_trigger((100000, 'epoch'))"))
    nbformat.write(nb, target)


def test_widget_stop_button_stops_the_training_cell(open_notebook, slack):
    from playwright.sync_api import expect

    before = {m.ts for m in slack.messages()}
    nb = open_notebook(STOPPABLE)
    nb.run_all()
    nb.wait_until_seen("s => s.status === 'Training' && s.rows >= 2", timeout_ms=RUN_TIMEOUT_MS)
    report = nb.report
    button = report.locator(".slacknb-stop-button")
    expect(button).to_be_visible()
    picture(nb.report, ARTIFACTS / "stoppable-running-widget.png")
    button.click()

    # The click reaches the kernel while the cell still trains; the run ends at the
    # next iteration boundary, as Stopped, and the cell finishes normally.
    expect(report.locator(".slacknb-status")).to_have_attribute("data-status", "Stopped", timeout=60_000)
    expect(report.locator(".slacknb-badge")).to_have_text("Stopped")
    expect(button).to_be_hidden()
    cell = nb.report_cell()
    expect(cell.locator(".jp-InputPrompt")).to_have_text(re.compile(r"^\[\d+\]:$"), timeout=60_000)
    expect(cell.locator(".jp-OutputArea-output").last).to_contain_text("epochs run:")
    seen = nb.seen()
    assert seen[-1]["status"] == "Stopped" and seen[-1]["bar"] < 100, seen[-1]

    expect(report.locator(".slacknb-sync")).to_have_attribute("data-sync", "synced", timeout=60_000)
    # Pictures of the settled end (the widget is still redrawn while the end goes to Slack).
    nb.page.screenshot(path=ARTIFACTS / "stoppable-final.png")
    picture(report, ARTIFACTS / "stoppable-widget.png")
    [message] = new_messages(slack, before)
    assert message.text.startswith("Stopped from the notebook"), message.text
    assert message.text == nb.preview_text()
