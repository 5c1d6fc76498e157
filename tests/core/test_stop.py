"""StopSignal: the first request wins, and none is taken once the run ended."""

import threading

from slacknb.core.stop import StopRequest, StopSignal


def test_first_request_wins_and_an_ended_run_takes_none():
    signal = StopSignal()
    assert signal.requested is None and signal.wait(0) is None
    alice = StopRequest("slack", by="<@U0ALICE>", user_id="U0ALICE")
    assert signal.request(alice) is alice
    assert signal.request(StopRequest("notebook")) is alice
    assert signal.requested.description == "by <@U0ALICE>"
    signal.end("Stopped")
    signal.end("Completed")
    assert signal.ended == "Stopped"
    assert StopSignal().request(StopRequest("notebook")).description == "from the notebook"
    late = StopSignal()
    late.end("Completed")
    assert late.request(alice) is None and late.requested is None


def test_wait_returns_once_another_thread_asks():
    signal = StopSignal()
    threading.Thread(target=signal.request, args=(StopRequest("notebook"),)).start()
    assert signal.wait(10).via == "notebook"
