"""Idempotency-Key on creates: a retry gets the first answer and makes nothing; a reused key with another body
is refused."""

import pytest
from django_tenants.utils import schema_context

from crm.models import Contact, Outcome
from messaging.models import Message
from tests.inbox.conftest import add_conversation

from .conftest import PLATFORM, Api, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(make_key) -> Api:
    return Api("acme.localhost", make_key("acme"))


def test_a_repeated_create_answers_the_same_and_makes_one_row(client, personas):
    data = {"phone_number": "+13125550150", "name": "Ivy"}
    first = client.post("/api/v1/contacts/", data, Idempotency_Key="abc-1")
    again = client.post("/api/v1/contacts/", data, Idempotency_Key="abc-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.filter(phone_number="+13125550150").count() == 1


def test_a_repeated_send_texts_once(client, personas):
    thread = add_conversation(personas.acme, name="Carl")
    data = {"contact_id": thread.contact_id, "body": "On our way"}
    answers = [client.post("/api/v1/messages/", data, Idempotency_Key="send-1") for _ in range(3)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["id"] for a in answers}) == 1
    with schema_context(personas.acme.schema_name):
        assert Message.objects.filter(direction="out").count() == 1


def test_without_a_key_each_send_is_new(client, personas):
    thread = add_conversation(personas.acme, name="Carl")
    for _ in range(2):
        client.post("/api/v1/messages/", {"contact_id": thread.contact_id, "body": "Hello?"})
    with schema_context(personas.acme.schema_name):
        assert Message.objects.filter(direction="out").count() == 2


def test_the_same_key_with_another_body_is_422(client, personas):
    client.post("/api/v1/contacts/", {"phone_number": "+13125550150"}, Idempotency_Key="abc-2")
    response = client.post("/api/v1/contacts/", {"phone_number": "+13125550151"}, Idempotency_Key="abc-2")
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_reused"
    with schema_context(personas.acme.schema_name):
        assert not Contact.objects.filter(phone_number="+13125550151").exists()


def test_a_refused_create_is_not_remembered(client):
    bad = client.post("/api/v1/contacts/", {"phone_number": "nope"}, Idempotency_Key="abc-3")
    assert bad.status_code == 400
    good = client.post("/api/v1/contacts/", {"phone_number": "+13125550152"}, Idempotency_Key="abc-3")
    assert good.status_code == 201


def test_keys_are_per_api_key(make_key, personas):
    data = {"phone_number": "+13125550153"}
    one, two = Api("acme.localhost", make_key("acme")), Api("acme.localhost", make_key("acme"))
    assert one.post("/api/v1/contacts/", data, Idempotency_Key="same").status_code == 201
    # Another key's "same" is another request: it runs (and finds the number taken).
    assert two.post("/api/v1/contacts/", data, Idempotency_Key="same").status_code == 400


def test_outcomes_and_clients_honour_it_too(client, make_key, personas):
    thread = add_conversation(personas.acme, name="Carl")
    for _ in range(2):
        client.post(f"/api/v1/conversations/{thread.pk}/outcome/", {"kind": "booked"}, Idempotency_Key="o-1")
    with schema_context(personas.acme.schema_name):
        assert Outcome.objects.count() == 1
    agency = Api(PLATFORM, make_key("northwind"))
    data = {
        "slug": "drip",
        "name": "Drip",
        "timezone": "America/Denver",
        "phone_number": "+17205550100",
        "forward_to": "+17205550142",
    }
    answers = [agency.post("/api/v1/clients/", data, Idempotency_Key="c-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()


def test_an_overlong_key_is_400(client):
    response = client.post("/api/v1/contacts/", {"phone_number": "+13125550154"}, Idempotency_Key="k" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]


def test_answers_are_forgotten_after_a_day(client, personas):
    from datetime import timedelta

    from django.utils.timezone import now

    from api.models import IdempotencyRecord
    from api.tasks import sweep_webhook_deliveries

    client.post("/api/v1/contacts/", {"phone_number": "+13125550155"}, Idempotency_Key="old")
    client.post("/api/v1/contacts/", {"phone_number": "+13125550156"}, Idempotency_Key="new")
    IdempotencyRecord.objects.filter(idempotency_key="old").update(created_at=now() - timedelta(hours=25))
    sweep_webhook_deliveries()
    assert list(IdempotencyRecord.objects.values_list("idempotency_key", flat=True)) == ["new"]
