"""Webhooks find their client in Redis (accounts.client_cache): a change to a client is seen by the very next
webhook, whichever way the row was written, and a Redis that is down costs a query, not a call."""

import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.models import Client
from telephony.models import Call
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
NEW_PHONE = "+13125550177"


@pytest.fixture
def platform(web):
    return web("localhost")


def _rung(platform, client) -> str:
    """The number the incoming-call webhook dials for a call to `client`'s number."""
    response = post_signed(platform, "/hooks/twilio/voice/incoming/", call_params(client, CALLER))
    assert response.status_code == 200
    return ET.fromstring(response.content).find("Dial").find("Number").text


def _client_reads(platform, client) -> int:
    with CaptureQueriesContext(connection) as queries:
        post_signed(platform, "/hooks/twilio/voice/incoming/", call_params(client, CALLER))
    return sum('FROM "accounts_client"' in query["sql"] for query in queries.captured_queries)


def test_the_second_webhook_for_a_client_does_not_read_its_row(platform, personas):
    assert _client_reads(platform, personas.acme) == 1
    assert _client_reads(platform, personas.acme) == 0


def test_a_client_saved_is_seen_by_the_next_webhook(platform, personas):
    acme = personas.acme
    assert _rung(platform, acme) == "+13125550142"
    acme.forward_to = NEW_PHONE
    acme.save(update_fields=["forward_to"])
    assert _rung(platform, acme) == NEW_PHONE


def test_a_client_updated_through_a_queryset_is_seen_by_the_next_webhook(platform, personas):
    assert _rung(platform, personas.acme) == "+13125550142"
    Client.objects.filter(pk=personas.acme.pk).update(forward_to=NEW_PHONE)
    assert _rung(platform, personas.acme) == NEW_PHONE


def test_a_number_that_moves_to_another_client_rings_there(platform, personas):
    acme, bolt = personas.acme, personas.bolt
    number = acme.phone_number
    _rung(platform, acme)  # cached as acme's
    Client.objects.filter(pk=acme.pk).update(phone_number=None)
    Client.objects.filter(pk=bolt.pk).update(phone_number=number)
    params = call_params(acme, CALLER)  # the same number called
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    with schema_context(bolt.schema_name):
        assert Call.objects.filter(call_sid=params["CallSid"]).exists()
    with schema_context(acme.schema_name):
        assert not Call.objects.filter(call_sid=params["CallSid"]).exists()


def test_with_redis_down_the_webhook_reads_postgresql(platform, personas, settings):
    caches = dict(settings.CACHES)
    caches["platform"] = {**caches["platform"], "LOCATION": "redis://127.0.0.1:1/0"}  # nobody listens there
    settings.CACHES = caches
    assert _client_reads(platform, personas.acme) == 1
    assert _rung(platform, personas.acme) == "+13125550142"
    assert _client_reads(platform, personas.acme) == 1
