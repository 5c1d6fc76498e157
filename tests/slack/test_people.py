"""The run's people looked up through the one API layer, against the local server: one call a
step, faults retried on a backoff of their own, missing scopes and unknown people named."""

from __future__ import annotations

from slacknb.core.mentions import parse_mentions
from slacknb.runtime.clock import Clock
from slacknb.slack.api import Api, make_client
from slacknb.slack.limits import SharedLimits
from slacknb.slack.people import People

from support.clock import FakeClock
from support.mirror import States, mirror_for


def look_up(server, spec, *, allowed=None, clock: Clock | None = None, steps: int = 20) -> People:
    """Run the look-ups to the end, as the outbox would, moving a fake clock past each backoff."""
    clock = clock or FakeClock()
    people = People(parse_mentions(spec), None if allowed is None else parse_mentions(allowed))
    api = Api(make_client(server.token, server.url, 5), clock=clock)
    for _ in range(steps):
        if not people.due:
            return people
        if people.retry_at > clock.now():
            clock.advance(people.retry_at - clock.now())
        people.step(api, clock.now())
    raise AssertionError(f"still looking after {steps} steps")


def test_names_resolve_by_name_display_name_or_real_name_across_pages(server):
    users = server.workspace.users
    last = users[-1]
    last.display_name = "Zed"
    alice = next(u for u in users if u.name == "alice")
    alice.real_name = "Alice Liddell"
    people = look_up(server, ["@zed", "Alice Liddell", "U0BOB", "@here"])
    assert people.markup == f"<@{last.id}> <@U0ALICE> <@U0BOB> <!here>"
    assert people.report() == "" and people.names["U0ALICE"] == "alice" and people.names[last.id] == "Zed"
    assert server.call_counts()["users.list"] == 2  # two pages of 200


def test_the_user_directory_is_cached_per_workspace(server):
    look_up(server, "@alice")
    look_up(server, "@bob")
    assert server.call_counts()["users.list"] == 2  # one read of two pages, then the cache


def test_deleted_users_and_unknown_names_stay_unresolved(server):
    bob = next(u for u in server.workspace.users if u.name == "bob")
    bob.deleted = True
    people = look_up(server, "@bob @ghost alice")
    assert people.markup == "<@U0ALICE>"
    assert people.report() == ("Slack mentions not resolved, they will not be notified: @bob, @ghost: "
                               "no such user in the workspace")


def test_emails_use_lookup_by_email(server):
    people = look_up(server, "ALICE@example.com nobody@example.com")
    assert people.markup == "<@U0ALICE>" and "nobody@example.com" in people.report()
    assert server.call_counts()["users.lookupByEmail"] == 2 and server.call_counts()["users.list"] == 0


def test_a_missing_scope_is_named(server):
    info = server.workspace.tokens[server.token]
    info.scopes = tuple(s for s in info.scopes if s not in ("users:read", "users:read.email"))
    people = look_up(server, "@alice alice@example.com U0BOB")
    assert people.markup == "<@U0BOB>"
    report = people.report()
    assert "@alice" in report and "alice@example.com" in report
    assert "users:read scope" in report and "users:read.email scope" in report


def test_a_dropped_connection_is_retried_after_a_backoff_of_its_own(server):
    server.inject("users.list", drop=True)
    clock = FakeClock()
    people = People(parse_mentions("@alice"))
    api = Api(make_client(server.token, server.url, 5), clock=clock)
    step = people.step(api, clock.now())
    assert step.status == "done" and people.due and people.retry_at > clock.now()  # the report goes on
    assert people.last_failure.kind.value == "transient"
    clock.advance(people.retry_at - clock.now())
    while people.due:
        people.step(api, clock.now())
    assert people.markup == "<@U0ALICE>" and api.calls == 3  # the dropped call, then two pages


def test_who_may_stop_is_looked_up_with_the_mentions(server):
    people = look_up(server, "@alice @here", allowed="bob@example.com U0ZED")
    assert people.markup == "<@U0ALICE> <!here>" and people.allowed_ids == ("U0BOB", "U0ZED")


def test_giving_up_names_who_is_left_out_and_why(server):
    people = People(parse_mentions("@alice U0BOB"))
    people.give_up("Slack kept failing (http_503) while looking up mentions")
    assert not people.due and people.markup == "<@U0BOB>"
    assert people.report().endswith("@alice: Slack kept failing (http_503) while looking up mentions")


def test_a_rate_limited_look_up_is_waited_out_by_the_mirror(server):
    server.inject("users.list", error="ratelimited", retry_after=1)
    states = States()
    mirror = mirror_for(server, states, mentions="@alice")
    mirror.update("epoch 1")
    states.wait_for(lambda s: s.mentions == "<@U0ALICE>")
    assert server.early_retries == 0
    mirror.close()


def test_a_look_up_the_gate_holds_waits_on_its_own_and_the_report_goes_on(server, tmp_path):
    # 32 processes of a study looking up their mentions at once: one got users.list's 429 and
    # the gate holds users.list for the app; this run's report edits must not wait with it.
    clock = FakeClock(1000.0)
    limits = SharedLimits(str(tmp_path), clock=clock)
    api = Api(make_client(server.token, server.url, 5), clock=clock, limits=limits)
    with limits.turn(api.scope, "users.list", None, urgent=False, stream="other") as turn:
        turn.limited(60.0)
    people = People(parse_mentions("@alice"))
    step = people.step(api, clock.now())
    assert step.status == "done" and step.hold is None  # not the outbox's wait: its edits go on
    assert people.due and people.retry_at == 1060.0 and api.calls == 0
    clock.advance(60.0)
    while people.due:
        people.step(api, clock.now())
    assert people.markup == "<@U0ALICE>"
