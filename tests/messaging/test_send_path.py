"""The send path, against Twilio's REST API faked at HTTP: a missed call owes the caller one text, from the
business's number, worded for the moment, never to someone who opted out or cannot get texts, and never twice,
whatever Twilio answers (or fails to)."""

import time
import zlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from django.db import connection
from django.utils.timezone import now
from django_tenants.utils import schema_context
from tenant_schemas_celery.task import _shared_storage

from accounts.models import Client
from crm.models import Contact
from crm.services import contact_upsert
from messaging.models import ConsentEvent, Conversation, Message, OutboundSend, Template
from messaging.segments import segment_info
from messaging.services import (
    FENCE_BASE,
    OPT_OUT_NOTICE,
    message_queue,
    send_deliver,
    sweep_due_sends,
    template_wording,
    textback_schedule,
)
from messaging.tasks import line_type_check
from messaging.twilio_accounts import credentials_for
from tests.webhooks import call_params, post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
ACME_NUMBER = "+13125550100"
STATUS_CALLBACK = "http://localhost:8000/hooks/twilio/sms/status/"
CHICAGO = ZoneInfo("America/Chicago")
# A Wednesday, inside acme's hours (mon-fri 08:00-12:00,13:00-17:00; sat 09:00-12:00), in Chicago.
WEDNESDAY_10AM = datetime(2025, 6, 11, 10, 0, tzinfo=CHICAGO)

BUSINESS_HOURS_TEXT = (
    "Hi there, sorry we missed your call at Acme Plumbing! How can we help? "
    "Reply here and we'll get right back to you."
)
AFTER_HOURS_TEXT = (
    "Hi there, thanks for calling Acme Plumbing. We're closed right now, but reply here with "
    "what you need and we'll get back to you first thing."
)
RETURNING_TEXT = (
    "Hi there, sorry we missed you again at Acme Plumbing! Reply here and we'll get right back to you."
)


@pytest.fixture
def platform(web):
    return web("localhost")


# --- Helpers ------------------------------------------------------------------------------------------------


def _schedule(client, caller=CALLER, *, missed_at=None) -> OutboundSend:
    """What a missed call leaves behind: the ledger row owing `caller` a text-back."""
    with schema_context(client.schema_name):
        return textback_schedule(
            client=client, call_sid=sid("CA"), caller=caller, missed_at=missed_at or now()
        )


def _deliver(send: OutboundSend) -> str:
    """One attempt of the worker at this row, in the public schema as the sweep's tasks run it: send_deliver
    switches to the client's schema itself."""
    return send_deliver(send_id=send.pk)


def _text_back(client, caller=CALLER, **kwargs) -> tuple[OutboundSend, str]:
    send = _schedule(client, caller, **kwargs)
    return send, _deliver(send)


def _row(send: OutboundSend) -> OutboundSend:
    return OutboundSend.objects.get(pk=send.pk)


def _make_due(send: OutboundSend, *, stale: bool = False) -> None:
    """Bring the retry forward to now (as its countdown would); a "sending" row is also made stale, as it is
    once SENDING_STALE_SECONDS have passed without word from its worker."""
    changes = {"due_at": now()}
    if stale:
        changes["updated_at"] = now() - timedelta(seconds=61)
    OutboundSend.objects.filter(pk=send.pk).update(**changes)


def _contact(client, number=CALLER) -> Contact | None:
    with schema_context(client.schema_name):
        return Contact.objects.filter(phone_number=number).first()


def _set_contact(client, number=CALLER, **fields) -> Contact:
    with schema_context(client.schema_name):
        contact = contact_upsert(phone_number=number)
        Contact.objects.filter(pk=contact.pk).update(**fields)
        contact.refresh_from_db()
        return contact


def _text_backs(client, number=CALLER) -> list[Message]:
    with schema_context(client.schema_name):
        return list(Message.objects.filter(to_number=number, kind=Message.Kind.TEXT_BACK))


def _message(client, pk) -> Message:
    with schema_context(client.schema_name):
        return Message.objects.get(pk=pk)


def _creates(twilio) -> list[dict]:
    return [r for r in twilio.requests if r["operation"] == "CreateMessage"]


def _miss_call(platform, client, caller=CALLER, **extra) -> OutboundSend:
    """A real missed call through the voice webhooks: it rings, nobody answers."""
    params = call_params(client, caller, **extra)
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    response = post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    assert response.status_code == 200
    return OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")


def _answered_call(platform, client, caller=CALLER) -> None:
    """A call a person at the business took (pressed 1)."""
    params = call_params(client, caller)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    post_signed(
        platform,
        "/hooks/twilio/voice/screen-result/?c=" + client.slug,
        {"CallSid": "CAchild", "ParentCallSid": params["CallSid"], "Digits": "1"},
    )
    post_signed(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallDuration": "40"},
    )


def _sms(platform, client, body, caller=CALLER, **extra):
    params = sms_params(client, caller, body, **extra)
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    return params


