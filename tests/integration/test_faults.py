"""Issue 15's table, each row on the really started stack (tests/stack.py): a fault is injected while missed
calls keep coming, and every caller must get exactly one text, in time, with nobody restarting anything by hand.

The stack's supervisor restarts a process that exits (as production's `restart: unless-stopped` does) and
counts it; where the row says "no process exits", the test asserts that count stayed at zero.

Times are kept short so the whole file runs in about three minutes; bench/soak.py runs the same faults for
20 minutes under load. Deviations from the issue's wording, each said where it happens: PostgreSQL is "restarted"
by terminating the stack's connections and refusing new ones (the machine's server is shared); Twilio's outage
lasts 20 s rather than 2 minutes (the retry schedule reaches past 5 minutes: messaging.services.MAX_ATTEMPTS); the
stack's Twilio timeout is 1 s, so Twilio answering in 5 s times every send out."""

import os
import signal
import time
from collections import Counter

import pytest
import requests
from celery.utils.nodenames import host_format, worker_direct
from django.db import connection

from accounts.models import Client
from messaging.models import OutboundSend
from tests.integration.calls import miss_a_call, post, send_row
from tests.stack import wait_until
from tests.webhooks import call_params

# What the issue promises once a fault ends.
WITHIN = 30.0


def caller(n: int) -> str:
    """A caller of their own for each call: the same caller twice would be suppressed as recently texted."""
    return f"+1312555{2000 + n:04d}"


def health(stack) -> tuple[int, dict]:
    response = requests.get(f"{stack.base_url}/healthz", timeout=10)
    return response.status_code, response.json()


def texts_by_caller(fake) -> Counter:
    return Counter(message["to"] for message in fake.messages)


def wait_for_texts(fake, callers: list[str], *, timeout: float) -> dict[str, float]:
    """Wait until every caller has a text; → caller → when (time.time()) their first text reached Twilio."""

    def arrived():
        first = {}
        for message in fake.messages:
            first.setdefault(message["to"], message["received_at"])
        return first if all(number in first for number in callers) else None

    return wait_until(arrived, timeout=timeout, interval=0.2, what=f"texts to {len(callers)} callers")


def assert_each_texted_once(fake, callers: list[str]) -> None:
    time.sleep(2)  # a duplicate would come from a sweep (every second here) or a redelivery
    counts = texts_by_caller(fake)
    assert {number: counts[number] for number in callers} == dict.fromkeys(callers, 1)


# What a worker or the sender logs when it exits because its consumer stalled (config/liveness.py).
STALL_EXIT = "exiting, to be restarted by the supervisor"


@pytest.fixture
def supervised(live):
    """The stack, with what the supervisor restarted during the test: supervised.restarted() → {name: times},
    and supervised.crashed(), the same without the restarts a worker asked for itself because Celery had left
    its consumer taking nothing after a broker restart (celery#8030, #10205; config/liveness.py): that is this
    system's recovery from a known Celery fault, which a test that says "no process exits" still allows. Any
    other exit is a crash."""
    before = dict(live.restarts)
    logged = {name: len(live.log(name)) for name in ("worker", "sender")}

    def restarted() -> dict[str, int]:
        return {
            name: count - before.get(name, 0)
            for name, count in live.restarts.items()
            if count != before.get(name, 0)
        }

    def crashed() -> dict[str, int]:
        unexplained = {}
        for name, count in restarted().items():
            asked = live.log(name)[logged.get(name, 0) :].count(STALL_EXIT) if name in logged else 0
            if count > asked:
                unexplained[name] = count - asked
        return unexplained

    live.crashed = crashed
    live.restarted = restarted
    yield live
    live.fake.set_latency(0)
    live.fake.fail_for(0)
    live.start_database()  # whatever the test did
    if "redis" not in live.processes:
        live.start_redis()


@pytest.fixture
def delayed(personas):
    """bolt texts back after a delay: its send sits in the worker unacknowledged until due (an ETA task)."""
    Client.objects.filter(pk=personas.bolt.pk).update(text_delay_seconds=12)
    yield personas.bolt
    Client.objects.filter(pk=personas.bolt.pk).update(text_delay_seconds=0)


