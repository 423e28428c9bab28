"""Outbound webhooks: each public domain event becomes, through the outbox, one signed delivery per endpoint
that wants it, retried with growing waits for a day against a real (local) HTTP server, never sent to private
addresses in production."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now
from django_tenants.utils import schema_context

from api.models import WebhookDelivery, WebhookEndpoint
from api.serializers import ContactSerializer
from api.services import (
    webhook_delivery_attempt,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_sweep_due,
)
from crm.models import Contact
from events.outbox import outbox_drain
from inbox.services import outcome_record
from messaging.services import contact_opt_out
from telephony.models import Call
from telephony.services import call_mark_missed
from tests.inbox.conftest import add_conversation

pytestmark = pytest.mark.django_db


# The receiver from the README, as a customer would write it.
def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    timestamp = headers.get("Webhook-Timestamp", "")
    signature = headers.get("Webhook-Signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False  # missing, or too old: a replayed request
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, f"sha256={expected}")


def endpoint_for(personas, receiver, *, events=("contact.opted_out",), owner="acme") -> WebhookEndpoint:
    target = getattr(personas, owner)
    is_agency = owner in ("northwind", "southpeak")
    return webhook_endpoint_create(
        url=receiver.url,
        events=list(events),
        created_by=personas.oscar,
        client=None if is_agency else target,
        agency=target if is_agency else None,
    )


def opt_out(personas, number="+13125550177", client="acme") -> Contact:
    target = getattr(personas, client)
    with schema_context(target.schema_name):
        contact = Contact.objects.create(phone_number=number, name="Carl")
        contact_opt_out(client=target, contact=contact, source="keyword", keyword="STOP")
    outbox_drain()  # what a worker does soon after the opt-out commits: the deliveries are written
    return contact


def test_an_opt_out_is_delivered_signed_as_the_receiver_checks_it(personas, receiver):
    endpoint = endpoint_for(personas, receiver)
    contact = opt_out(personas)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    [(headers, body)] = receiver.requests
    assert verify(endpoint.secret, headers, body)
    payload = json.loads(body)
    assert payload["type"] == "contact.opted_out" == headers["Webhook-Event"]
    assert payload["id"] == str(delivery.event_id)
    assert payload["client"]["slug"] == "acme"
    # The contact as GET /api/v1/contacts/{id}/ gives it (api/payloads.py), opted out.
    assert payload["data"]["source"] == "keyword"
    with schema_context(personas.acme.schema_name):
        stored = Contact.objects.get(pk=contact.pk)
    assert payload["data"]["contact"] == json.loads(json.dumps(ContactSerializer(stored).data))
    assert payload["data"]["contact"]["opted_out"] is True
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.response_body) == (
        "succeeded",
        200,
        "answered 200",
    )


def test_a_receiver_refuses_a_tampered_body_a_wrong_secret_or_an_old_timestamp(personas, receiver):
    endpoint = endpoint_for(personas, receiver)
    opt_out(personas)
    webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    [(headers, body)] = receiver.requests
    assert not verify(endpoint.secret, headers, body.replace(b"Carl", b"Eve!"))
    assert not verify("whsec_someone_else", headers, body)
    assert not verify(endpoint.secret, {**headers, "Webhook-Timestamp": str(int(time.time()) - 301)}, body)
    with time_machine.travel(now() + timedelta(minutes=10)):
        assert not verify(endpoint.secret, headers, body)


def test_a_failing_receiver_is_retried_with_growing_waits_until_it_answers(personas, receiver):
    receiver.statuses = [500, 503, 200]
    endpoint_for(personas, receiver)
    opt_out(personas)
    delivery = WebhookDelivery.objects.get()
    start = now()
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "retry in 60 s"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.status_code, delivery.response_body) == ("pending", 500, "answered 500")
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "not due"
    assert webhook_sweep_due() == 0
    with time_machine.travel(start + timedelta(seconds=61)):
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "retry in 120 s"
    with time_machine.travel(start + timedelta(seconds=61 + 121)):
        assert webhook_sweep_due() == 1  # due: the sweep would queue it
        assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("succeeded", 3, 200)
    assert len(receiver.requests) == 3
    assert len({json.loads(body)["id"] for _, body in receiver.requests}) == 1  # one event, three tries


def test_a_receiver_that_never_answers_is_given_up_on_after_a_day(personas, receiver):
    receiver.statuses = [502]
    endpoint_for(personas, receiver)
    opt_out(personas)
    delivery = WebhookDelivery.objects.get()
    start = now()
    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    while outcome.startswith("retry"):
        delivery.refresh_from_db()
        with time_machine.travel(delivery.next_attempt_at + timedelta(seconds=1)):
            outcome = webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert outcome == "gave up"
    assert delivery.state == "failed"
    assert delivery.last_attempt_at - start < timedelta(days=1)
    assert delivery.attempts == len(receiver.requests) >= 10


def test_an_unreachable_receiver_is_logged_and_retried(personas, receiver):
    endpoint_for(personas, receiver)
    receiver.close()
    opt_out(personas)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_attempt(delivery_id=delivery.pk).startswith("retry")
    delivery.refresh_from_db()
    assert delivery.status_code is None
    assert "did not answer" in delivery.error


def test_a_long_response_is_kept_truncated(personas, receiver, monkeypatch):
    import api.services

    endpoint_for(personas, receiver)
    monkeypatch.setattr(api.services, "RESPONSE_KEPT", 5)
    opt_out(personas)
    webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk)
    assert WebhookDelivery.objects.get().response_body == "answe"


def test_in_production_private_and_loopback_addresses_are_never_called(personas, receiver, settings):
    endpoint = endpoint_for(personas, receiver)
    settings.DEBUG = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    opt_out(personas)
    assert webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk) == "gave up"
    assert receiver.requests == []
    assert (
        "private or local" in WebhookDelivery.objects.get().error
        or "https" in WebhookDelivery.objects.get().error
    )
    for url in [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.5/x",
        "https://[::1]/x",
        "https://169.254.169.254/latest/meta-data",
        "http://example.com/x",
        "ftp://example.com/",
    ]:
        with pytest.raises(ValidationError):
            webhook_endpoint_create(
                url=url, events=["call.missed"], created_by=personas.oscar, client=personas.acme
            )
    assert endpoint.deliveries.count() == 1


def test_an_agencys_endpoint_hears_all_its_clients_and_only_theirs(personas, receiver):
    agency = endpoint_for(personas, receiver, owner="northwind")
    other_agency = endpoint_for(personas, receiver, owner="southpeak")
    bolts = endpoint_for(personas, receiver, owner="bolt")
    acmes_calls_only = endpoint_for(personas, receiver, events=["call.missed"])
    off = endpoint_for(personas, receiver)
    off.is_active = False
    off.save()
    opt_out(personas)
    opt_out(personas, client="bolt", number="+12025550177")
    assert sorted(d.client.slug for d in agency.deliveries.select_related("client")) == ["acme", "bolt"]
    assert [d.client.slug for d in bolts.deliveries.select_related("client")] == ["bolt"]
    assert not other_agency.deliveries.exists()
    assert not acmes_calls_only.deliveries.exists()
    assert not off.deliveries.exists()


def test_an_event_that_rolls_back_sends_nothing(personas, receiver):
    endpoint_for(personas, receiver)
    with pytest.raises(RuntimeError), transaction.atomic():
        opt_out(personas)
        raise RuntimeError("the webhook's transaction failed")
    assert not WebhookDelivery.objects.exists()


def test_a_missed_call_and_an_outcome_become_events(personas, receiver):
    endpoint = endpoint_for(personas, receiver, events=["call.missed", "conversation.outcome"])
    with schema_context(personas.acme.schema_name):
        call = Call.objects.create(call_sid="CA123", from_number="+13125550177", to_number="+13125550100")
        call_mark_missed(client=personas.acme, call=call, reason="no-answer")
    conversation = add_conversation(personas.acme, name="Carl", number="+13125550199")
    with schema_context(personas.acme.schema_name):
        outcome_record(
            client=personas.acme,
            conversation=conversation,
            kind="won",
            user=personas.alice,
            value=__import__("decimal").Decimal("99.50"),
        )
    outbox_drain()
    events = {d.event: d.payload["data"] for d in endpoint.deliveries.all()}
    assert events["call.missed"]["call"]["call_sid"] == "CA123"
    assert events["call.missed"]["call"]["missed_reason"] == "no-answer"
    assert events["conversation.outcome"]["outcome"]["value"] == "99.50"
    assert events["conversation.outcome"]["conversation_id"] == conversation.pk


def test_replay_sends_the_same_event_again(personas, receiver):
    endpoint_for(personas, receiver)
    opt_out(personas)
    original = WebhookDelivery.objects.get()
    webhook_delivery_attempt(delivery_id=original.pk)
    replay = webhook_delivery_replay(delivery=WebhookDelivery.objects.get(pk=original.pk))
    assert webhook_delivery_attempt(delivery_id=replay.pk) == "delivered"
    first, second = (json.loads(body) for _, body in receiver.requests)
    assert first == second
    assert replay.replay_of_id == original.pk


def test_a_disabled_endpoint_gets_nothing_already_queued(personas, receiver):
    endpoint = endpoint_for(personas, receiver)
    opt_out(personas)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)
    assert webhook_delivery_attempt(delivery_id=WebhookDelivery.objects.get().pk) == "gave up"
    assert receiver.requests == []