# --- The happy path -----------------------------------------------------------------------------------------


def test_a_missed_call_is_texted_back_once_from_the_business_number(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM):
        send = _miss_call(platform, personas.acme, CallerName="JANE DOE")
        assert _deliver(send) == "sent"

    [text] = twilio.messages
    assert text["params"]["From"] == ACME_NUMBER
    assert text["params"]["To"] == CALLER
    assert text["params"]["StatusCallback"] == STATUS_CALLBACK
    body = text["params"]["Body"]
    assert body == (
        "Hi JANE, sorry we missed your call at Acme Plumbing! How can we help? "
        "Reply here and we'll get right back to you. Reply STOP to opt out."
    )
    assert body.endswith(OPT_OUT_NOTICE)

    row = _row(send)
    assert (row.state, row.reason, row.attempts) == ("sent", "", 1)
    message = _message(personas.acme, row.message_id)
    assert (message.direction, message.kind, message.status) == ("out", "textback", "sent")
    assert (message.from_number, message.to_number, message.body) == (ACME_NUMBER, CALLER, body)
    assert message.provider_sid == text["sid"]
    assert message.segments == int(text["num_segments"]) == segment_info(body).segments
    assert (message.call_sid, message.template_kind) == (send.call_sid, "business_hours")
    assert message.sent_at is not None
    with schema_context(personas.acme.schema_name):
        assert message.conversation.contact.phone_number == CALLER

    # The task delivered twice (a redelivery, the sweep): nothing more reaches Twilio.
    assert _deliver(send) == "sent"
    assert len(twilio.messages) == 1
    assert len(_creates(twilio)) == 1
    assert len(_text_backs(personas.acme)) == 1


def test_the_line_type_is_looked_up_before_the_first_text(personas, twilio):
    _text_back(personas.acme)
    [lookup] = twilio.lookups
    assert lookup["phone_number"] == CALLER
    assert "line_type_intelligence" in lookup["fields"]
    contact = _contact(personas.acme)
    assert contact.line_type == "mobile" and contact.line_type_checked_at is not None


def test_a_failing_lookup_does_not_stop_the_text(personas, twilio):
    twilio.fail_next(503, operation="lookup")
    send, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    assert len(twilio.messages_to(CALLER)) == 1


# --- Not texting: every skip reason -------------------------------------------------------------------------


def _assert_nothing_sent(send, reason, twilio):
    row = _row(send)
    assert (row.state, row.reason) == ("skipped", reason)
    assert row.message_id is None
    assert twilio.messages == []
    assert _creates(twilio) == []
    with schema_context(send.client.schema_name):
        assert not Message.objects.filter(call_sid=send.call_sid).exists()


def test_a_paused_client_texts_nobody(personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.PAUSED)
    send, outcome = _text_back(personas.acme)
    assert outcome == "skipped: client_paused"
    _assert_nothing_sent(send, "client_paused", twilio)
    assert twilio.lookups == []


@pytest.mark.parametrize("caller", ["anonymous", "+266696687", "266696687", "Restricted", "unknown", ""])
def test_an_anonymous_caller_is_not_texted(personas, twilio, caller):
    send, outcome = _text_back(personas.acme, caller)
    assert outcome == "skipped: anonymous_caller"
    _assert_nothing_sent(send, "anonymous_caller", twilio)


def test_a_hidden_number_calling_through_the_voice_webhooks_is_not_texted(platform, personas, twilio):
    send = _miss_call(platform, personas.acme, caller="+266696687")
    assert _deliver(send) == "skipped: anonymous_caller"
    _assert_nothing_sent(send, "anonymous_caller", twilio)


@pytest.mark.parametrize("caller", ["+1212", "12345", "+10005550123", "call me maybe"])
def test_an_invalid_number_is_not_texted(personas, twilio, caller):
    send, outcome = _text_back(personas.acme, caller)
    assert outcome == "skipped: invalid_number"
    _assert_nothing_sent(send, "invalid_number", twilio)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"is_blocked": True}, "blocked"),
        ({"opted_out": True}, "opted_out"),
        ({"unreachable": True}, "unreachable"),
    ],
)
def test_a_caller_marked_on_their_contact_is_not_texted(personas, twilio, fields, reason):
    _set_contact(personas.acme, **fields)
    send, outcome = _text_back(personas.acme)
    assert outcome == f"skipped: {reason}"
    _assert_nothing_sent(send, reason, twilio)
    assert twilio.lookups == []


