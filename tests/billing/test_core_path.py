"""Metering and limits through the core's real paths: the send path against the fake Twilio, and Twilio's
signed webhooks posted as Twilio posts them (repeats included)."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils.timezone import now
from django_tenants.utils import schema_context

from billing.models import ClientPrice, UsageEvent
from billing.months import month_start
from messaging.models import Message, OutboundSend
from messaging.services import send_deliver, textback_schedule
from tests.webhooks import call_params, post_signed, sid, sms_params

from .conftest import price_for, sent_message, usage

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
CALLER = "+13125550123"


@pytest.fixture(autouse=True)
def _mid_month():
    # Away from a month's edge, so "this month" is one month for the whole test.
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO), tick=True):
        yield


@pytest.fixture
def platform(web):
    return web("localhost")


def _this_month():
    return month_start(now(), "America/Chicago")


def _text_back(client) -> tuple[OutboundSend, str]:
    with schema_context(client.schema_name):
        send = textback_schedule(client=client, call_sid=sid("CA"), caller=CALLER, missed_at=now())
    return send, send_deliver(send_id=send.pk)


def test_a_text_back_is_metered_once_with_its_line_type_lookup(personas, plan, twilio):
    send, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    assert send_deliver(send_id=send.pk) == OutboundSend.State.SENT  # a duplicate task
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(pk=OutboundSend.objects.get(pk=send.pk).message_id)
    row = usage(personas.acme, _this_month())
    assert row.segments_out == message.segments >= 1
    assert row.lookups == 1


def test_the_same_status_callback_ten_times_counts_twilios_segments_once(personas, plan, twilio, platform):
    send, _ = _text_back(personas.acme)
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(pk=OutboundSend.objects.get(pk=send.pk).message_id)
    params = {
        "AccountSid": "AC00000000000000000000000000000000",
        "MessageSid": message.provider_sid,
        "MessageStatus": "delivered",
        "From": str(personas.acme.phone_number),
        "To": CALLER,
        "NumSegments": str(message.segments + 1),
        "Price": "-0.01580",
        "PriceUnit": "USD",
    }
    for _ in range(10):
        assert post_signed(platform, "/hooks/twilio/sms/status/", params).status_code == 200
    row = usage(personas.acme, _this_month())
    assert row.segments_out == message.segments + 1
    assert row.provider_cost == Decimal("0.01580")


def test_a_repeated_inbound_webhook_counts_its_segments_once(personas, plan, platform):
    params = sms_params(personas.acme, CALLER, "Are you open on Saturday? " * 7)  # 182 GSM-7 chars: 2
    for _ in range(3):
        assert post_signed(platform, "/hooks/twilio/sms/incoming/", params).status_code == 200
    assert usage(personas.acme, _this_month()).segments_in == 2


def test_a_call_and_its_minutes_are_counted_once_through_repeated_webhooks(personas, plan, platform):
    params = call_params(personas.acme, CALLER)
    for _ in range(2):
        post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    for _ in range(2):
        post_signed(
            platform,
            "/hooks/twilio/voice/status/",
            {**params, "CallStatus": "completed", "CallDuration": "125"},
        )
    row = usage(personas.acme, _this_month())
    assert (row.calls, row.voice_minutes) == (1, 3)


def test_a_paused_client_over_its_limit_gets_no_text_back_and_the_business_reads_why(personas, plan, twilio):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.PAUSE)
    sent_message(personas.acme, "hello")
    send, outcome = _text_back(personas.acme)
    assert outcome == "skipped: usage_limit"
    assert OutboundSend.objects.get(pk=send.pk).reason == "usage_limit"
    assert twilio.messages == []
    # bolt, same agency, has no such limit
    _, bolts = _text_back(personas.bolt)
    assert bolts == "sent"


def test_over_the_limit_opt_out_confirmations_and_help_still_go_out(personas, plan, twilio, platform):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.PAUSE)
    sent_message(personas.acme, "hello")
    for body in ("HELP", "STOP"):
        post_signed(platform, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, body))
    replies = OutboundSend.objects.filter(client=personas.acme, to_number=CALLER).order_by("pk")
    assert [send_deliver(send_id=send.pk) for send in replies] == ["sent", "sent"]
    assert len(twilio.messages) == 2
    # and they are metered like any text
    assert UsageEvent.objects.filter(client=personas.acme, kind="segments_out").count() == 3


def test_billing_overage_keeps_text_backs_going_above_the_limit(personas, plan, twilio):
    price_for(personas.acme, included_segments=1, over_limit=ClientPrice.OverLimit.BILL_OVERAGE)
    sent_message(personas.acme, "hello")
    _, outcome = _text_back(personas.acme)
    assert outcome == "sent"
    assert usage(personas.acme, _this_month()).segments_out >= 2
