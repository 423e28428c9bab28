"""Metering: every billable event is counted once per client per month, however often the webhooks and the
send path report it, and the provider's own segment count and price win when the status callback brings them."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django_tenants.utils import schema_context

from billing.models import AgencyBilling, UsageEvent
from events.bus import publish
from messaging import events as messaging_events
from messaging.models import Message
from telephony import events as telephony_events
from telephony.models import Call

from .conftest import republish, sent_message, usage

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOV = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _november():
    with time_machine.travel(datetime(2026, 11, 20, 15, 0, tzinfo=CHICAGO), tick=True):
        yield


def test_a_sent_text_is_counted_by_its_segments(personas, plan):
    sent_message(personas.acme, "x" * 161)  # two GSM-7 segments
    row = usage(personas.acme, NOV)
    assert (row.segments_out, row.segments_in) == (2, 0)
    assert row.numbers_held == 1


def test_a_retried_send_reporting_the_same_message_again_counts_once(personas, plan):
    message = sent_message(personas.acme, "x" * 161)
    for _ in range(3):
        republish(personas.acme, messaging_events.MessageSent, message=message)
    assert usage(personas.acme, NOV).segments_out == 2
    assert UsageEvent.objects.filter(client=personas.acme, kind="segments_out").count() == 1


def test_the_same_status_callback_ten_times_reconciles_to_twilios_count_and_price_once(personas, plan):
    message = sent_message(personas.acme, "x" * 161)  # we counted 2
    params = {
        "MessageSid": message.provider_sid,
        "MessageStatus": "delivered",
        "NumSegments": "3",
        "Price": "-0.02370",
        "PriceUnit": "USD",
    }
    for _ in range(10):
        republish(
            personas.acme,
            messaging_events.MessageStatusChanged,
            message=message,
            status=Message.Status.DELIVERED,
            params=params,
        )
    row = usage(personas.acme, NOV)
    assert row.segments_out == 3
    assert row.provider_cost == Decimal("0.02370")
    event = UsageEvent.objects.get(client=personas.acme, kind="segments_out")
    assert (event.quantity, event.provider_price, event.provider_price_unit) == (3, Decimal("0.02370"), "USD")


def test_twilio_counting_fewer_segments_than_we_did_lowers_the_count_and_the_callback_succeeds(
    personas, plan, web
):
    """PostgreSQL checked the counter's CHECK (>= 0) on the row the upsert proposed, -1, before turning it into
    an update: every such status callback failed, and Twilio's retries with it, so the text never showed
    delivered."""
    from tests.webhooks import post_signed

    message = sent_message(personas.acme, "x" * 161)  # we counted 2
    params = {
        "MessageSid": message.provider_sid,
        "MessageStatus": "delivered",
        "From": "+13125550100",
        "To": message.to_number,
        "NumSegments": "1",
        "Price": "-0.00790",
        "PriceUnit": "USD",
    }
    assert post_signed(web("localhost"), "/hooks/twilio/sms/status/", params).status_code == 200
    row = usage(personas.acme, NOV)
    assert (row.segments_out, row.provider_cost) == (1, Decimal("0.00790"))
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(pk=message.pk).status == Message.Status.DELIVERED


def test_a_status_callback_without_segments_or_price_changes_nothing(personas, plan):
    message = sent_message(personas.acme, "hello")
    republish(
        personas.acme,
        messaging_events.MessageStatusChanged,
        message=message,
        status=Message.Status.SENT,
        params={"MessageStatus": "sent", "Price": "not a number"},
    )
    row = usage(personas.acme, NOV)
    assert (row.segments_out, row.provider_cost) == (1, Decimal("0"))


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),  # GSM-7: 160 septets fit one segment
        ("a" * 161, 2),  # then 153 per part
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets each: 160
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but an escape pair never straddles two parts
        ("ü" * 160, 1),  # in the GSM-7 basic table
        ("é" * 70 + "ç", 2),  # ç is not GSM-7: the whole text goes UCS-2, 71 units
        ("ç" * 70, 1),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_follow_the_encoding(personas, plan, body, segments):
    sent_message(personas.acme, body)
    assert usage(personas.acme, NOV).segments_out == segments


def test_a_received_text_is_counted_once(personas, plan):
    with schema_context(personas.acme.schema_name):
        from messaging.services import inbound_receive

        message = inbound_receive(
            client=personas.acme, sid="SMin0001", from_number="+13125550177", body="Can you come today? " * 10
        )
        for _ in range(3):
            publish(messaging_events.MessageReceived(client=personas.acme, message=message, keyword=None))
    assert usage(personas.acme, NOV).segments_in == 2


def _call(client, sid: str) -> Call:
    with schema_context(client.schema_name):
        return Call.objects.create(
            call_sid=sid, from_number="+13125550177", to_number=str(client.phone_number)
        )


def test_calls_and_voice_minutes_count_once_by_the_started_minute(personas, plan):
    call = _call(personas.acme, "CAbill0001")
    with schema_context(personas.acme.schema_name):
        for _ in range(2):
            publish(telephony_events.CallReceived(client=personas.acme, call=call))
            publish(telephony_events.CallCompleted(client=personas.acme, call=call, duration=61))
    short = _call(personas.acme, "CAbill0002")
    with schema_context(personas.acme.schema_name):
        publish(telephony_events.CallReceived(client=personas.acme, call=short))
        publish(telephony_events.CallCompleted(client=personas.acme, call=short, duration=None))
    row = usage(personas.acme, NOV)
    assert (row.calls, row.voice_minutes) == (2, 2)


def test_line_type_lookups_are_counted(personas, plan):
    with schema_context(personas.acme.schema_name):
        for number in ("+13125550001", "+13125550002", "+13125550002"):
            publish(
                messaging_events.LineTypeLookedUp(client=personas.acme, number=number, line_type="mobile")
            )
    assert usage(personas.acme, NOV).lookups == 2


def test_an_event_whose_transaction_rolls_back_is_not_billed(personas, plan):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        sent_message(personas.acme, "hello")
        raise Boom
    assert usage(personas.acme, NOV).pk is None


def test_clients_are_counted_apart(personas, plan):
    sent_message(personas.acme, "hello")
    sent_message(personas.bolt, "hello " * 30)
    assert usage(personas.acme, NOV).segments_out == 1
    assert usage(personas.bolt, NOV).segments_out == 2
    assert usage(personas.cedar, NOV).pk is None


# --- Month boundaries in the agency's time zone ------------------------------------------------------------


@pytest.mark.parametrize(
    ("agency_zone", "month"),
    [("America/Chicago", date(2026, 1, 1)), ("UTC", date(2026, 2, 1)), ("Asia/Tokyo", date(2026, 2, 1))],
)
def test_a_text_late_on_the_last_evening_counts_in_the_agencys_month(personas, agency_zone, month):
    AgencyBilling.objects.update_or_create(agency=personas.northwind, defaults={"time_zone": agency_zone})
    # 23:30 on 31 January in Chicago is 05:30 on 1 February in UTC.
    with time_machine.travel(datetime(2026, 1, 31, 23, 30, tzinfo=CHICAGO), tick=False):
        sent_message(personas.acme, "hello")
    assert UsageEvent.objects.get(client=personas.acme).month == month
    assert usage(personas.acme, month).segments_out == 1


def test_the_first_minute_of_the_month_in_the_agencys_zone_is_the_new_month(personas, plan):
    with time_machine.travel(datetime(2026, 2, 28, 23, 59, 59, tzinfo=CHICAGO), tick=False):
        sent_message(personas.acme, "last of February")
    with time_machine.travel(datetime(2026, 3, 1, 0, 0, 0, tzinfo=CHICAGO), tick=False):
        sent_message(personas.acme, "first of March")
    assert usage(personas.acme, date(2026, 2, 1)).segments_out == 1
    assert usage(personas.acme, date(2026, 3, 1)).segments_out == 1


def test_a_late_callback_corrects_the_month_the_text_was_sent_in(personas, plan):
    with time_machine.travel(datetime(2026, 1, 31, 23, 59, tzinfo=CHICAGO), tick=False):
        message = sent_message(personas.acme, "hello")
    with time_machine.travel(datetime(2026, 2, 1, 0, 5, tzinfo=CHICAGO), tick=False):
        republish(
            personas.acme,
            messaging_events.MessageStatusChanged,
            message=message,
            status=Message.Status.DELIVERED,
            params={"NumSegments": "2"},
        )
    assert usage(personas.acme, date(2026, 1, 1)).segments_out == 2
    assert usage(personas.acme, date(2026, 2, 1)).pk is None
