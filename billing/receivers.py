"""What billing hears from the core: every billable event, counted once (see billing.services). Subscribed in
config/subscribers.py, in the event's transaction: a rolled-back event is never billed and a committed one
always is."""

import math

from django.utils.timezone import now

from messaging.events import (
    LineTypeLookedUp,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    StaffTextSent,
    TextbackCheck,
)
from telephony.events import CallCompleted, CallReceived

from . import services
from .models import UsageKind


def _message_source(message) -> str:
    return f"message:{message.pk}"


def on_message_sent(event: MessageSent) -> None:
    message = event.message
    services.usage_record(
        client=event.client,
        kind=UsageKind.SEGMENTS_OUT,
        source=_message_source(message),
        quantity=message.segments,
        at=message.sent_at,
    )


def on_staff_text_sent(event: StaffTextSent) -> None:
    """Alerts and confirmation codes to the business's people cost the same as texts to callers."""
    services.usage_record(
        client=event.client,
        kind=UsageKind.SEGMENTS_OUT,
        source=f"staff-text:{event.source}",
        quantity=event.segments,
        at=event.at,
    )


def on_message_received(event: MessageReceived) -> None:
    message = event.message
    services.usage_record(
        client=event.client,
        kind=UsageKind.SEGMENTS_IN,
        source=_message_source(message),
        quantity=message.segments,
        at=message.created_at,
    )


def carries_price(event: MessageStatusChanged) -> bool:
    params = event.params or {}
    return bool(str(params.get("NumSegments", "")).strip() or params.get("Price"))


def on_message_status_changed(event: MessageStatusChanged) -> None:
    """Twilio's own segment count and price, when the callback brings them, replace ours."""
    params = event.params or {}
    raw_segments = str(params.get("NumSegments", "")).strip()
    segments = int(raw_segments) if raw_segments.isdigit() else None
    price = services.provider_price(params.get("Price"))
    if segments is None and price is None:
        return
    services.usage_reconcile(
        client=event.client,
        kind=UsageKind.SEGMENTS_OUT,
        source=_message_source(event.message),
        quantity=segments,
        provider_price=price,
        provider_price_unit=str(params.get("PriceUnit", "")),
    )


def on_call_received(event: CallReceived) -> None:
    call = event.call
    services.usage_record(
        client=event.client,
        kind=UsageKind.CALLS,
        source=f"call:{call.call_sid}",
        quantity=1,
        at=call.started_at,
    )


def has_duration(event: CallCompleted) -> bool:
    return bool(event.duration and event.duration > 0)


def on_call_completed(event: CallCompleted) -> None:
    """Voice is billed by the started minute, as carriers bill it."""
    call = event.call
    services.usage_record(
        client=event.client,
        kind=UsageKind.VOICE_MINUTES,
        source=f"call:{call.call_sid}",
        quantity=math.ceil(event.duration / 60),
        at=call.started_at,
    )


def on_line_type_looked_up(event: LineTypeLookedUp) -> None:
    """The event names no id of its own; the core looks a number up at most once per 90 days, so a second
    look-up of one number in one day is the same look-up repeated."""
    services.usage_record(
        client=event.client,
        kind=UsageKind.LOOKUPS,
        source=f"lookup:{event.number}:{now():%Y-%m-%d}",
        quantity=1,
    )


def textback_usage_veto(check: TextbackCheck) -> str | None:
    """The send-time veto: services.USAGE_LIMIT when the month's allowance is used up and the agency chose to
    pause, else None."""
    return services.textback_usage_check(client=check.client)
