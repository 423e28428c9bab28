"""One polite follow-up when the caller has not answered the text-back after N hours: only if nobody replied,
called or booked meanwhile, never to an opted-out number, only inside the caller's allowed hours on their own
clock (held to the next allowed time otherwise), once however often the sweep and the task run. Through the
signed webhooks, the ledger, the beat sweep's body and Twilio faked at HTTP; clocks moved with time-machine."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from inbox.services import conversation_reply, outcome_record
from messaging.models import ConsentEvent, Conversation, Message, OutboundSend
from messaging.services import contact_opt_out, send_deliver, sweep_due_sends
from telephony.callbacks import callback_start
from tests.webhooks import call_params, post_signed, sms_params

pytestmark = pytest.mark.django_db

CHICAGO, NEW_YORK, LOS_ANGELES = (
    ZoneInfo(z) for z in ("America/Chicago", "America/New_York", "America/Los_Angeles")
)
CALLER = "+13125550188"  # Chicago
WEDNESDAY_10AM = datetime(2026, 6, 10, 10, 0, tzinfo=CHICAGO)
FOLLOWUP = re.compile(r"just checking in after your call")


@pytest.fixture
def platform(web):
    return web("localhost")


def _set(client: Client, **fields) -> Client:
    Client.objects.filter(pk=client.pk).update(**fields)
    client.refresh_from_db()
    return client


def _missed_call_texted(platform, client, caller=CALLER) -> OutboundSend:
    """A missed call whose text-back goes out now; returns the text-back's ledger row."""
    params = call_params(client, caller)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    send = OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")
    assert send_deliver(send_id=send.pk) == "sent"
    return send


def _followup_of(send: OutboundSend) -> OutboundSend | None:
    return OutboundSend.objects.filter(client_id=send.client_id, key=f"followup:{send.key}").first()


def _sweep_and_deliver(send: OutboundSend) -> str:
    """What the beat sweep and the worker would do with the follow-up row now."""
    followup = _followup_of(send)
    sweep_due_sends()
    return send_deliver(send_id=followup.pk)


def _followups_to(twilio, number=CALLER) -> list[dict]:
    return [m for m in twilio.messages_to(number) if FOLLOWUP.search(m["body"])]


def test_a_caller_who_has_not_answered_gets_one_follow_up_after_three_hours(platform, personas, twilio):
    acme = _set(personas.acme, followup_after_hours=3)
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call_texted(platform, acme)
    followup = _followup_of(send)
    assert followup.kind == OutboundSend.Kind.FOLLOW_UP and followup.due_at == WEDNESDAY_10AM + timedelta(
        hours=3
    )
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=2, minutes=59), tick=False):
        assert sweep_due_sends() == 0 and _followups_to(twilio) == []
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=3), tick=False):
        assert _sweep_and_deliver(send) == "sent"
        # The sweep, a second worker, a redelivered task: nothing goes out twice.
        assert sweep_due_sends() == 0
        assert send_deliver(send_id=followup.pk) == "sent"
    [sent] = _followups_to(twilio)
    assert sent["from"] == str(acme.phone_number) and "Reply STOP to opt out." in sent["body"]
    with schema_context(acme.schema_name):
        message = Message.objects.get(provider_sid=sent["sid"])
    assert message.kind == Message.Kind.FOLLOW_UP


def test_the_client_chooses_the_delay_or_none(platform, personas, twilio):
    acme = _set(personas.acme, followup_after_hours=5)
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call_texted(platform, acme)
    assert _followup_of(send).due_at == WEDNESDAY_10AM + timedelta(hours=5)
    acme = _set(acme, followup_after_hours=0)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(minutes=5), tick=False):
        assert _followup_of(_missed_call_texted(platform, acme, "+13125550189")) is None
    # Switched off after it was owed: it is not sent either.
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=5), tick=False):
        assert _sweep_and_deliver(send) == "skipped: followup_off"
    assert _followups_to(twilio) == []


def _reply_from_caller(platform, client, user=None):
    post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(client, CALLER, "Who is this?"))


def _staff_answered(platform, client, user=None):
    with schema_context(client.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
        conversation_reply(client=client, conversation=conversation, body="Still need help?", user=user)


def _called_again(platform, client, user=None):
    params = call_params(client, CALLER)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)


def _called_back(platform, client, user=None):
    with schema_context(client.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
        callback_start(
            client=client, contact=conversation.contact, user_id=user.pk, staff_number="+13125550197"
        )


def _booked(platform, client, user=None):
    with schema_context(client.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
        outcome_record(client=client, conversation=conversation, kind="booked", user=user)


def _opted_out(platform, client, user=None):
    with schema_context(client.schema_name):
        conversation = Conversation.objects.get(contact__phone_number=CALLER)
        contact_opt_out(client=client, contact=conversation.contact, source=ConsentEvent.Source.STAFF)


@pytest.mark.parametrize(
    ("meanwhile", "reason"),
    [
        (_reply_from_caller, "answered_since"),
        (_staff_answered, "answered_since"),
        (_called_again, "called_since"),
        (_called_back, "called_since"),
        (_booked, "outcome_since"),
        (_opted_out, "opted_out"),
    ],
)
def test_no_follow_up_once_the_conversation_moved_on_or_the_caller_opted_out(
    platform, personas, twilio, meanwhile, reason
):
    acme = _set(personas.acme, followup_after_hours=3)
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call_texted(platform, acme)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=1), tick=False):
        meanwhile(platform, acme, personas.alice)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=3), tick=False):
        assert _sweep_and_deliver(send) == f"skipped: {reason}"
    assert _followups_to(twilio) == []
    assert _followup_of(send).state == OutboundSend.State.SKIPPED