def test_redis_stopped_for_10_seconds_no_process_exits_and_every_caller_is_texted_once(
    supervised, personas, delayed
):
    stack = supervised
    held = miss_a_call(stack, delayed, caller(1))  # held unacknowledged by the sender when Redis goes
    miss_a_call(stack, personas.acme, caller(2))
    wait_for_texts(stack.fake, [caller(2)], timeout=15)
    status, body = health(stack)
    assert status == 200, str(body)
    stack.stop_redis()
    stopped = time.monotonic()
    during = [caller(3), caller(4)]
    for number in during:
        miss_a_call(stack, personas.acme, number)  # the webhooks still answer 200: the ledger has the send
    status, body = health(stack)
    assert (status, body["broker"]) == (503, "error: ConnectionError"), body  # /healthz says what is down
    time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
    stack.start_redis()
    back = time.time()

    callers = [caller(1), caller(2), *during]
    arrived = wait_for_texts(stack.fake, callers, timeout=WITHIN + 5)
    assert all(arrived[number] - back <= WITHIN for number in [caller(1), *during]), arrived
    assert_each_texted_once(stack.fake, callers)
    assert send_row(held["CallSid"]).state == "sent"
    assert stack.crashed() == {}, "a process exited and was restarted by the supervisor"


def test_redis_restarted_five_times_in_a_minute_with_sends_in_flight(supervised, personas, delayed):
    stack = supervised
    stack.fake.set_latency(0.3)  # each restart comes while a send waits for Twilio
    callers = []
    miss_a_call(stack, delayed, caller(10))  # and one held unacknowledged through all of them
    for n in range(5):
        callers.append(caller(11 + n))
        miss_a_call(stack, personas.acme, callers[-1])
        time.sleep(0.2)
        stack.restart_redis()
        time.sleep(5)
    last = time.time()

    callers.append(caller(10))
    arrived = wait_for_texts(stack.fake, callers, timeout=WITHIN + 5)
    assert max(arrived.values()) - last <= WITHIN, arrived
    assert_each_texted_once(stack.fake, callers)
    assert stack.crashed() == {}, "a process exited and was restarted by the supervisor"


def test_postgresql_restarted_webhooks_refuse_while_down_and_the_worker_reconnects_by_itself(
    supervised, personas, delayed
):
    stack = supervised
    miss_a_call(stack, personas.acme, caller(20))
    wait_for_texts(stack.fake, [caller(20)], timeout=15)  # every worker process now holds a connection
    held = miss_a_call(stack, delayed, caller(21))  # falls due while the database is down
    Client.objects.filter(pk=delayed.pk).update(text_delay_seconds=0)
    stack.stop_database()
    try:
        refused = call_params(personas.acme, caller(22))
        statuses = {post(stack, "/hooks/twilio/voice/incoming/", refused).status_code for _ in range(3)}
        # Never a 200 for a call that was not stored (Twilio would think it handled).
        assert statuses <= {500, 502, 503}, statuses
        time.sleep(max(0.0, 13 - 3))  # the held send falls due and its task meets the dead database
    finally:
        stack.start_database()
    back = time.time()
    assert OutboundSend.objects.filter(call_sid=refused["CallSid"]).count() == 0

    after = [caller(23), caller(24), caller(25)]
    for number in after:
        miss_a_call(stack, personas.acme, number)
    arrived = wait_for_texts(stack.fake, [caller(21), *after], timeout=WITHIN + 5)
    assert max(arrived.values()) - back <= WITHIN, arrived
    assert_each_texted_once(stack.fake, [caller(20), caller(21), *after])
    assert send_row(held["CallSid"]).state == "sent"
    assert stack.crashed().keys().isdisjoint({"worker", "sender", "beat"}), stack.restarted()


def test_beat_killed_and_restarted_by_its_supervisor_sweeps_again_and_sends_nothing_twice(
    supervised, personas
):
    stack = supervised
    os.kill(stack.processes["beat"].pid, signal.SIGKILL)
    # A call while the broker is down is in the ledger only: nothing but beat's sweep will dispatch it.
    stack.stop_redis()
    params = miss_a_call(stack, personas.acme, caller(30))
    assert send_row(params["CallSid"]).dispatched_at is None
    stack.start_redis()
    wait_for_texts(stack.fake, [caller(30)], timeout=WITHIN)
    assert stack.crashed() == {"beat": 1}
    assert_each_texted_once(stack.fake, [caller(30)])
    row = send_row(params["CallSid"])
    assert (row.state, row.attempts) == ("sent", 1)


