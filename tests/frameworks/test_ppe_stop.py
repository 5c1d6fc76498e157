"""The Stop button in real pytorch-pfn-extras trainings, both ways ppe trains: a click
over Socket Mode ends the run at the iteration it came in, finalize runs, Stopped."""

from __future__ import annotations

import io

import pytest

pytest.importorskip("pytorch_pfn_extras")

from slacknb.ppe import SlackReport  # noqa: E402

from support.ppe_training import ENTRIES, make_manager, make_trainer, train_loop  # noqa: E402
from support.stop import button_message  # noqa: E402


@pytest.mark.parametrize("way", ["trainer", "loop"])
def test_allowed_click_stops_a_ppe_run_at_its_iteration(server, tmp_path, monkeypatch, way):
    monkeypatch.setenv("SLACK_APP_TOKEN", server.app_token)
    r = SlackReport(server.token, server.channel_id, ENTRIES, base_url=server.url, min_interval=0,
                    flush_timeout=10, out=io.StringIO(), finish_mentions="@alice", stop_button=True)
    pressed = []

    def press_stop(manager):
        # From iteration 5: once the message shows the button, alice presses it.
        run, listener = r._run, r._run.mirror.stop_listener
        if pressed or manager.iteration < 5:
            return
        if manager.iteration == 5:
            assert listener.wait_started(10) and listener.listening
            run.push(force=True)  # the next edit carries the button: now, not in 0.5 s
            assert server.wait_for(lambda s: button_message(s, listener.stream_id) is not None, timeout=10)
        message = button_message(server, listener.stream_id)
        envelope = server.press(server.channel_id, message.ts, user="U0ALICE")
        assert server.wait_for(lambda s: any(a.envelope_id == envelope for a in s.acks), timeout=10)
        assert listener.wait_answered(1, timeout=10)
        pressed.append(manager.iteration)

    if way == "trainer":
        trainer, loader = make_trainer(tmp_path, epochs=50)
        trainer.extend(r, trigger=(1, "epoch"))
        trainer.extend(press_stop, trigger=(1, "iteration"))
        trainer.run(loader)
        manager = trainer.manager
    else:
        manager, model, optimizer, loader = make_manager(tmp_path, epochs=50)
        manager.extend(r, trigger=(1, "epoch"))
        manager.extend(press_stop, trigger=(1, "iteration"))
        train_loop(manager, model, optimizer, loader)

    assert pressed == [5] and manager.iteration == 5 and manager._finalized
    assert r.state.status == "Stopped"
    [message] = server.messages(server.channel_id)
    assert message.text.startswith("Stopped by <@U0ALICE> - ") and message.blocks is None
    [reply] = [m for m in message.replies if not m.files]  # the chart goes to the thread too
    assert "*Stopped*" in reply.text and "<@U0ALICE>" in reply.text
