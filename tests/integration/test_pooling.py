"""The stack through Django's own connection pool (DB_POOL_SIZE): the pooling the README recommends when threads
outnumber the connections a process should hold. Connections are shared between requests and tasks of every
client, so what must hold is that each one still works in its own client's schema: every caller of two
businesses, calling at once, is recorded by the business they called and texted once from its number."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django_tenants.utils import schema_context

from telephony.models import Call
from tests.integration.calls import miss_a_call
from tests.stack import Stack, wait_until


@pytest.fixture(scope="module")
def pooled(_fake_twilio_server, personas, django_db_blocker):
    """A stack whose web processes (2 × 8 threads) and sender (8 threads) each share a pool of 3 connections."""
    with django_db_blocker.unblock():
        running = Stack(_fake_twilio_server, DB_POOL_SIZE="3").start()
    yield running
    running.close()


@pytest.fixture
def live_pooled(pooled, committed_db, _fake_twilio_server):
    _fake_twilio_server.reset()
    yield pooled
    _fake_twilio_server.assert_no_violations()


def test_through_the_pool_each_call_lands_in_its_own_clients_schema_and_is_texted_once(live_pooled, personas):
    businesses = {personas.acme: "+1312555{:04d}", personas.bolt: "+1646555{:04d}"}
    calls = [(client, pattern.format(3000 + n)) for n in range(12) for client, pattern in businesses.items()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda call: miss_a_call(live_pooled, *call), calls))

    fake = live_pooled.fake
    wait_until(lambda: len(fake.messages) >= len(calls), timeout=30, what="a text to every caller")
    texts = {(m["from"], m["to"]) for m in fake.messages}
    assert Counter(m["to"] for m in fake.messages) == Counter(caller for _, caller in calls)
    for client, caller in calls:
        assert (str(client.phone_number), caller) in texts, f"{caller} was texted from another business"
    for client in businesses:
        with schema_context(client.schema_name):
            recorded = set(Call.objects.values_list("from_number", flat=True))
        assert recorded == {caller for owner, caller in calls if owner == client}