def test_twilio_failing_with_500_then_recovering_every_text_goes_out_once_after_recovery(
    supervised, personas
):
    stack = supervised
    outage = 20  # production's retry schedule covers minutes; see the module docstring
    stack.fake.fail_for(outage, 500)
    started = time.time()
    callers = [caller(40), caller(41)]
    for number in callers:
        miss_a_call(stack, personas.acme, number)
    time.sleep(3)
    assert stack.fake.messages == []
    rows = OutboundSend.objects.filter(
        kind=OutboundSend.Kind.TEXT_BACK
    )  # not the follow-ups, due hours later
    assert {row.state for row in rows} == {"pending"}, "a 500 is worth retrying: nothing failed for good yet"

    # Attempts at 0, 2, 6, 14, 30 s: the one after the outage ends sends.
    arrived = wait_for_texts(stack.fake, callers, timeout=outage + 32)
    assert all(when >= started + outage for when in arrived.values())
    assert_each_texted_once(stack.fake, callers)
    assert {row.state for row in rows.all()} == {"sent"}


def test_twilio_answering_in_5_seconds_leaves_the_webhooks_fast_and_sends_reconciled_not_duplicated(
    supervised, personas
):
    stack = supervised
    latency = 5.0
    stack.fake.set_latency(latency)  # longer than the stack's Twilio timeout (1 s): every send times out
    callers = [caller(50 + n) for n in range(4)]
    for number in callers:
        started = time.monotonic()
        miss_a_call(stack, personas.acme, number)
        # Both webhooks of a call answered while sends were waiting on Twilio: its latency never reaches them.
        assert time.monotonic() - started < latency
    wait_for_texts(stack.fake, callers, timeout=15)
    wait_until(
        lambda: (
            set(OutboundSend.objects.filter(kind=OutboundSend.Kind.TEXT_BACK).values_list("state", flat=True))
            == {"sent"}
        ),
        timeout=WITHIN,
        what="every send reconciled",
    )
    assert_each_texted_once(stack.fake, callers)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM messaging_outboundsend WHERE attempts > 1")
        assert cursor.fetchone()[0] == len(callers), "each send timed out once and was reconciled"


def test_a_worker_whose_consumer_stops_taking_tasks_reconnects_then_is_restarted(supervised, personas):
    """Celery can come back from a lost broker with its consumer taking nothing (config/liveness.py). Here the
    worker is told to stop consuming its own queue, where its liveness probes go: it must notice, reconnect,
    and when that does not help (a cancelled queue stays cancelled), exit to be restarted, after which the
    sweep it runs dispatches again."""
    from celery import Celery

    stack = supervised
    hostname = host_format(f"worker-{stack.tag}@%h")
    # An app of the stack's broker of its own: the project's app would publish the command to the tests' broker.
    control = Celery(broker=stack.env["TEST_CELERY_BROKER_URL"]).control
    replies = control.cancel_consumer(
        worker_direct(hostname).name, destination=[hostname], reply=True, timeout=5
    )
    assert replies, "the worker did not answer the remote control"
    wait_until(lambda: stack.restarted().get("worker"), timeout=30, what="the stalled worker to exit")
    log = stack.log("worker")
    assert "took nothing off the broker" in log and "reconnecting" in log and STALL_EXIT in log
    # The restarted worker runs beat's sweep again: a call the broker never saw is texted.
    stack.stop_redis()
    params = miss_a_call(stack, personas.acme, caller(60))
    stack.start_redis()
    wait_for_texts(stack.fake, [caller(60)], timeout=WITHIN)
    wait_until(lambda: send_row(params["CallSid"]).state == "sent", timeout=10, what="the send recorded")
    assert_each_texted_once(stack.fake, [caller(60)])
    assert stack.restarted() == {"worker": 1} and stack.crashed() == {}
