"""Consent survives merges, deletes, imports and re-created contacts: a caller who texted STOP is never texted
again by anything the business's own people do to its contact rows. The attacker here is a careless or hostile
owner or staff member who wants to text someone who opted out (merge the number away, delete it, import it
back), and the text-back that would follow the caller's next call."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from crm.models import Contact, Suppression
from messaging.models import ConsentEvent, ConsentRecordImmutable, Message, OutboundSend
from messaging.services import send_deliver
from tests.webhooks import call_params, post_signed, sms_params

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
STOPPED = "+13125550177"  # the caller who texted STOP
OTHER = "+17735550188"  # another contact of the same business
WEDNESDAY_10AM = datetime(2025, 6, 11, 10, 0, tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture
def platform(web):
    return web("localhost")


def _stop(platform, client, number=STOPPED):
    assert (
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(client, number, "STOP")).status_code
        == 200
    )


def _missed_call(platform, client, caller) -> OutboundSend:
    params = call_params(client, caller)
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    assert (
        post_signed(
            platform,
            "/hooks/twilio/voice/dial-complete/",
            {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
        ).status_code
        == 200
    )
    return OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")


def _contact(client, number) -> Contact | None:
    with schema_context(client.schema_name):
        return Contact.objects.filter(phone_number=number).first()


def _texts_to(twilio, number) -> list[dict]:
    return twilio.messages_to(number)


def _assert_not_texted(send, twilio):
    assert OutboundSend.objects.get(pk=send.pk).state == OutboundSend.State.SKIPPED
    assert OutboundSend.objects.get(pk=send.pk).reason == "opted_out"
    assert _texts_to(twilio, STOPPED) == []


def test_merging_the_opted_out_number_away_does_not_let_its_next_call_be_texted(
    web, platform, personas, twilio
):
    acme = personas.acme
    _stop(platform, acme)
    with schema_context(acme.schema_name):
        keep = Contact.objects.create(phone_number=OTHER, name="Pat")
    stopped = _contact(acme, STOPPED)

    # The attacker folds the opted-out contact into another one; the merge deletes the opted-out row.
    response = web(HOST, personas.alice).post(f"/contacts/{keep.pk}/merge/{stopped.pk}/")
    assert response.status_code == 302
    assert _contact(acme, STOPPED) is None

    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call(platform, acme, STOPPED)
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    _assert_not_texted(send, twilio)
    assert _contact(acme, STOPPED).opted_out  # the caller's new contact row says so too


def test_deleting_the_opted_out_contact_keeps_its_opt_out_and_its_history(platform, personas, twilio):
    acme = personas.acme
    _stop(platform, acme)
    with schema_context(acme.schema_name):
        Contact.objects.filter(phone_number=STOPPED).delete()  # the client admin's delete
        history = list(ConsentEvent.objects.filter(phone_number=STOPPED).values_list("kind", "contact_id"))
    assert history == [(ConsentEvent.Kind.OPT_OUT, None)]  # the record stays, naming the number

    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call(platform, acme, STOPPED)
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    _assert_not_texted(send, twilio)


def test_giving_another_contact_the_opted_out_number_does_not_unblock_it(platform, personas, twilio):
    """An edit of a contact's number (the client admin) onto a number that opted out: the number is still
    suppressed, whichever row now carries it."""
    acme = personas.acme
    _stop(platform, acme)
    with schema_context(acme.schema_name):
        Contact.objects.filter(phone_number=STOPPED).delete()
        Contact.objects.create(phone_number=OTHER, name="Pat")
        Contact.objects.filter(phone_number=OTHER).update(phone_number=STOPPED)
        assert not Contact.objects.get(phone_number=STOPPED).opted_out  # the row says nothing
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call(platform, acme, STOPPED)
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    _assert_not_texted(send, twilio)


def test_a_reply_queued_before_the_contact_was_merged_away_is_not_sent(web, platform, personas, twilio):
    """The message was written (a staff reply racing the STOP); then the contact row went. The worker checks the
    number, not a row that is no longer there (and does not crash looking for it)."""
    from messaging.services import message_queue

    acme = personas.acme
    with schema_context(acme.schema_name):
        contact = Contact.objects.create(phone_number=STOPPED)
        keep = Contact.objects.create(phone_number=OTHER)
        message = message_queue(client=acme, contact=contact, body="Still there?", kind=Message.Kind.REPLY)
    _stop(platform, acme)
    web(HOST, personas.alice).post(f"/contacts/{keep.pk}/merge/{contact.pk}/")
    send = OutboundSend.objects.get(client=acme, key=f"message:{message.pk}")
    assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    assert _texts_to(twilio, STOPPED) == []


def test_importing_the_number_back_brings_it_back_opted_out(web, platform, personas, twilio):
    acme = personas.acme
    _stop(platform, acme)
    with schema_context(acme.schema_name):
        Contact.objects.filter(phone_number=STOPPED).delete()
    upload = (f"phone,name\n{STOPPED},Fresh Lead\n").encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = web(HOST, personas.alice).post(
        "/contacts/import/", {"file": SimpleUploadedFile("leads.csv", upload, "text/csv")}
    )
    assert response.status_code == 302
    assert _contact(acme, STOPPED).opted_out
    # And a staff reply through the inbox is refused before anything is written.
    contact = _contact(acme, STOPPED)
    with schema_context(acme.schema_name):
        from messaging.services import conversation_for

        conversation = conversation_for(contact=contact)
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/reply/", {"body": "Hi again!"})
    assert response.status_code == 400
    with schema_context(acme.schema_name):
        assert not Message.objects.filter(to_number=STOPPED, kind=Message.Kind.REPLY).exists()
    assert _texts_to(twilio, STOPPED) == []


def test_consent_history_cannot_be_rewritten_or_deleted(platform, personas):
    acme = personas.acme
    _stop(platform, acme)
    connection.set_tenant(acme)
    event = ConsentEvent.objects.get(phone_number=STOPPED)
    event.kind = ConsentEvent.Kind.OPT_IN
    with pytest.raises(ConsentRecordImmutable):
        event.save()
    with pytest.raises(ConsentRecordImmutable):
        event.delete()
    with pytest.raises(ConsentRecordImmutable):
        ConsentEvent.objects.filter(pk=event.pk).update(kind=ConsentEvent.Kind.OPT_IN)
    with pytest.raises(ConsentRecordImmutable):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    assert ConsentEvent.objects.get(pk=event.pk).kind == ConsentEvent.Kind.OPT_OUT
    assert Suppression.objects.filter(phone_number=STOPPED).exists()