def test_a_stop_that_arrives_while_the_text_back_waits_wins(platform, personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(text_delay_seconds=30)
    with time_machine.travel(WEDNESDAY_10AM, tick=False) as clock:
        send = _miss_call(platform, personas.acme)
        assert _deliver(send) == "not due"
        _sms(platform, personas.acme, "STOP")
        clock.shift(timedelta(seconds=31))
        assert _deliver(send) == "skipped: opted_out"
    _assert_nothing_sent(send, "opted_out", twilio)


def test_a_landline_found_by_lookup_is_not_texted_and_not_looked_up_again(platform, personas, twilio):
    twilio.line_types[CALLER] = "landline"
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        send = _miss_call(platform, personas.acme)
        assert _deliver(send) == "skipped: landline"
        _assert_nothing_sent(send, "landline", twilio)
        assert len(twilio.lookups) == 1
        contact = _contact(personas.acme)
        assert contact.line_type == "landline" and contact.line_type_checked_at is not None

        clock.shift(timedelta(days=3))
        again = _miss_call(platform, personas.acme)
        assert _deliver(again) == "skipped: landline"
    assert len(twilio.lookups) == 1
    assert twilio.messages == []


def test_a_mobile_number_is_looked_up_once_and_remembered(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        assert _deliver(_miss_call(platform, personas.acme)) == "sent"
        clock.shift(timedelta(days=2))
        assert _deliver(_miss_call(platform, personas.acme)) == "sent"
    assert len(twilio.messages_to(CALLER)) == 2
    assert len(twilio.lookups) == 1


def test_a_caller_texted_recently_is_not_texted_again_until_the_window_passes(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        assert _deliver(_miss_call(platform, personas.acme)) == "sent"
        clock.shift(timedelta(hours=23, minutes=50))  # acme texts a caller at most once in 24 hours
        soon = _miss_call(platform, personas.acme)
        assert _deliver(soon) == "skipped: recently_texted"
        assert len(twilio.messages) == 1
        assert _row(soon).message_id is None

        clock.shift(timedelta(minutes=15))
        later = _miss_call(platform, personas.acme)
        assert _deliver(later) == "sent"
    assert len(twilio.messages_to(CALLER)) == 2


def test_a_caller_already_talking_with_the_business_is_not_sent_a_text_back(platform, personas, twilio):
    _sms(platform, personas.acme, "Hi, is someone free to look at my boiler?")
    send, outcome = _text_back(personas.acme)
    assert outcome == "skipped: active_conversation"
    _assert_nothing_sent(send, "active_conversation", twilio)


def test_a_closed_conversation_does_not_stop_a_text_back(platform, personas, twilio):
    _sms(platform, personas.acme, "Thanks, all sorted")
    with schema_context(personas.acme.schema_name):
        Conversation.objects.update(status=Conversation.Status.CLOSED)
    _, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    assert len(twilio.messages_to(CALLER)) == 1


def test_on_a_missed_call_audit_nobody_is_texted_until_the_client_goes_live(personas, twilio):
    from reports.call_audit import call_audit_convert

    went_live_at = Client.objects.get(pk=personas.acme.pk).went_live_at
    # A prospect set up for an audit alone never went through the wizard's go-live step.
    Client.objects.filter(pk=personas.acme.pk).update(call_audit_started_at=now(), went_live_at=None)
    try:
        send, outcome = _text_back(personas.acme)
        assert outcome == "skipped: call_audit"  # not "not_live": every caller counts as one it would text
        _assert_nothing_sent(send, "call_audit", twilio)
        # An anonymous caller is skipped for that reason, not counted as one the audit would have texted.
        assert _text_back(personas.acme, "anonymous")[1] == "skipped: anonymous_caller"
        call_audit_convert(client=Client.objects.get(pk=personas.acme.pk))
        assert Client.objects.get(pk=personas.acme.pk).went_live_at is not None
        assert _text_back(personas.acme, "+13125550177")[1] == "sent"
        assert len(twilio.messages) == 1
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(
            call_audit_started_at=None, call_audit_converted_at=None, went_live_at=went_live_at
        )


def test_without_an_active_template_nothing_is_sent(personas, twilio):
    with schema_context(personas.acme.schema_name):
        Template.objects.update(is_active=False)
    send, outcome = _text_back(personas.acme)
    assert outcome == "skipped: no_template"
    _assert_nothing_sent(send, "no_template", twilio)


# --- What the text says -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("local", "kind", "text"),
    [
        # 16:30 in Chicago is 21:30 UTC: open locally, closed if judged in UTC.
        (datetime(2025, 6, 11, 16, 30), "business_hours", BUSINESS_HOURS_TEXT),
        # 05:00 in Chicago is 10:00 UTC: closed locally, open if judged in UTC.
        (datetime(2025, 6, 11, 5, 0), "after_hours", AFTER_HOURS_TEXT),
        (datetime(2025, 6, 11, 12, 30), "after_hours", AFTER_HOURS_TEXT),  # lunch
        (datetime(2025, 6, 11, 17, 0), "after_hours", AFTER_HOURS_TEXT),  # closing time
        (datetime(2025, 6, 14, 9, 30), "business_hours", BUSINESS_HOURS_TEXT),  # Saturday morning
        (datetime(2025, 6, 14, 13, 0), "after_hours", AFTER_HOURS_TEXT),  # Saturday afternoon
        (datetime(2025, 6, 15, 10, 0), "after_hours", AFTER_HOURS_TEXT),  # Sunday
    ],
)
def test_the_wording_follows_the_business_hours_in_the_clients_time_zone(personas, twilio, local, kind, text):
    with time_machine.travel(local.replace(tzinfo=CHICAGO)):
        send, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    [sent] = twilio.messages
    assert sent["body"] == f"{text} {OPT_OUT_NOTICE}"
    assert _message(personas.acme, _row(send).message_id).template_kind == kind


def test_a_holiday_gets_the_after_hours_text_and_the_next_day_does_not(personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(
        closures=[{"start": "2025-07-04", "end": "2025-07-04", "label": "Independence Day"}]
    )
    with time_machine.travel(datetime(2025, 7, 4, 10, 0, tzinfo=CHICAGO)):  # a Friday morning, closed
        holiday, _ = _text_back(personas.acme)
    with time_machine.travel(datetime(2025, 7, 7, 10, 0, tzinfo=CHICAGO)):  # Monday, open again
        monday, _ = _text_back(personas.acme, "+13125550124")
    assert _message(personas.acme, _row(holiday).message_id).template_kind == "after_hours"
    assert _message(personas.acme, _row(monday).message_id).template_kind == "business_hours"


def test_each_client_reads_its_hours_in_its_own_time_zone(personas, twilio):
    # 08:30 in Chicago is 06:30 in Los Angeles: acme (08:00-12:00) is open, cedar (07:00-15:00) not yet.
    with time_machine.travel(datetime(2025, 6, 11, 8, 30, tzinfo=CHICAGO)):
        acme_send, _ = _text_back(personas.acme)
        cedar_send, _ = _text_back(personas.cedar)
    assert _message(personas.acme, _row(acme_send).message_id).template_kind == "business_hours"
    assert _message(personas.cedar, _row(cedar_send).message_id).template_kind == "after_hours"
    assert [m["from"] for m in twilio.messages] == [ACME_NUMBER, "+14155550100"]


def test_the_hours_are_judged_when_the_call_was_missed_not_when_the_text_goes(personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(text_delay_seconds=120)
    acme = Client.objects.get(pk=personas.acme.pk)
    with time_machine.travel(datetime(2025, 6, 11, 16, 59, tzinfo=CHICAGO)) as clock:
        send = _schedule(acme, missed_at=now())
        clock.shift(timedelta(minutes=3))  # 17:02, when it is due: closed by then
        assert _deliver(send) == "sent"
    assert twilio.messages[0]["body"].startswith(BUSINESS_HOURS_TEXT)


def test_a_caller_who_called_before_gets_the_returning_caller_text(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM - timedelta(days=7)):
        _answered_call(platform, personas.acme)
    with time_machine.travel(WEDNESDAY_10AM):
        send = _miss_call(platform, personas.acme)
        assert _deliver(send) == "sent"
    [sent] = twilio.messages
    assert sent["body"] == f"{RETURNING_TEXT} {OPT_OUT_NOTICE}"  # still their first text: it says how to stop
    assert _message(personas.acme, _row(send).message_id).template_kind == "returning_caller"


def test_a_second_text_after_the_window_has_no_opt_out_notice(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        assert _deliver(_miss_call(platform, personas.acme)) == "sent"
        clock.shift(timedelta(hours=25))
        second = _miss_call(platform, personas.acme)
        assert _deliver(second) == "sent"
    first, again = twilio.messages_to(CALLER)
    assert first["body"].endswith(OPT_OUT_NOTICE)
    assert again["body"] == RETURNING_TEXT
    assert _message(personas.acme, _row(second).message_id).template_kind == "returning_caller"


def test_a_second_wording_alternates_with_the_first_and_each_text_says_which_it_was(personas, twilio):
    with schema_context(personas.acme.schema_name):
        Template.objects.filter(kind="business_hours").update(
            body_b="Missed you! {business_name} will call back."
        )
    callers = [f"+131255501{i:02d}" for i in range(6)]
    with time_machine.travel(datetime(2025, 6, 11, 10, 0, tzinfo=CHICAGO)):
        sends = [_text_back(personas.acme, caller)[0] for caller in callers]
    messages = [_message(personas.acme, _row(send).message_id) for send in sends]
    # Each send's wording follows from its key (its call) alone: a retry would get the same one.
    expected = ["b" if zlib.crc32(_row(send).key.encode()) % 2 else "a" for send in sends]
    assert [m.template_variant for m in messages] == expected
    for message in messages:
        wording = (
            "Missed you! Acme Plumbing will call back."
            if message.template_variant == "b"
            else BUSINESS_HOURS_TEXT
        )
        assert message.body == f"{wording} {OPT_OUT_NOTICE}" and message.template_kind == "business_hours"
    assert sorted(m["body"] for m in twilio.messages) == sorted(m.body for m in messages)


def test_the_two_wordings_go_to_about_half_the_callers_each():
    template = Template(kind="business_hours", body="First", body_b="Second")
    variants = [template_wording(template=template, send_key=f"call:CA{n:032x}")[0] for n in range(1000)]
    assert 450 <= variants.count("b") <= 550 and set(variants) == {"a", "b"}
    assert template_wording(template=Template(body="Only", body_b="  "), send_key="call:CA1") == ("", "Only")


def test_without_a_second_wording_a_text_has_no_variant(personas, twilio):
    with time_machine.travel(datetime(2025, 6, 11, 10, 0, tzinfo=CHICAGO)):
        send, _ = _text_back(personas.acme)
    assert _message(personas.acme, _row(send).message_id).template_variant == ""


def test_a_template_that_already_says_stop_gets_no_second_notice(personas, twilio):
    with schema_context(personas.acme.schema_name):
        Template.objects.update(body="Sorry we missed you at {business_name}. Text STOP to opt out.")
    _text_back(personas.acme)
    assert twilio.messages[0]["body"] == "Sorry we missed you at Acme Plumbing. Text STOP to opt out."


def test_each_client_texts_from_its_own_number(personas, twilio):
    _text_back(personas.acme)
    _text_back(personas.bolt)
    senders = {(m["from"], m["to"]) for m in twilio.messages}
    assert senders == {(ACME_NUMBER, CALLER), ("+12025550100", CALLER)}
    assert "Bolt Electric" in twilio.messages[1]["body"]
    assert len(_text_backs(personas.acme)) == len(_text_backs(personas.bolt)) == 1


# --- When Twilio says no ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500])
def test_a_busy_or_broken_twilio_puts_the_text_back_in_the_queue_for_later(personas, twilio, status):
    twilio.fail_next(status)
    before = now()
    send, outcome = _text_back(personas.acme)
    assert outcome == "retrying"
    row = _row(send)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.due_at > before + timedelta(seconds=1)
    assert str(status) in row.detail
    message = _message(personas.acme, row.message_id)
    assert (message.status, message.provider_sid) == ("queued", None)
    assert twilio.messages == []
    assert _deliver(send) == "not due"  # its countdown has not run out
    assert len(_creates(twilio)) == 1


@pytest.mark.parametrize("status", [429, 500])
def test_the_next_attempt_after_a_busy_twilio_sends_the_text_back_once(personas, twilio, status):
    twilio.fail_next(status)
    send, _ = _text_back(personas.acme)
    _make_due(send)
    assert _deliver(send) == "sent"
    [text] = twilio.messages
    row = _row(send)
    assert (row.state, row.attempts) == ("sent", 2)
    assert _message(personas.acme, row.message_id).provider_sid == text["sid"]
    assert len(_text_backs(personas.acme)) == 1
    assert _deliver(send) == "sent"
    assert len(twilio.messages) == 1


@pytest.mark.parametrize("status", [429, 500])
def test_a_keyword_reply_that_met_a_busy_twilio_is_sent_once_on_the_next_attempt(
    platform, personas, twilio, status
):
    _sms(platform, personas.acme, "STOP")
    send = OutboundSend.objects.get(client=personas.acme, kind="message")
    twilio.fail_next(status)
    assert _deliver(send) == "retrying"
    assert (_row(send).state, _message(personas.acme, send.message_id).status) == ("pending", "queued")
    _make_due(send)
    assert _deliver(send) == "sent"
    assert _deliver(send) == "sent"
    [text] = twilio.messages_to(CALLER)
    assert "unsubscribed" in text["body"]
    assert _message(personas.acme, send.message_id).provider_sid == text["sid"]


def test_21610_means_the_caller_opted_out_at_the_carrier(personas, twilio):
    twilio.reject(CALLER, 21610)
    send, outcome = _text_back(personas.acme)
    assert outcome == "failed: opted_out"
    row = _row(send)
    assert (row.state, row.reason) == ("failed", "opted_out")
    assert "21610" in row.detail
    message = _message(personas.acme, row.message_id)
    assert (message.status, message.error_code) == ("failed", 21610)
    contact = _contact(personas.acme)
    assert contact.opted_out
    with schema_context(personas.acme.schema_name):
        [event] = ConsentEvent.objects.filter(contact=contact)
    assert (event.kind, event.source, event.keyword) == ("opt_out", "provider", "21610")
    assert twilio.messages == []

    # The next missed call does not even try.
    later, outcome = _text_back(personas.acme)
    assert outcome == "skipped: opted_out"
    assert len(_creates(twilio)) == 1


def test_21211_means_the_number_cannot_get_texts(personas, twilio):
    twilio.reject(CALLER, 21211)
    send, outcome = _text_back(personas.acme)
    assert outcome == "failed: unreachable"
    row = _row(send)
    assert (row.state, row.reason) == ("failed", "unreachable")
    assert _message(personas.acme, row.message_id).status == "failed"
    contact = _contact(personas.acme)
    assert contact.unreachable and not contact.opted_out
    assert contact.line_type == "mobile"  # from the Lookup; 21211 says nothing about landlines
    assert twilio.messages == []
    assert _text_back(personas.acme)[1] == "skipped: unreachable"


@pytest.mark.parametrize("code", [21614, 30006])
def test_a_not_mobile_error_marks_the_caller_a_landline(personas, twilio, code):
    twilio.reject(CALLER, code)
    send, outcome = _text_back(personas.acme)
    assert outcome == "failed: landline"
    row = _row(send)
    assert (row.state, row.reason) == ("failed", "landline")
    message = _message(personas.acme, row.message_id)
    assert (message.status, message.error_code) == ("failed", code)
    contact = _contact(personas.acme)
    assert contact.unreachable and contact.line_type == "landline" and not contact.opted_out
    assert twilio.messages == []


# --- When Twilio's answer is lost ---------------------------------------------------------------------------


def test_a_dropped_connection_leaves_the_outcome_unknown(personas, twilio):
    twilio.drop_connection_next()
    send, outcome = _text_back(personas.acme)
    assert outcome == "retrying"
    row = _row(send)
    assert row.state == "sending"
    assert _message(personas.acme, row.message_id).status == "sending"
    assert twilio.messages == []


def test_after_a_dropped_connection_the_next_attempt_checks_twilio_then_sends_once(personas, twilio):
    twilio.drop_connection_next()
    send, _ = _text_back(personas.acme)
    _make_due(send, stale=True)
    assert _deliver(send) == "sent"
    operations = [r["operation"] for r in twilio.requests if r["operation"] != "FetchPhoneNumber"]
    assert operations == ["CreateMessage", "ListMessage", "CreateMessage"]
    [text] = twilio.messages
    row = _row(send)
    assert row.state == "sent"
    assert _message(personas.acme, row.message_id).provider_sid == text["sid"]
    assert len(_text_backs(personas.acme)) == 1
    assert _deliver(send) == "sent"
    assert len(twilio.messages) == 1


def test_an_attempt_still_in_flight_is_left_alone(personas, twilio):
    twilio.drop_connection_next()
    send, _ = _text_back(personas.acme)
    OutboundSend.objects.filter(pk=send.pk).update(updated_at=now(), due_at=now())  # its worker may be alive
    assert _deliver(send) == "in flight"
    assert len(_creates(twilio)) == 1
    assert _row(send).state == "sending"


def _other_worker_session():
    """A database session of its own, as another worker process holds one."""
    db = connection.settings_dict
    options = {k: v for k, v in {"host": db["HOST"], "port": db["PORT"], "user": db["USER"]}.items() if v}
    return psycopg.connect(dbname=db["NAME"], autocommit=True, **options)


def _end_session(session) -> None:
    """Close another worker's session and wait until PostgreSQL has ended it: the server lets go of the
    session's locks a moment after the client hangs up, not as close() returns."""
    pid = session.info.backend_pid
    session.close()
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone() is None:
                return
            time.sleep(0.01)
    raise AssertionError(f"PostgreSQL did not end session {pid} within 10 s")


def test_a_stale_attempt_whose_worker_is_alive_is_not_reconciled_under_its_feet(personas, twilio):
    """Quiet for longer than SENDING_STALE_SECONDS (a busy machine, a slow Twilio) is not dead: while the first
    attempt's session holds the send's fence, a second attempt neither asks Twilio nor sends. Once that session
    ends (its worker killed: PostgreSQL lets go of its locks), the second attempt reconciles and sends once."""
    twilio.drop_connection_next()
    send, _ = _text_back(personas.acme)
    _make_due(send, stale=True)
    first_attempt = _other_worker_session()
    first_attempt.execute("SELECT pg_advisory_lock(%s)", [FENCE_BASE + send.pk])
    try:
        assert _deliver(send) == "in flight"
        assert len(_creates(twilio)) == 1
        assert "ListMessage" not in [r["operation"] for r in twilio.requests]
    finally:
        _end_session(first_attempt)  # the worker dies
    assert _deliver(send) == "sent"
    operations = [r["operation"] for r in twilio.requests if r["operation"] != "FetchPhoneNumber"]
    assert operations == ["CreateMessage", "ListMessage", "CreateMessage"]  # the first one was dropped
    assert len(twilio.messages_to(CALLER)) == 1


def test_after_a_timeout_the_text_twilio_did_create_is_found_and_not_sent_again(personas, twilio):
    twilio.hang_next(1.5)  # Twilio creates the message but answers after the app's 1 s timeout
    send, outcome = _text_back(personas.acme)
    assert outcome == "retrying"
    assert _row(send).state == "sending"
    [created] = twilio.messages

    _make_due(send, stale=True)
    assert _deliver(send) == "sent (reconciled)"
    assert [m["sid"] for m in twilio.messages] == [created["sid"]]
    assert len(_creates(twilio)) == 1
    row = _row(send)
    assert row.state == "sent"
    message = _message(personas.acme, row.message_id)
    assert (message.status, message.provider_sid) == ("sent", created["sid"])
    assert _deliver(send) == "sent"
    assert len(twilio.messages) == 1


def test_a_delivery_report_that_beats_the_reconciliation_is_applied(platform, personas, twilio):
    twilio.hang_next(1.5)
    send, _ = _text_back(personas.acme)
    [created] = twilio.messages
    report = {
        "MessageSid": created["sid"],
        "MessageStatus": "delivered",
        "From": ACME_NUMBER,
        "To": CALLER,
        "AccountSid": twilio.account_sid,
        "ApiVersion": "2010-04-01",
    }
    assert post_signed(platform, "/hooks/twilio/sms/status/", report).status_code == 200
    _make_due(send, stale=True)
    assert _deliver(send) == "sent (reconciled)"
    message = _message(personas.acme, _row(send).message_id)
    assert (message.provider_sid, message.status) == (created["sid"], "delivered")


def test_a_stop_received_while_the_outcome_is_unknown_is_honoured_before_resending(
    platform, personas, twilio
):
    twilio.drop_connection_next()
    send, _ = _text_back(personas.acme)
    _sms(platform, personas.acme, "STOP")
    _make_due(send, stale=True)
    _deliver(send)
    assert twilio.messages == []  # the first attempt never reached Twilio; the caller has since said STOP
    assert _row(send).state in ("skipped", "failed")


# --- Replies from staff and keyword answers -----------------------------------------------------------------


def _queue(client, body, kind, number=CALLER) -> OutboundSend:
    with schema_context(client.schema_name):
        contact = contact_upsert(phone_number=number)
        message = message_queue(client=client, contact=contact, body=body, kind=kind)
    return OutboundSend.objects.get(client=client, key=f"message:{message.pk}")


def test_a_staff_reply_goes_out_from_the_business_number(personas, twilio):
    send = _queue(personas.acme, "We can come at 3pm.", Message.Kind.REPLY)
    assert _deliver(send) == "sent"
    [text] = twilio.messages
    assert (text["from"], text["to"], text["body"]) == (ACME_NUMBER, CALLER, "We can come at 3pm.")
    assert text["params"]["StatusCallback"] == STATUS_CALLBACK
    assert _message(personas.acme, send.message_id).provider_sid == text["sid"]


def test_a_staff_reply_to_an_opted_out_caller_is_not_sent(platform, personas, twilio):
    _sms(platform, personas.acme, "STOP")
    send = _queue(personas.acme, "Sorry to see you go! 10% off if you stay?", Message.Kind.REPLY)
    assert _deliver(send) == "skipped: opted_out"
    assert (_row(send).state, _row(send).reason) == ("skipped", "opted_out")
    message = _message(personas.acme, send.message_id)
    assert (message.status, message.provider_sid) == ("failed", None)
    assert message.error_message == "The caller has opted out of texts."
    assert twilio.messages == []


def test_the_stop_confirmation_to_an_opted_out_caller_is_sent(platform, personas, twilio):
    _sms(platform, personas.acme, "Stop")
    assert _contact(personas.acme).opted_out
    send = OutboundSend.objects.get(client=personas.acme, kind="message")
    assert _deliver(send) == "sent"
    [text] = twilio.messages
    assert (text["from"], text["to"]) == (ACME_NUMBER, CALLER)
    assert text["body"] == (
        "Acme Plumbing: you're unsubscribed and will get no more texts from us. Reply START to resubscribe."
    )
    message = _message(personas.acme, send.message_id)
    assert (message.kind, message.status, message.provider_sid) == ("keyword_reply", "sent", text["sid"])


def test_a_caller_who_opts_back_in_is_texted_back_again(platform, personas, twilio):
    _sms(platform, personas.acme, "STOP")
    _sms(platform, personas.acme, "START")
    with schema_context(personas.acme.schema_name):
        Conversation.objects.update(status=Conversation.Status.CLOSED)
    _, outcome = _text_back(personas.acme)
    assert outcome == "sent"


# --- Where the schema is, and texts that failed -------------------------------------------------------------


def test_a_send_worked_from_a_clients_schema_is_sent_too(personas, twilio):
    # The first dispatch of a row runs in the schema of the webhook that queued it, the sweep's in public.
    send = _schedule(personas.acme)
    with schema_context(personas.acme.schema_name):
        assert send_deliver(send_id=send.pk) == "sent"
    assert len(twilio.messages) == 1
    assert _row(send).state == "sent"


def _fail_by_report(platform, send, code):
    row = _row(send)
    message = _message(send.client, row.message_id)
    report = {
        "MessageSid": message.provider_sid,
        "MessageStatus": "failed",
        "ErrorCode": str(code),
        "From": ACME_NUMBER,
        "To": CALLER,
    }
    assert post_signed(platform, "/hooks/twilio/sms/status/", report).status_code == 200
    assert _message(send.client, row.message_id).status == "failed"


def test_a_caller_whose_text_back_failed_is_texted_when_they_call_again(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        first = _miss_call(platform, personas.acme)
        assert _deliver(first) == "sent"
        _fail_by_report(platform, first, 30008)  # "Unknown error": nothing wrong with the caller
        clock.shift(timedelta(hours=1))
        again = _miss_call(platform, personas.acme)
        assert _deliver(again) == "sent"
    assert len(twilio.messages_to(CALLER)) == 2


def test_the_first_text_a_caller_actually_gets_says_how_to_opt_out(platform, personas, twilio):
    with time_machine.travel(WEDNESDAY_10AM) as clock:
        first = _miss_call(platform, personas.acme)
        assert _deliver(first) == "sent"
        _fail_by_report(platform, first, 30008)
        clock.shift(timedelta(hours=25))
        again = _miss_call(platform, personas.acme)
        assert _deliver(again) == "sent"
    assert twilio.messages_to(CALLER)[1]["body"].endswith(OPT_OUT_NOTICE)


def test_a_text_back_is_sent_in_a_fixed_number_of_queries(personas, twilio, django_assert_max_num_queries):
    """The budget bench/missed_call_cost.py measures for the worker (--show-sql lists them): claim, billing's
    check, the caller and their history in one statement, the line-type look-up and its metering, templates,
    the conversation, the message, the ledger, then the sent record (the message and its ledger row in one
    statement) and its counters. A real worker runs 23;
    here the test's transaction adds savepoints, the caller is new, and the task starts in public. Billing's
    metering of the look-up runs in a savepoint of its own, and the sent record's counters (billing's metering
    of the text, the deliverability count, the reports' text-back count) share one (events.bus publishes the
    text's two events together): a billing or counting bug must not unsend a text, and that isolation costs two
    statements each. Taking and letting go of the fence (an advisory lock,
    messaging.services.FENCE_BASE) costs two more. The sent record writes the text-back's one follow-up too
    (messaging.followups). Which Twilio account sends for the agency is read once every few minutes
    (messaging.twilio_accounts: cached in Redis): one more when it is not cached."""
    send = _schedule(personas.acme)
    # The account as a worker has it (cached): the count must not hang on which tests ran before.
    credentials_for(personas.acme.agency_id)
    with django_assert_max_num_queries(31):
        assert _deliver(send) == "sent"
    assert len(twilio.messages_to(CALLER)) == 1


def test_the_line_type_check_while_a_call_rings_costs_a_fixed_number_of_queries(
    personas, twilio, django_assert_max_num_queries
):
    """The budget bench/missed_call_cost.py measures for the line_type_check task (--show-sql lists them). The
    task finds its client and the client's agency (whose carrier is asked) in one statement
    (config.celery_app.ClientTask; here the client is not cached yet, as for a client called a few times an
    hour), then the caller and, once the carrier has answered, their line type, and billing meters the
    lookup in a savepoint of its own. A real worker runs 8 (6 when the client is cached); here the test's
    transaction adds a savepoint, and the connection comes from another schema (a SET to public first)."""
    with schema_context(personas.acme.schema_name):
        Contact.objects.create(phone_number=CALLER)
    _shared_storage.clear()  # tenant-schemas-celery's cache of the clients tasks ran for
    with django_assert_max_num_queries(10):
        run = line_type_check.apply(
            (personas.acme.pk, CALLER), headers={"_schema_name": personas.acme.schema_name}
        )
    assert run.get() == "mobile"
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).line_type == "mobile"
    assert len(twilio.lookups) == 1


# --- The sweep ----------------------------------------------------------------------------------------------


def test_the_sweep_dispatches_again_only_what_the_broker_or_a_dead_sender_has_held_too_long(personas):
    """A due row never handed to the broker goes at once; one handed over is left to its task for
    DISPATCH_STALE_AFTER (10 s) after it was handed over and after it fell due, then dispatched again."""
    with time_machine.travel(WEDNESDAY_10AM, tick=False) as clock:
        never = _schedule(personas.acme, "+13125550181")
        OutboundSend.objects.filter(pk=never.pk).update(dispatched_at=None)
        handed = _schedule(personas.acme, "+13125550182")
        delayed = _schedule(personas.acme, "+13125550183", missed_at=now() + timedelta(seconds=60))
        assert sweep_due_sends() == 1  # only the one the broker never had
        clock.shift(timedelta(seconds=11))
        assert sweep_due_sends() == 2  # and now the one whose task never came; the delayed one is not due
        clock.shift(timedelta(seconds=55))
        # The other two again; the delayed one fell due 5 s ago: its own task is still coming.
        assert sweep_due_sends() == 2
        clock.shift(timedelta(seconds=6))
        assert sweep_due_sends() == 1  # the delayed one; the other two were handed over again 6 s ago
    assert {row.state for row in OutboundSend.objects.filter(pk__in=[never.pk, handed.pk, delayed.pk])} == {
        "pending"
    }
