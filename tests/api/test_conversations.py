"""Conversations through the API: list and filter, read, assign, close, record an outcome."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from crm.models import Outcome
from messaging.models import Conversation
from tests.inbox.conftest import add_conversation

from .conftest import error_of

pytestmark = pytest.mark.django_db

CONVERSATIONS = "/api/v1/conversations/"


@pytest.fixture
def open_one(personas):
    return add_conversation(personas.acme, name="Carl Caller", texts=["Leak under the sink"], unread=1)


@pytest.fixture
def closed_one(personas):
    return add_conversation(personas.acme, name="Old Olga", minutes_ago=90, status=Conversation.Status.CLOSED)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_and_filter(api, open_one, closed_one):
    client = api(scope="read")
    assert ids(client.get(CONVERSATIONS)) == [open_one.pk, closed_one.pk]
    assert ids(client.get(CONVERSATIONS, {"filter": "open"})) == [open_one.pk]
    assert ids(client.get(CONVERSATIONS, {"filter": "closed"})) == [closed_one.pk]
    assert ids(client.get(CONVERSATIONS, {"filter": "unread"})) == [open_one.pk]
    assert ids(client.get(CONVERSATIONS, {"q": "sink"})) == [open_one.pk]
    assert ids(client.get(CONVERSATIONS, {"contact": open_one.contact_id})) == [open_one.pk]


def test_a_bad_filter_is_400_naming_it(api):
    response = api().get(CONVERSATIONS, {"filter": "everything", "assigned_to": "x"})
    assert response.status_code == 400
    assert "filter" in error_of(response)["fields"]


def test_read_one(api, open_one):
    body = api(scope="read").get(f"{CONVERSATIONS}{open_one.pk}/").json()
    assert body["contact"]["name"] == "Carl Caller"
    assert (body["status"], body["unread_count"], body["assigned_to_id"]) == ("open", 1, None)


def test_assign_and_unassign(api, open_one, personas):
    client = api()
    response = client.post(f"{CONVERSATIONS}{open_one.pk}/assign/", {"assignee_id": personas.bob.pk})
    assert response.status_code == 200, response.content
    assert response.json()["assigned_to_id"] == personas.bob.pk
    assert ids(client.get(CONVERSATIONS, {"assigned_to": personas.bob.pk})) == [open_one.pk]
    client.post(f"{CONVERSATIONS}{open_one.pk}/assign/", {"assignee_id": None})
    with schema_context(personas.acme.schema_name):
        assert Conversation.objects.get(pk=open_one.pk).assigned_to_id is None


def test_assigning_someone_from_elsewhere_is_400(api, open_one, personas):
    response = api().post(f"{CONVERSATIONS}{open_one.pk}/assign/", {"assignee_id": personas.erin.pk})
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"assignee_id": ["That person can't be assigned here."]}
    bad = api().post(f"{CONVERSATIONS}{open_one.pk}/assign/", {})
    assert error_of(bad)["fields"] == {"assignee_id": ["This field is required."]}


def test_mark_read(api, open_one, personas):
    response = api().post(f"{CONVERSATIONS}{open_one.pk}/read/")
    assert response.status_code == 200
    assert response.json()["unread_count"] == 0
    with schema_context(personas.acme.schema_name):
        assert Conversation.objects.get(pk=open_one.pk).unread_count == 0


def test_close(api, open_one, personas):
    response = api().post(f"{CONVERSATIONS}{open_one.pk}/close/")
    assert response.status_code == 200
    assert response.json()["status"] == "closed"
    with schema_context(personas.acme.schema_name):
        assert Conversation.objects.get(pk=open_one.pk).closed_at is not None


def test_record_an_outcome(api, open_one, personas):
    response = api().post(f"{CONVERSATIONS}{open_one.pk}/outcome/", {"kind": "won", "value": "1250.50"})
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "1250.50"
    with schema_context(personas.acme.schema_name):
        outcome = Outcome.objects.get(contact_id=open_one.contact_id)
    assert (outcome.kind, outcome.value, outcome.recorded_by_id) == (
        "won",
        Decimal("1250.50"),
        personas.alice.pk,
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "won"}, "value"),
        ({"kind": "won", "value": "-5"}, "value"),
        ({"kind": "lost"}, "lost_reason"),
        ({"kind": "maybe"}, "kind"),
        ({"kind": "won", "value": "12.345"}, "value"),
    ],
)
def test_a_bad_outcome_is_400_naming_the_field(api, open_one, personas, data, field):
    response = api().post(f"{CONVERSATIONS}{open_one.pk}/outcome/", data)
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    with schema_context(personas.acme.schema_name):
        assert not Outcome.objects.exists()


def test_another_clients_conversation_is_not_found(api, personas):
    bolts = add_conversation(personas.bolt, name="Bolt's caller")
    client = api()
    assert client.get(f"{CONVERSATIONS}{bolts.pk}/").status_code == 404
    actions = [
        ("assign", {"assignee_id": None}),
        ("read", {}),
        ("close", {}),
        ("outcome", {"kind": "booked"}),
    ]
    for action, data in actions:
        assert client.post(f"{CONVERSATIONS}{bolts.pk}/{action}/", data).status_code == 404, action
    with schema_context(personas.bolt.schema_name):
        assert Conversation.objects.get(pk=bolts.pk).status == "open"
        assert not Outcome.objects.exists()