# --- The caller's own clock ------------------------------------------------------------------------------------

# One moment: 8:00 pm in Chicago is 9:00 pm in New York and 6:00 pm in Los Angeles. The text-backs go out three
# hours before it, so each follow-up falls due then.
DUE = datetime(2026, 6, 10, 20, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("caller", "held_until"),
    [
        ("+13125550190", None),  # Chicago, 8 pm: allowed until 9 pm
        ("+12135550190", None),  # Los Angeles, 6 pm
        ("+12125550190", datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK)),  # New York, 9 pm: next morning at 8
        # Florida (New York's time), 9 pm and a stricter state: 8 am too
        ("+13055550190", datetime(2026, 6, 11, 8, 0, tzinfo=NEW_YORK)),
    ],
)
def test_a_follow_up_waits_for_the_callers_own_allowed_hours(platform, personas, twilio, caller, held_until):
    acme = _set(personas.acme, followup_after_hours=3)
    with time_machine.travel(DUE - timedelta(hours=3), tick=False):
        send = _missed_call_texted(platform, acme, caller)
    with time_machine.travel(DUE, tick=False):
        outcome = _sweep_and_deliver(send)
    if held_until is None:
        assert outcome == "sent" and len(_followups_to(twilio, caller)) == 1
        return
    assert outcome == "held" and _followups_to(twilio, caller) == []
    assert _followup_of(send).due_at == held_until
    with time_machine.travel(held_until - timedelta(minutes=1), tick=False):
        assert sweep_due_sends() == 0
    with time_machine.travel(held_until, tick=False):
        assert _sweep_and_deliver(send) == "sent"
    assert len(_followups_to(twilio, caller)) == 1


def test_state_rules_are_the_clients_choice(platform, personas, twilio):
    # Florida at 8:30 pm: inside the client's 8-21 but outside Florida's 8-20.
    due = datetime(2026, 6, 10, 20, 30, tzinfo=NEW_YORK)
    florida, other = "+13055550191", "+13055550192"
    acme = _set(personas.acme, followup_after_hours=3, followup_state_rules=True)
    with time_machine.travel(due - timedelta(hours=3), tick=False):
        strict = _missed_call_texted(platform, acme, florida)
    with time_machine.travel(due, tick=False):
        assert _sweep_and_deliver(strict) == "held"
    acme = _set(acme, followup_state_rules=False)
    with time_machine.travel(due - timedelta(hours=3), tick=False):
        relaxed = _missed_call_texted(platform, acme, other)
    with time_machine.travel(due, tick=False):
        assert _sweep_and_deliver(relaxed) == "sent"


def test_texas_waits_for_noon_on_a_sunday(platform, personas, twilio):
    sunday_10am = datetime(2026, 6, 14, 10, 0, tzinfo=CHICAGO)
    acme = _set(personas.acme, followup_after_hours=3)
    with time_machine.travel(sunday_10am - timedelta(hours=3), tick=False):
        send = _missed_call_texted(platform, acme, "+12145550190")  # Dallas
    with time_machine.travel(sunday_10am, tick=False):
        assert _sweep_and_deliver(send) == "held"
    assert _followup_of(send).due_at == datetime(2026, 6, 14, 12, 0, tzinfo=CHICAGO)


def test_the_client_window_is_kept_for_a_caller_in_a_zone_phonenumbers_cannot_place(
    platform, personas, twilio
):
    # No area-code zone: the client's own (Chicago). 9:30 pm there is outside 8-21.
    from messaging.quiet_hours import next_allowed

    acme = _set(personas.acme, followup_window_start=9, followup_window_end=17)
    at = datetime(2026, 6, 10, 21, 30, tzinfo=CHICAGO)
    assert next_allowed(client=acme, number="+447700900123", at=at) == datetime(
        2026, 6, 11, 9, 0, tzinfo=CHICAGO
    )
    assert next_allowed(client=acme, number="+12135550190", at=at) == datetime(
        2026, 6, 11, 9, 0, tzinfo=LOS_ANGELES
    )


# --- Counted in reports -------------------------------------------------------------------------------------


def test_the_report_counts_callers_recovered_by_the_follow_up(web, platform, personas, twilio):
    acme = _set(personas.acme, followup_after_hours=3)
    with time_machine.travel(WEDNESDAY_10AM, tick=False):
        send = _missed_call_texted(platform, acme)
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=3), tick=False):
        assert _sweep_and_deliver(send) == "sent"
    with time_machine.travel(WEDNESDAY_10AM + timedelta(hours=4), tick=False):
        _reply_from_caller(platform, acme)
    period = {"preset": "custom", "start": "2026-06-01", "end": "2026-06-30"}
    report = web("acme.localhost", personas.alice).get("/reports/", period).content.decode()
    assert "1 caller who had not answered the text-back got one follow-up" in report
    assert "<strong>1 recovered by the follow-up</strong>" in report
    # Another client's report knows nothing of it.
    assert (
        "recovered by the follow-up"
        not in web("bolt.localhost", personas.dave).get("/reports/", period).content.decode()
    )
