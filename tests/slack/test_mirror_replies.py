"""What a run says in its thread during the run (SlackMirror.reply / edit_reply), a report that is
itself a reply in another message's thread (parent=), one message edited by several streams
(adopt=), and a stream whose edits go first (priority=): through the local server."""

from __future__ import annotations

from slacknb.slack.limits import SharedLimits
from slacknb.slack.pacing import Hold

from support.clock import FakeClock
from support.mirror import States, mirror_for


def test_a_reply_during_the_run_is_posted_once_then_edited_in_place(server):
    states = States()
    mirror = mirror_for(server, states, mentions="@alice")
    mirror.update("Training")
    mirror.reply("stall", "<@U0ALICE> Stalled: no iteration for 12 min")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "Training")
    assert server.wait_for(lambda s: len(s.messages()[0].replies) == 1)
    mirror.update("Stalled")
    mirror.edit_reply("stall", "Stalled for 14 min, then iterations resumed")
    states.wait_synced("Stalled")
    assert server.wait_for(lambda s: s.messages()[0].replies[0].text.startswith("Stalled for 14 min"))
    [message] = server.messages()
    [reply] = message.replies
    assert reply.history == ["<@U0ALICE> Stalled: no iteration for 12 min",
                             "Stalled for 14 min, then iterations resumed"]
    assert mirror.finish("Completed", outcome="completed", elapsed="0:20:00")
    assert [r.text[:6] for r in server.messages()[0].replies] == ["Stalle", "<@U0AL"]


def test_an_edited_reply_not_posted_yet_is_posted_with_its_newest_text(server):
    server.inject("chat.postMessage", status=503, times=1)  # the first post waits for a backoff
    mirror = mirror_for(server)
    mirror.update("Training")
    mirror.reply("stall", "Stalled: first words")
    mirror.edit_reply("stall", "Stalled: newest words")
    assert mirror.finish("Completed", outcome="completed", elapsed="0:00:05")
    [message] = server.messages()
    [reply] = message.replies
    assert reply.history == ["Stalled: newest words"]


def test_a_report_that_is_a_reply_in_another_messages_thread_is_edited_in_place(server):
    board = mirror_for(server)
    board.update("the board")
    channel, ts = board.wait_posted(10)
    states = States()
    trial = mirror_for(server, states, parent=(channel, ts), mentions="U0ALICE")
    trial.update("trial 3: epoch 1")
    states.wait_synced("trial 3: epoch 1")
    trial.update("trial 3: epoch 2")
    states.wait_synced("trial 3: epoch 2")
    assert trial.finish("trial 3: Completed", outcome="completed", elapsed="0:00:09")
    [parent] = server.messages()  # still one message in the channel
    report, reply = parent.replies
    assert report.history == ["trial 3: epoch 1", "trial 3: epoch 2", "trial 3: Completed"]
    assert reply.text.startswith("<@U0ALICE> :white_check_mark:")
    assert trial.state.ts == report.ts != ts


def test_another_stream_adopts_a_message_and_edits_it(server):
    first = mirror_for(server)
    first.update("board v1")
    where = first.wait_posted(10)
    states = States()
    second = mirror_for(server, states, adopt=where)
    second.update("board v2")
    states.wait_synced("board v2")
    [message] = server.messages()
    assert message.history == ["board v1", "board v2"]
    assert server.call_counts()["chat.postMessage"] == 1


def test_a_priority_stream_goes_before_the_others_intermediate_edits(server, tmp_path):
    clock = FakeClock()
    limits = SharedLimits(str(tmp_path), clock=clock)
    boards = States()
    board = mirror_for(server, boards, clock=clock, limits=limits, priority=1)
    board.update("board v1")
    boards.wait_synced("board v1")
    scope = board._outbox.message.api.scope
    for i in range(60):  # other runs of the app spent this minute's chat.update
        with limits.turn(scope, "chat.update", None, urgent=False, stream=f"filler-{i}") as turn:
            turn.made()
    board.update("board v2")
    # The board waits too: no call goes past the minute's budget (Slack would hold every stream) ...
    assert "used up" in boards.wait_for(lambda s: s.status == "rate_limited").detail
    # ... and while it waits, the other streams' intermediate edits step aside for it.
    with limits.turn(scope, "chat.update", None, urgent=False, stream="a-trial") as turn:
        assert turn.reason == Hold.BOARD_FIRST
    with limits.turn(scope, "chat.update", None, urgent=True, stream="a-final") as turn:
        assert turn.reason == Hold.BOARD_FIRST  # so does a final, the board being within its share
    clock.advance(65)  # the minute's calls age out
    boards.wait_synced("board v2")
    with limits.turn(scope, "chat.update", None, urgent=False, stream="a-trial") as turn:
        assert turn.reason != Hold.BOARD_FIRST  # the board went: nobody steps aside for it now
    board.close()


def test_a_reply_names_the_people_found_by_then_and_is_sent_once(server):
    states = States()
    mirror = mirror_for(server, states, mentions="@alice")
    mirror.update("Training")
    states.wait_for(lambda s: s.status == "synced" and s.sent_text == "Training" and s.mentions)
    mirror.reply("stall", f"{mirror.mention_slot} Stalled")
    mirror.update("Stalled")
    states.wait_synced("Stalled")
    assert server.wait_for(lambda s: len(s.messages()[0].replies) == 1)
    [message] = server.messages()
    [reply] = message.replies
    assert reply.history == ["<@U0ALICE> Stalled"]  # filled on the worker, then left alone
    assert server.call_counts()["chat.update"] == len(message.history) - 1  # no edit of the reply
    assert states.seen[-1].names == {"U0ALICE": "alice"}  # the people named, not the whole directory
    mirror.close()
