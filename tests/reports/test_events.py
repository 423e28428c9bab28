"""Roll-ups kept up to date by the domain events equal roll-ups rebuilt from the client's tables.

A history is driven through the real paths (signed Twilio webhooks for calls, texts and status callbacks, the
send path against the fake Twilio, the inbox's services for staff replies and outcomes) at chosen moments across
the night the clocks went back in Chicago; the roll-up rows the receivers wrote must be exactly what the nightly
rebuild computes, and both must be the numbers the story says."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from crm.models import Contact
from crm.services import contact_set_blocked, contact_upsert
from inbox.services import conversation_reply, outcome_record
from messaging.models import Conversation, Message, OutboundSend
from messaging.services import send_deliver
from reports.models import DailyRollup, FirstStaffReply, MonthlyRollup
from reports.rollups import (
    first_staff_reply_rows,
    monthly_rollup_rows,
    rollup_expected,
    rollup_rebuild_client,
    rollup_rows,
    rollup_rows_by_month,
    rollup_weekday_mismatches,
)
from telephony.services import call_mark_answered, call_record
from tests.webhooks import call_params, post_signed, sid, sms_params

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
C1, C2, C3, C4, C5 = (f"+1312555{n:04d}" for n in range(7001, 7006))


def at(month, day, hour, minute=0, fold=0):
    return datetime(2026, month, day, hour, minute, tzinfo=CHICAGO, fold=fold)


@pytest.fixture
def acme(personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(call_mode=Client.CallMode.CARRIER)
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client=personas.acme).delete()
    return Client.objects.get(pk=personas.acme.pk)


def _missed_call(platform, client, caller) -> str:
    params = call_params(client, caller)
    assert post_signed(platform, "/hooks/twilio/voice/incoming/", params).status_code == 200
    return params["CallSid"]


def _deliver(client, call_sid) -> str:
    send = OutboundSend.objects.get(client=client, key=f"call:{call_sid}")
    return send_deliver(send_id=send.pk)


def _text(platform, client, caller, body):
    assert (
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(client, caller, body)).status_code
        == 200
    )


def _status(platform, message_sid, status, **extra):
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "ApiVersion": "2010-04-01",
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": "+13125550100",
        "To": C5,
        **extra,
    }
    assert post_signed(platform, "/hooks/twilio/sms/status/", params).status_code == 200


def _conversation(client, number) -> Conversation:
    with schema_context(client.schema_name):
        return Conversation.objects.get(contact__phone_number=number)


def test_rollups_kept_by_events_equal_rollups_rebuilt_from_the_tables(web, acme, personas):
    platform = web("localhost")
    with time_machine.travel(at(10, 31, 23, 30), tick=True):  # Saturday night, after hours
        c1_call = _missed_call(platform, acme, C1)
        assert _deliver(acme, c1_call) == "sent"
    with time_machine.travel(at(11, 1, 0, 10), tick=True):  # after midnight: the reply is to Saturday's text
        _text(platform, acme, C1, "Can you come tomorrow?")
    with time_machine.travel(at(11, 1, 1, 20, fold=0), tick=True):  # 01:20 CDT, before the clocks go back
        with schema_context(acme.schema_name):
            reply = conversation_reply(
                client=acme, conversation=_conversation(acme, C1), body="Yes, 9am?", user=personas.alice
            )
        assert send_deliver(send_id=OutboundSend.objects.get(client=acme, message_id=reply.pk).pk) == "sent"
    with time_machine.travel(at(11, 1, 1, 30, fold=1), tick=True):  # 01:30 CST, the second one
        c2_call = _missed_call(platform, acme, C2)
        assert _deliver(acme, c2_call) == "sent"
    with time_machine.travel(at(11, 1, 1, 40, fold=1), tick=True):
        _text(platform, acme, C2, "STOP")
    with time_machine.travel(at(11, 1, 1, 45, fold=1), tick=True):
        _text(platform, acme, C2, "stop")  # again: recorded, but not a second opt-out, and not a reply
    with time_machine.travel(at(11, 1, 9, 0), tick=True):
        with schema_context(acme.schema_name):
            contact_set_blocked(contact=contact_upsert(phone_number=C3), blocked=True)
        assert _deliver(acme, _missed_call(platform, acme, C3)) == "skipped: blocked"
        assert _deliver(acme, _missed_call(platform, acme, "anonymous")) == "skipped: anonymous_caller"
    with time_machine.travel(at(11, 1, 10, 0), tick=True), schema_context(acme.schema_name):
        call = call_record(client=acme, call_sid=sid("CA"), from_number=C4, to_number="+13125550100")
        call_mark_answered(client=acme, call=call, duration=60)
    with time_machine.travel(at(11, 1, 11, 0), tick=True), schema_context(acme.schema_name):
        outcome_record(client=acme, conversation=_conversation(acme, C1), kind="booked", user=personas.alice)
    with time_machine.travel(at(11, 2, 10, 0), tick=True):  # Monday, in business hours
        c5_call = _missed_call(platform, acme, C5)
        assert _deliver(acme, c5_call) == "sent"
        with schema_context(acme.schema_name):
            sms_sid = Message.objects.get(call_sid=c5_call).provider_sid
        _status(platform, sms_sid, "undelivered", ErrorCode="30003")
    with time_machine.travel(at(11, 2, 12, 0), tick=True), schema_context(acme.schema_name):
        outcome_record(
            client=acme,
            conversation=_conversation(acme, C1),
            kind="won",
            value=Decimal("450"),
            user=personas.alice,
        )

    kept = rollup_rows(client=acme)
    assert kept == rollup_expected(client=acme)
    assert rollup_weekday_mismatches(client=acme) == []  # the bumps kept calls by weekday too
    assert kept == {
        date(2026, 10, 31): {
            "calls": 1,
            "missed_calls": 1,
            "missed_after_hours": 1,
            "missed_hours": {23: 1},
            "call_hours": {23: 1},
            "textbacks_sent": 1,
            "replies": 1,
            "answered_by_staff": 1,
        },
        date(2026, 11, 1): {
            "calls": 4,
            "missed_calls": 3,
            "missed_after_hours": 3,
            "missed_hours": {1: 1, 9: 2},
            "call_hours": {1: 1, 9: 2, 10: 1},  # the answered call at 10:00 counts as a call, not a miss
            "answered_calls": 1,
            "textbacks_sent": 1,
            "textbacks_skipped": 2,
            "skipped_reasons": {"blocked": 1, "anonymous_caller": 1},
            "opt_outs": 1,
            "booked": 1,
        },
        date(2026, 11, 2): {
            "calls": 1,
            "missed_calls": 1,
            "missed_hours": {10: 1},
            "call_hours": {10: 1},
            "textbacks_sent": 1,
            "delivery_failures": 1,
            "won": 1,
            "won_value": Decimal("450.00"),
        },
    }
    # C1 replied at 00:10 to Saturday's text-back and was answered at 01:20 CDT: 70 minutes, Saturday's.
    waits = first_staff_reply_rows(client=acme)
    assert [(day, round(wait.total_seconds() / 60)) for day, wait in waits.values()] == [
        (date(2026, 10, 31), 70)
    ]
    # The months the bumps kept are their days summed: October's one day, November's two.
    kept_months = monthly_rollup_rows(client=acme)
    assert kept_months == rollup_rows_by_month(kept)
    assert list(kept_months) == [date(2026, 10, 1), date(2026, 11, 1)]
    assert kept_months[date(2026, 11, 1)]["missed_hours"] == {1: 1, 9: 2, 10: 1}
    assert kept_months[date(2026, 11, 1)]["call_hours"] == {1: 1, 9: 2, 10: 2}
    rollup_rebuild_client(client=acme)
    assert rollup_weekday_mismatches(client=acme) == []
    assert rollup_rows(client=acme) == kept
    assert monthly_rollup_rows(client=acme) == kept_months
    assert first_staff_reply_rows(client=acme) == waits


def test_the_wait_runs_to_the_staff_reply_written_first_even_when_it_goes_out_second(web, acme, personas):
    platform = web("localhost")
    with time_machine.travel(at(11, 2, 9, 0), tick=False):
        assert _deliver(acme, _missed_call(platform, acme, C1)) == "sent"
    with time_machine.travel(at(11, 2, 9, 10), tick=False):
        _text(platform, acme, C1, "Can you come today?")

    def write(minute):
        with time_machine.travel(at(11, 2, 9, minute), tick=False), schema_context(acme.schema_name):
            reply = conversation_reply(
                client=acme, conversation=_conversation(acme, C1), body="Yes", user=personas.alice
            )
        return OutboundSend.objects.get(client=acme, message_id=reply.pk).pk

    first, second = write(15), write(25)
    with time_machine.travel(at(11, 2, 9, 26), tick=False):
        assert send_deliver(send_id=second) == "sent"
    assert [wait.total_seconds() for _, wait in first_staff_reply_rows(client=acme).values()] == [15 * 60]
    with time_machine.travel(at(11, 2, 9, 27), tick=False):
        assert send_deliver(send_id=first) == "sent"
    waits = first_staff_reply_rows(client=acme)
    assert [wait.total_seconds() for _, wait in waits.values()] == [5 * 60]
    assert rollup_rows(client=acme)[date(2026, 11, 2)]["answered_by_staff"] == 1
    rollup_rebuild_client(client=acme)
    assert first_staff_reply_rows(client=acme) == waits


def test_a_failing_receiver_never_undoes_the_event(web, acme, monkeypatch, caplog):
    """A bug in the report must not lose a text-back: the receiver's error is logged and the event stands."""
    import reports.receivers as receivers

    def broken(**kwargs):
        raise RuntimeError("report bug")

    monkeypatch.setattr(receivers, "rollup_bump", broken)
    call_sid = _missed_call(web("localhost"), acme, C1)
    assert OutboundSend.objects.filter(client=acme, key=f"call:{call_sid}").exists()
    with schema_context(acme.schema_name):
        assert Contact.objects.filter(phone_number=C1).exists()
    assert not DailyRollup.objects.filter(client=acme).exists()
    assert not MonthlyRollup.objects.filter(client=acme).exists()
    assert "reports.receivers.on_call_received failed on call.received" in caplog.text
