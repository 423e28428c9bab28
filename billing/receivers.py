"""What billing hears from the core: every billable event, counted once (see billing.services).

The core sends these signals inside the transaction that records the event, in the client's schema; metering
writes in that same transaction, so a rolled-back event is never billed and a committed one always is.
"""

import math

from django.dispatch import receiver

from messaging import signals as messaging_signals
from telephony import signals as telephony_signals

from . import services
from .models import UsageKind


def _message_source(message) -> str:
    return f"message:{message.pk}"


@receiver(messaging_signals.message_sent, dispatch_uid="billing.message_sent")
def on_message_sent(sender, *, client, message, **kwargs):
    services.usage_record(
        client=client,
        kind=UsageKind.SEGMENTS_OUT,
        source=_message_source(message),
        quantity=message.segments,
        at=message.sent_at,
    )


@receiver(messaging_signals.message_received, dispatch_uid="billing.message_received")
def on_message_received(sender, *, client, message, **kwargs):
    services.usage_record(
        client=client,
        kind=UsageKind.SEGMENTS_IN,
        source=_message_source(message),
        quantity=message.segments,
        at=message.created_at,
    )


@receiver(messaging_signals.message_status_changed, dispatch_uid="billing.message_status_changed")
def on_message_status_changed(sender, *, client, message, params=None, **kwargs):
    """Twilio's own segment count and price, when the callback brings them, replace ours."""
    params = params or {}
    raw_segments = str(params.get("NumSegments", "")).strip()
    segments = int(raw_segments) if raw_segments.isdigit() else None
    price = services.provider_price(params.get("Price"))
    if segments is None and price is None:
        return
    services.usage_reconcile(
        client=client,
        kind=UsageKind.SEGMENTS_OUT,
        source=_message_source(message),
        quantity=segments,
        provider_price=price,
        provider_price_unit=str(params.get("PriceUnit", "")),
    )


@receiver(telephony_signals.call_received, dispatch_uid="billing.call_received")
def on_call_received(sender, *, client, call, **kwargs):
    services.usage_record(
        client=client, kind=UsageKind.CALLS, source=f"call:{call.call_sid}", quantity=1, at=call.started_at
    )


@receiver(telephony_signals.call_completed, dispatch_uid="billing.call_completed")
def on_call_completed(sender, *, client, call, duration=None, **kwargs):
    """Voice is billed by the started minute, as carriers bill it."""
    if not duration or duration <= 0:
        return
    services.usage_record(
        client=client,
        kind=UsageKind.VOICE_MINUTES,
        source=f"call:{call.call_sid}",
        quantity=math.ceil(duration / 60),
        at=call.started_at,
    )


@receiver(messaging_signals.line_type_looked_up, dispatch_uid="billing.line_type_looked_up")
def on_line_type_looked_up(sender, *, client, number, **kwargs):
    """The signal names no event id; the core looks a number up at most once per 90 days, so a second look-up
    of one number in one day is the same look-up repeated."""
    from django.utils.timezone import now

    services.usage_record(
        client=client, kind=UsageKind.LOOKUPS, source=f"lookup:{number}:{now():%Y-%m-%d}", quantity=1
    )


def textback_check(sender, *, client, send=None, **kwargs):
    """The send-time veto (messaging.signals.textback_check): a reason to stop a text-back, or None."""
    return services.textback_usage_check(client=client)


def connect_textback_check() -> bool:
    """Connect the veto if the core declares it; False while it does not (nothing is blocked then)."""
    signal = getattr(messaging_signals, "textback_check", None)
    if signal is None:
        return False
    signal.connect(textback_check, dispatch_uid="billing.textback_check")
    return True
