"""Texting from the number the caller dialled: once the business's own number is hosted at Twilio for texting
(Client.hosted_sms_number, set when its Hosted SMS order completes), the client's texts go from it, a caller's
text to it lands in the client's inbox, Twilio's status callbacks from it are taken, and calls keep coming to the
Textback number. Against the fake Twilio; personas: acme (Northwind), cedar (Southpeak)."""

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import Client
from accounts.selectors import client_for_webhook
from crm.models import Contact
from messaging.models import Message
from messaging.services import message_queue, send_deliver, textback_schedule
from tests.webhooks import post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
OWN_NUMBER = "+13125550142"  # acme's business line, which its carrier forwards to the Textback number


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture
def hosted(personas):
    Client.objects.filter(pk=personas.acme.pk).update(hosted_sms_number=OWN_NUMBER)
    return Client.objects.select_related("agency").get(pk=personas.acme.pk)


def _text_back(client) -> str:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=CALLER, missed_at=now())
    return send_deliver(send_id=send.pk)


def test_the_text_back_goes_from_the_number_the_caller_dialled(twilio, hosted):
    assert _text_back(hosted) == "sent"
    [text] = twilio.messages
    assert (text["from"], text["to"]) == (OWN_NUMBER, CALLER)
    with schema_context(hosted.schema_name):
        assert Message.objects.get(kind=Message.Kind.TEXT_BACK).from_number == OWN_NUMBER


def test_a_staff_reply_goes_from_it_too(twilio, hosted):
    from messaging.models import OutboundSend

    with schema_context(hosted.schema_name):
        contact = Contact.objects.create(phone_number=CALLER)
        message_queue(client=hosted, contact=contact, body="On our way", kind=Message.Kind.REPLY)
    send = OutboundSend.objects.get(client=hosted, kind=OutboundSend.Kind.MESSAGE)
    assert send_deliver(send_id=send.pk) == "sent"
    assert [m["from"] for m in twilio.messages] == [OWN_NUMBER]


def test_without_a_hosted_number_texts_go_from_the_textback_number(twilio, personas):
    assert _text_back(personas.acme) == "sent"
    assert twilio.messages[0]["from"] == str(personas.acme.phone_number)


def test_a_callers_text_to_the_hosted_number_lands_in_the_clients_inbox(twilio, platform, hosted):
    params = sms_params(hosted, CALLER, "Can you come today?", To=OWN_NUMBER)
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    with schema_context(hosted.schema_name):
        assert Message.objects.get(direction=Message.Direction.INBOUND).body == "Can you come today?"


def test_a_status_callback_from_the_hosted_number_is_taken(twilio, platform, hosted):
    assert _text_back(hosted) == "sent"
    [text] = twilio.messages
    params = {
        "AccountSid": text["account_sid"],
        "MessageSid": text["sid"],
        "MessageStatus": "delivered",
        "From": OWN_NUMBER,
        "To": CALLER,
    }
    assert post_signed(platform, "/hooks/twilio/sms/status/", params).status_code == 200
    with schema_context(hosted.schema_name):
        assert Message.objects.get(provider_sid=text["sid"]).status == "delivered"


def test_calls_still_come_to_the_textback_number(hosted):
    assert client_for_webhook(number=str(hosted.phone_number)).pk == hosted.pk
    assert client_for_webhook(number=OWN_NUMBER).pk == hosted.pk


def test_a_hosted_number_is_nobody_elses(twilio, platform, hosted, personas):
    """Cedar (another agency) never gets acme's hosted number's texts, and a number nobody hosts is a 404."""
    params = sms_params(personas.cedar, CALLER, "Hello", To="+14155550199")
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 404
    params = sms_params(personas.cedar, CALLER, "Hello", To=OWN_NUMBER)
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    with schema_context(personas.cedar.schema_name):
        assert not Message.objects.filter(body="Hello").exists()
    with schema_context(hosted.schema_name):
        assert Message.objects.filter(body="Hello").exists()
