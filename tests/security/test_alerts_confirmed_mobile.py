"""Alert texts go only to a mobile that proved it is the staff member's own (it answered a code we texted it),
never to a caller's or an opted-out number, and they are billed like any text. The attacker is a staff member
(or anyone with a login at the business) who types someone else's number as "my mobile for alerts": a caller
they want to pester with the business's number, or a stranger, to be sent other callers' names and words."""

import re

import pytest
from django.core.cache import cache
from django.utils.timezone import now
from django_tenants.utils import schema_context

from billing.models import UsageEvent
from crm.models import Contact
from inbox.models import NotificationPreference
from inbox.notifications import notify_missed_call
from inbox.services import CODE_COUNTER
from messaging.services import contact_opt_out
from telephony.models import Call
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
CALLER = "+13125550155"  # someone who called the business
STRANGER = "+13125550188"  # a number the attacker does not own


@pytest.fixture(autouse=True)
def _codes_this_hour_forgotten(personas):
    """The hourly count of codes lives in Redis, which outlives each test's rolled-back transaction."""
    with schema_context(personas.acme.schema_name):
        cache.delete(CODE_COUNTER.format(user_id=personas.bob.pk))


def _missed_call(client) -> Call:
    with schema_context(client.schema_name):
        call = Call.objects.create(
            call_sid=sid("CA"),
            from_number="+13125550111",
            to_number=str(client.phone_number),
            outcome=Call.Outcome.MISSED,
            started_at=now(),
        )
        notify_missed_call(client=client, call=call)
        return call


def _preference(client, user) -> NotificationPreference | None:
    with schema_context(client.schema_name):
        return NotificationPreference.objects.filter(user_id=user.pk).first()


def test_a_callers_number_cannot_be_made_a_staff_mobile(web, personas, twilio):
    with schema_context(personas.acme.schema_name):
        Contact.objects.create(phone_number=CALLER, name="Pat")
    response = web(HOST, personas.bob).post(
        "/inbox/notifications/", {"text_to": CALLER, "missed_call_text": "on"}
    )
    assert response.status_code == 400
    assert "one of this business&#x27;s callers" in response.content.decode()
    assert _preference(personas.acme, personas.bob) is None
    _missed_call(personas.acme)
    assert twilio.messages_to(CALLER) == []


def test_an_unconfirmed_number_gets_no_alerts_and_no_code_without_asking(web, personas, twilio):
    response = web(HOST, personas.bob).post(
        "/inbox/notifications/", {"text_to": STRANGER, "missed_call_text": "on"}
    )
    assert response.status_code == 302
    _missed_call(personas.acme)
    assert twilio.messages_to(STRANGER) == []
    assert not UsageEvent.objects.filter(client=personas.acme, source__startswith="staff-text:").exists()


def test_a_guessed_code_does_not_confirm_and_five_wrong_guesses_void_it(web, personas, twilio):
    bob = web(HOST, personas.bob)
    bob.post("/inbox/notifications/", {"text_to": STRANGER, "missed_call_text": "on"})
    assert bob.post("/inbox/notifications/number/", {"action": "send"}).status_code == 302
    [code_text] = twilio.messages_to(STRANGER)
    code = re.search(r"\b(\d{6})\b", code_text["body"]).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        response = bob.post("/inbox/notifications/number/", {"action": "confirm", "code": wrong})
        assert response.status_code == 400 and "not the code we sent" in response.content.decode()
    response = bob.post("/inbox/notifications/number/", {"action": "confirm", "code": code})
    assert response.status_code == 400 and "ask for a new one" in response.content.decode()
    assert not _preference(personas.acme, personas.bob).text_to_is_confirmed
    _missed_call(personas.acme)
    assert len(twilio.messages_to(STRANGER)) == 1  # the code, and no alert


def test_a_confirmed_mobile_that_opts_out_or_becomes_a_caller_gets_no_more_alerts(personas, twilio):
    with schema_context(personas.acme.schema_name):
        NotificationPreference.objects.create(
            user_id=personas.bob.pk, text_to=CALLER, text_to_confirmed=CALLER, missed_call_text=True
        )
        contact = Contact.objects.create(phone_number=CALLER)
        contact_opt_out(client=personas.acme, contact=contact, source="keyword", keyword="STOP")
        Contact.objects.filter(pk=contact.pk).delete()  # and the contact row is gone: the opt-out stays
    _missed_call(personas.acme)
    assert twilio.messages_to(CALLER) == []


def test_a_confirmed_mobile_gets_its_alerts_and_they_are_billed(web, personas, twilio):
    bob = web(HOST, personas.bob)
    bob.post("/inbox/notifications/", {"text_to": STRANGER, "missed_call_text": "on"})
    bob.post("/inbox/notifications/number/", {"action": "send"})
    code = re.search(r"\b(\d{6})\b", twilio.messages_to(STRANGER)[0]["body"]).group(1)
    assert bob.post("/inbox/notifications/number/", {"action": "confirm", "code": code}).status_code == 302
    assert _preference(personas.acme, personas.bob).text_to_is_confirmed

    call = _missed_call(personas.acme)
    alert = twilio.messages_to(STRANGER)[-1]
    assert "missed call" in alert["body"] and alert["from"] == str(personas.acme.phone_number)
    billed = dict(
        UsageEvent.objects.filter(
            client=personas.acme, kind="segments_out", source__startswith="staff-text:"
        ).values_list("source", "quantity")
    )
    assert billed[f"staff-text:alert:call:{call.call_sid}:{personas.bob.pk}"] == 1
    assert len(billed) == 2  # the code and the alert


def test_a_new_number_is_unconfirmed_again(web, personas, twilio):
    with schema_context(personas.acme.schema_name):
        NotificationPreference.objects.create(
            user_id=personas.bob.pk, text_to=STRANGER, text_to_confirmed=STRANGER, missed_call_text=True
        )
    web(HOST, personas.bob).post(
        "/inbox/notifications/", {"text_to": "+13125550199", "missed_call_text": "on"}
    )
    _missed_call(personas.acme)
    assert twilio.messages_to("+13125550199") == [] and twilio.messages_to(STRANGER) == []
