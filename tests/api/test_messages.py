"""Messages through the API: listed, and sent through the one send path, never to a caller who opted out."""

import pytest
from django_tenants.utils import schema_context

from crm.models import Contact
from messaging.models import Message, OutboundSend
from tests.inbox.conftest import add_conversation

from .conftest import error_of

pytestmark = pytest.mark.django_db

MESSAGES = "/api/v1/messages/"


@pytest.fixture
def thread(personas):
    return add_conversation(personas.acme, name="Carl", number="+13125550177", texts=["Hi", "Are you open?"])


def test_list_newest_first_and_filtered(api, thread, personas):
    other = add_conversation(personas.acme, name="Dana", texts=["Hello"], minutes_ago=60)
    client = api(scope="read")
    bodies = [m["body"] for m in client.get(MESSAGES).json()["results"]]
    assert bodies == ["Are you open?", "Hi", "Hello"]
    only = client.get(MESSAGES, {"conversation": other.pk}).json()["results"]
    assert [m["body"] for m in only] == ["Hello"]
    assert client.get(MESSAGES, {"direction": "out"}).json()["results"] == []
    assert client.get(MESSAGES, {"direction": "sideways"}).status_code == 400


def test_send_goes_through_the_send_path(api, thread, personas):
    response = api().post(MESSAGES, {"contact_id": thread.contact_id, "body": "We can come at 3pm."})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["direction"], body["kind"]) == ("queued", "out", "reply")
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(pk=body["id"])
        assert message.sent_by_id == personas.alice.pk
        assert message.to_number == "+13125550177"
    assert OutboundSend.objects.filter(client=personas.acme, message_id=message.pk, state="pending").exists()


def test_send_by_number(api, thread):
    response = api().post(MESSAGES, {"to": "(312) 555-0177", "body": "On our way"})
    assert response.status_code == 202, response.content


def test_an_opted_out_caller_is_refused_and_nothing_is_written(api, thread, personas):
    with schema_context(personas.acme.schema_name):
        Contact.objects.filter(pk=thread.contact_id).update(opted_out=True)
    response = api().post(MESSAGES, {"contact_id": thread.contact_id, "body": "Still there?"})
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "opted_out"
    assert "opted out" in error["message"]
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(direction="out").exists()
    assert not OutboundSend.objects.filter(client=personas.acme).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "Hi"}, "non_field_errors"),
        ({"contact_id": 1, "to": "+13125550177", "body": "Hi"}, "non_field_errors"),
        ({"to": "+13125550999", "body": "Hi"}, "to"),
        ({"to": "nope", "body": "Hi"}, "to"),
        ({"contact_id": 999999, "body": "Hi"}, "contact_id"),
        ({"contact_id": 1, "body": "   "}, "body"),
        ({"contact_id": 1, "body": "x" * 1601}, "body"),
    ],
)
def test_bad_input_is_400(api, thread, personas, data, field):
    if "contact_id" in data and data["contact_id"] == 1:
        data["contact_id"] = thread.contact_id
    response = api().post(MESSAGES, data)
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert field in error["fields"] or (field == "non_field_errors" and error["message"])
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(direction="out").exists()


def test_a_number_that_never_called_is_not_texted(api):
    response = api().post(MESSAGES, {"to": "+13125550999", "body": "Special offer!"})
    assert "called or texted" in error_of(response)["fields"]["to"][0]


def test_another_clients_contact_cannot_be_texted(api, personas):
    bolts = add_conversation(personas.bolt, name="Bolt's")
    response = api().post(MESSAGES, {"contact_id": bolts.contact_id + 1000, "body": "Hi"})
    assert response.status_code == 400
    with schema_context(personas.bolt.schema_name):
        assert not Message.objects.filter(direction="out").exists()
