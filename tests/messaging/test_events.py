"""Texts are published once per event to whoever counts them (reports, billing, outbound webhooks): repeated
webhooks and retried sends announce nothing twice, and another app may stop a text-back."""

from decimal import Decimal

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from crm.models import Contact
from crm.services import contact_upsert
from events import bus
from inbox.services import outcome_record
from messaging.events import TextbackCheck
from messaging.models import Message, OutboundSend
from messaging.services import send_deliver, textback_schedule
from tests.webhooks import post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"


@pytest.fixture
def platform(web):
    return web("localhost")


def _text_back(client) -> tuple[OutboundSend, str]:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=CALLER, missed_at=now())
    return send, send_deliver(send_id=send.pk)


def test_a_text_back_that_goes_out_is_announced_as_sent_with_its_message(personas, twilio, heard):
    send, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    names = [name for name, _ in heard]
    assert names.count("message_sent") == 1 and names.count("textback_sent") == 1
    [sent] = heard.named("textback_sent")
    assert sent["client"] == personas.acme
    assert sent["send"].pk == send.pk
    assert sent["message"].provider_sid == twilio.messages[0]["sid"]
    assert sent["message"].segments >= 1
    [looked_up] = heard.named("line_type_looked_up")
    assert (looked_up["number"], looked_up["line_type"]) == (CALLER, Contact.LineType.MOBILE)

    # The worker running the same row again (a duplicate task) announces nothing more.
    assert send_deliver(send_id=send.pk) == OutboundSend.State.SENT
    assert [name for name, _ in heard].count("textback_sent") == 1


def test_a_skipped_text_back_is_announced_with_its_reason(personas, twilio, heard):
    with schema_context(personas.acme.schema_name):
        contact = contact_upsert(phone_number=CALLER)
        Contact.objects.filter(pk=contact.pk).update(is_blocked=True)
    _, outcome = _text_back(personas.acme)
    assert outcome == "skipped: blocked"
    [skipped] = heard.named("textback_skipped")
    assert skipped["reason"] == "blocked"
    assert heard.named("textback_sent") == heard.named("message_sent") == []


def test_a_text_back_refused_by_the_provider_for_good_is_announced_as_skipped_and_failed(
    personas, twilio, heard
):
    twilio.fail_next(400, code=21610)
    _, outcome = _text_back(personas.acme)
    assert outcome.startswith("failed")
    [skipped] = heard.named("textback_skipped")
    assert skipped["reason"] == "opted_out"
    [failed] = heard.named("message_failed")
    assert failed["message"].to_number == CALLER
    assert len(heard.named("contact_opted_out")) == 1


def test_an_app_can_stop_a_text_back_with_a_reason_the_business_reads(personas, twilio, heard):
    def over_allowance(check: TextbackCheck):
        return "usage_limit" if check.client == personas.acme else None

    bus.install(bus.subscriptions(), [bus.Veto(TextbackCheck, over_allowance)])
    try:
        send, outcome = _text_back(personas.acme)
        _, other = _text_back(personas.bolt)
    finally:
        bus.load()
    assert outcome == "skipped: usage_limit"
    assert OutboundSend.objects.get(pk=send.pk).reason == "usage_limit"
    assert other == "sent"
    assert len(twilio.messages) == 1


def test_a_reply_and_a_stop_are_announced_once_each(platform, personas, heard):
    reply = sms_params(personas.acme, CALLER, "Can you come Tuesday?")
    stop = sms_params(personas.acme, CALLER, "Stop")
    for params in (reply, reply, stop, stop):
        assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200

    received = heard.named("message_received")
    assert [(r["message"].body, r["keyword"]) for r in received] == [
        ("Can you come Tuesday?", None),
        ("Stop", "opt_out"),
    ]
    [opted_out] = heard.named("contact_opted_out")
    assert opted_out["contact"].phone_number == CALLER
    assert opted_out["client"] == personas.acme

    # A second STOP from someone already opted out is kept in the history but is not a new opt-out.
    post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, "STOP"))
    assert len(heard.named("contact_opted_out")) == 1
    post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, "START"))
    assert len(heard.named("contact_opted_in")) == 1


def test_a_status_callback_is_announced_once_with_what_twilio_sent(platform, personas, twilio, heard):
    _text_back(personas.acme)
    message_sid = twilio.messages[0]["sid"]
    params = {
        "MessageSid": message_sid,
        "MessageStatus": "delivered",
        "From": str(personas.acme.phone_number),
        "To": CALLER,
        "NumSegments": "2",
        "Price": "-0.0158",
        "PriceUnit": "USD",
    }
    for _ in range(3):
        assert post_signed(platform, "/hooks/twilio/sms/status/", params).status_code == 200
    [changed] = heard.named("message_status_changed")
    assert changed["status"] == Message.Status.DELIVERED
    assert (changed["params"]["NumSegments"], changed["params"]["Price"]) == ("2", "-0.0158")


def test_an_outcome_is_announced_with_its_value(personas, heard):
    with schema_context(personas.acme.schema_name):
        from messaging.services import conversation_for

        conversation = conversation_for(contact=contact_upsert(phone_number=CALLER))
        outcome_record(
            client=personas.acme,
            conversation=conversation,
            kind="won",
            user=personas.alice,
            value=Decimal("450.00"),
        )
    [recorded] = heard.named("outcome_recorded")
    assert recorded["outcome"].value == Decimal("450.00")
    assert recorded["conversation_id"] == conversation.pk
    assert recorded["client"] == personas.acme


def test_a_staff_reply_stopped_at_send_time_is_announced_as_failed(personas, twilio, heard):
    with schema_context(personas.acme.schema_name):
        contact = contact_upsert(phone_number=CALLER)
        from messaging.services import message_queue

        message = message_queue(client=personas.acme, contact=contact, body="We can come at 3", kind="reply")
        Contact.objects.filter(pk=contact.pk).update(opted_out=True)  # a STOP arrives before the worker runs
    send = OutboundSend.objects.get(client=personas.acme, message_id=message.pk)
    assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    [failed] = heard.named("message_failed")
    assert (failed["message"].pk, failed["reason"]) == (message.pk, "opted_out")
    assert heard.named("textback_skipped") == [] and twilio.messages == []
