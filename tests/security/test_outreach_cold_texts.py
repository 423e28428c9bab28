"""No cold outreach: the API and the inbox text only someone who called or texted the business, or whose
consent staff recorded. The attacker is a client (or an agency acting for one) that buys a list of numbers,
loads them as contacts, and texts them through our numbers, which carriers would answer by blocking the
number for every caller of the business."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from api.services import apikey_create
from crm.models import Contact
from messaging.models import Message, OutboundSend
from messaging.services import conversation_for
from tests.api.conftest import Api
from tests.inbox.conftest import add_conversation

pytestmark = pytest.mark.django_db

ACME = "acme.localhost"
LEAD = "+13125550166"  # a number from a bought list: never called, never texted, never asked


@pytest.fixture
def acme_api(personas) -> Api:
    _, raw = apikey_create(name="crm sync", scope="write", created_by=personas.alice, client=personas.acme)
    return Api(ACME, raw)


def _nothing_sent(personas, twilio, number=LEAD):
    with schema_context(personas.acme.schema_name):
        assert not Message.objects.filter(to_number=number).exists()
    assert not OutboundSend.objects.filter(client=personas.acme, to_number=number).exists()
    assert twilio.messages_to(number) == []


def test_the_api_refuses_to_text_a_contact_it_just_created(acme_api, personas, twilio):
    created = acme_api.post("/api/v1/contacts/", {"phone_number": LEAD, "name": "Lead 1"})
    assert created.status_code == 201
    response = acme_api.post(
        "/api/v1/messages/", {"contact_id": created.json()["id"], "body": "50% off today!"}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_consent"
    assert "never called or texted" in error["message"]
    _nothing_sent(personas, twilio)


def test_the_inbox_refuses_to_text_an_imported_lead(web, personas, twilio):
    owner = web(ACME, personas.alice)
    upload = SimpleUploadedFile("leads.csv", f"phone,name\n{LEAD},Lead 1\n".encode(), "text/csv")
    assert owner.post("/contacts/import/", {"file": upload}).status_code == 302
    with schema_context(personas.acme.schema_name):
        conversation = conversation_for(contact=Contact.objects.get(phone_number=LEAD))
    response = owner.post(f"/inbox/{conversation.pk}/reply/", {"body": "50% off today!"})
    assert response.status_code == 400
    assert "never called or texted you" in response.content.decode()
    _nothing_sent(personas, twilio)


def test_once_staff_record_the_callers_consent_the_api_may_text_them(acme_api, web, personas, twilio):
    contact_id = acme_api.post("/api/v1/contacts/", {"phone_number": LEAD}).json()["id"]
    refused = web(ACME, personas.alice).post(f"/contacts/{contact_id}/consent/", {"action": "opt_in"})
    assert refused.status_code == 400  # the box saying the caller asked is required
    recorded = web(ACME, personas.alice).post(
        f"/contacts/{contact_id}/consent/", {"action": "opt_in", "caller_asked": "on"}
    )
    assert recorded.status_code == 302
    response = acme_api.post(
        "/api/v1/messages/", {"contact_id": contact_id, "body": "Here is the quote you asked for."}
    )
    assert response.status_code == 202, response.content


def test_a_caller_who_texted_the_business_may_be_answered(acme_api, personas):
    thread = add_conversation(personas.acme, name="Carl", number="+13125550177", texts=["Are you open?"])
    response = acme_api.post("/api/v1/messages/", {"contact_id": thread.contact_id, "body": "Yes, until 5."})
    assert response.status_code == 202, response.content
