"""A staff member answers an alert by text from their phone: their words go to the caller of that alert, in that
conversation, through the one send path (consent holds), and they are told by text what became of it. Before,
their text became a new "caller" thread of its own.

Everything goes through the signed webhooks; Twilio is the fake; alert tasks and sends run in this process."""

from datetime import timedelta

import pytest
import time_machine
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import ClientMembership
from inbox.models import NotificationPreference, StaffTextReply
from messaging.models import Conversation, Message
from tests.webhooks import post_signed, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550188"
BOBS_MOBILE = "+13125550199"


@pytest.fixture
def bob_texted(personas):
    """bob wants reply alerts by text, on a mobile he confirmed."""
    with schema_context(personas.acme.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=personas.bob.pk,
            defaults={"reply_text": True, "text_to": BOBS_MOBILE, "text_to_confirmed": BOBS_MOBILE},
        )
    return personas.bob


def _text(web, client, sender, body, django_capture_on_commit_callbacks, params=None):
    params = params or sms_params(client, sender, body)
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_signed(web("localhost"), "/hooks/twilio/sms/incoming/", params)
    assert answer.status_code == 200
    return params


def _bodies(twilio, number) -> list[str]:
    return [m["body"] for m in twilio.messages_to(number)]


def test_a_staff_member_answers_a_reply_alert_by_text_and_the_caller_gets_it(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(
        web,
        personas.acme,
        CALLER,
        "Burst pipe under the sink, can someone come?",
        django_capture_on_commit_callbacks,
    )
    [alert] = _bodies(twilio, BOBS_MOBILE)
    assert "Burst pipe" in alert and "Reply to this text to answer them." in alert

    _text(
        web,
        personas.acme,
        BOBS_MOBILE,
        "Yes, Bob here: there in 30 minutes.",
        django_capture_on_commit_callbacks,
    )

    assert _bodies(twilio, CALLER)[-1] == "Yes, Bob here: there in 30 minutes."
    assert twilio.messages_to(CALLER)[-1]["from"] == str(personas.acme.phone_number)
    with schema_context(personas.acme.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
        reply = Message.objects.get(conversation=conversation, kind=Message.Kind.REPLY)
        assert reply.sent_by_id == personas.bob.pk  # the thread shows who answered
        assert not Conversation.objects.filter(contact__phone_number=BOBS_MOBILE).exists()
    assert _bodies(twilio, BOBS_MOBILE)[-1] == "Acme Plumbing: sent to +13125550188."


def test_the_same_webhook_twice_sends_the_caller_one_text(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
    params = sms_params(personas.acme, BOBS_MOBILE, "Calling you now")
    _text(web, personas.acme, BOBS_MOBILE, "", django_capture_on_commit_callbacks, params=params)
    _text(web, personas.acme, BOBS_MOBILE, "", django_capture_on_commit_callbacks, params=params)
    assert _bodies(twilio, CALLER).count("Calling you now") == 1
    assert len([b for b in _bodies(twilio, BOBS_MOBILE) if "sent to" in b]) == 1


def test_an_opted_out_caller_gets_nothing_and_the_staff_member_is_told_why(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(
        web,
        personas.acme,
        CALLER,
        "What do you charge for a water heater?",
        django_capture_on_commit_callbacks,
    )
    _text(web, personas.acme, CALLER, "STOP", django_capture_on_commit_callbacks)
    texts_before = len(twilio.messages_to(CALLER))
    _text(web, personas.acme, BOBS_MOBILE, "About $1,200 installed", django_capture_on_commit_callbacks)
    assert len(twilio.messages_to(CALLER)) == texts_before
    told = _bodies(twilio, BOBS_MOBILE)[-1]
    assert told.startswith("Acme Plumbing: NOT sent to") and "opted out" in told
    with schema_context(personas.acme.schema_name):
        assert StaffTextReply.objects.get().refused


def test_a_stop_from_a_staff_mobile_is_the_law_not_an_answer(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
    _text(web, personas.acme, BOBS_MOBILE, "STOP", django_capture_on_commit_callbacks)
    assert "STOP" not in _bodies(twilio, CALLER)
    with schema_context(personas.acme.schema_name):
        assert Conversation.objects.get(contact__phone_number=BOBS_MOBILE).contact.opted_out
        assert not StaffTextReply.objects.exists()


def test_without_an_alert_in_the_last_day_a_staff_mobiles_text_is_an_ordinary_one(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
    with time_machine.travel(now() + timedelta(hours=25)):
        _text(web, personas.acme, BOBS_MOBILE, "Testing my own number", django_capture_on_commit_callbacks)
    assert "Testing my own number" not in _bodies(twilio, CALLER)
    with schema_context(personas.acme.schema_name):
        mine = Conversation.objects.get(contact__phone_number=BOBS_MOBILE)
        assert Message.objects.get(conversation=mine).body == "Testing my own number"


def test_read_only_staff_are_told_they_cannot_answer(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    ClientMembership.objects.filter(user=personas.bob, client=personas.acme).update(
        role=ClientMembership.Role.READONLY
    )
    with schema_context(personas.acme.schema_name):
        NotificationPreference.objects.filter(user_id=personas.bob.pk).update(reply_text=True)
    try:
        _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
        _text(web, personas.acme, BOBS_MOBILE, "On it", django_capture_on_commit_callbacks)
        assert "On it" not in _bodies(twilio, CALLER)
        assert "Read-only staff can't answer callers." in _bodies(twilio, BOBS_MOBILE)[-1]
    finally:
        ClientMembership.objects.filter(user=personas.bob, client=personas.acme).update(
            role=ClientMembership.Role.STAFF
        )


def test_an_answer_sent_to_another_clients_number_stays_there_as_a_callers_text(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
    _text(web, personas.bolt, BOBS_MOBILE, "Wrong business, sorry", django_capture_on_commit_callbacks)
    assert "Wrong business, sorry" not in _bodies(twilio, CALLER)
    with schema_context(personas.bolt.schema_name):
        assert Conversation.objects.filter(contact__phone_number=BOBS_MOBILE).exists()
    with schema_context(personas.acme.schema_name):
        assert not StaffTextReply.objects.exists()


def test_someone_who_left_the_business_answers_nobody(
    web, personas, bob_texted, twilio, eager_tasks, django_capture_on_commit_callbacks
):
    _text(web, personas.acme, CALLER, "Hello?", django_capture_on_commit_callbacks)
    membership = ClientMembership.objects.get(user=personas.bob, client=personas.acme)
    membership.delete()
    try:
        _text(web, personas.acme, BOBS_MOBILE, "Still here", django_capture_on_commit_callbacks)
        assert "Still here" not in _bodies(twilio, CALLER)
    finally:
        ClientMembership.objects.create(
            user=personas.bob, client=personas.acme, role=ClientMembership.Role.STAFF
        )
