"""%%slackreport --stop-button: a cell that trains twice stops only the run whose
button was pressed (each run has its own listener and stream id)."""

from __future__ import annotations

import textwrap

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@pytest.fixture
def ip(slack_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SLACK_APP_TOKEN", slack_env.app_token)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.SlackReportMagics.interval = 0.0
    config.SlackReportMagics.flush_timeout = 10.0  # the tests read Slack right after the cell
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "slacknb")
    shell.user_ns.update(out=str(tmp_path / "result"), server=slack_env)
    shell.run_cell("from support.training import make_trainer\nfrom support.stop import ClickAt, report_of")
    yield shell
    InteractiveShell.clear_instance()


def test_two_trainings_in_one_cell_stop_only_the_pressed_run(ip, slack_env):
    server = slack_env
    result = ip.run_cell("%%slackreport --stop-button -m @alice\n" + textwrap.dedent("""
        first = make_trainer(out + "1", epochs=3)
        first.run()
        second = make_trainer(out + "2", epochs=50)
        click = ClickAt(server, 4)
        second.extend(click)
        second.run()
        statuses = [report_of(t).state.status for t in (first, second)]
        streams = [report_of(t)._run.mirror.stop_listener.stream_id for t in (first, second)]
    """))
    result.raise_error()
    assert ip.user_ns["statuses"] == ["Completed", "Stopped"]
    second = ip.user_ns["second"]
    assert second.updater.iteration == ip.user_ns["click"].pressed_at < 500
    assert ip.user_ns["first"].updater.iteration == 30
    first_stream, second_stream = ip.user_ns["streams"]
    assert first_stream != second_stream
    reports = [m for m in server.messages(server.channel_id) if m.text != "stop me"]
    assert [m.text.split(" - ")[0] for m in reports] == ["Completed", "Stopped by <@U0ALICE>"]


def test_stop_button_flag_needs_someone_allowed(ip):
    result = ip.run_cell("%%slackreport --stop-button\npass")
    assert "nobody may press it" in str(result.error_in_exec or result.error_before_exec)
