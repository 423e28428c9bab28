"""Keeping the daily roll-ups exact as events happen. Subscribed in the event's transaction
(config/subscribers.py), in the client's schema: each handler counts the event the way reports.definitions
defines it, on the same local day the nightly rebuild would put it. A handler that fails is rolled back alone
and logged by the bus, never undoing the event it heard; the nightly rebuild corrects the count."""

from zoneinfo import ZoneInfo

from crm.events import OutcomeRecorded
from crm.models import Contact, Outcome
from messaging.events import (
    ContactOptedOut,
    MessageFailed,
    MessageReceived,
    MessageSent,
    MessageStatusChanged,
    TextbackSent,
    TextbackSkipped,
)
from messaging.models import ConsentEvent, Conversation, Message
from telephony.events import CallAnswered, CallMissed, CallReceived

from .definitions import FAILED_STATUSES, keyword_sids
from .rollups import first_staff_reply_record, local_date, rollup_bump


def _bump(client, moment, **deltas):
    rollup_bump(client_id=client.pk, day=local_date(moment, client.timezone), **deltas)


# --- Calls ---------------------------------------------------------------------------------------------------


def on_call_received(event: CallReceived) -> None:
    client, call = event.client, event.call
    local = call.started_at.astimezone(ZoneInfo(client.timezone))
    _bump(client, call.started_at, calls=1, call_hour=local.hour, weekday=local.weekday())


def on_call_missed(event: CallMissed) -> None:
    client, call = event.client, event.call
    local = call.started_at.astimezone(ZoneInfo(client.timezone))
    _bump(
        client,
        call.started_at,
        missed_calls=1,
        missed_after_hours=int(call.in_business_hours is False),
        missed_hour=local.hour,
        weekday=local.weekday(),
    )


def on_call_answered(event: CallAnswered) -> None:
    _bump(event.client, event.call.started_at, answered_calls=1)


# --- Text-backs and the conversation after them ---------------------------------------------------------


def on_textback_sent(event: TextbackSent) -> None:
    _bump(event.client, event.message.sent_at, textbacks_sent=1)


def on_textback_skipped(event: TextbackSkipped) -> None:
    client, send, reason = event.client, event.send, event.reason
    rollup_bump(
        client_id=client.pk,
        day=local_date(send.event_at, client.timezone),
        skipped_reason=send.reason or reason or "unknown",
        textbacks_skipped=1,
    )


def _callers_replies(conversation_id: int):
    """Texts from the caller that count as replies: not an opt-out or opt-in keyword."""
    return Message.objects.filter(
        conversation_id=conversation_id, direction=Message.Direction.INBOUND
    ).exclude(provider_sid__in=keyword_sids())


def _textback_before(conversation_id: int, moment):
    return (
        Message.objects.filter(
            conversation_id=conversation_id,
            kind=Message.Kind.TEXT_BACK,
            sent_at__isnull=False,
            sent_at__lte=moment,
        )
        .order_by("-sent_at", "-id")
        .first()
    )


def on_message_received(event: MessageReceived) -> None:
    client, message = event.client, event.message
    if not _callers_replies(message.conversation_id).filter(pk=message.pk).exists():
        return  # a keyword
    textback = _textback_before(message.conversation_id, message.created_at)
    if textback is None:
        return
    earlier = (
        _callers_replies(message.conversation_id)
        .filter(created_at__gte=textback.sent_at, created_at__lte=message.created_at)
        .exclude(pk=message.pk)
    )
    if not earlier.exists():
        _bump(client, textback.sent_at, replies=1)


def is_a_staff_reply(event: MessageSent) -> bool:
    return event.message.kind == Message.Kind.REPLY


def on_message_sent(event: MessageSent) -> None:
    client, message = event.client, event.message
    # Two staff replies in one conversation going out at once must not both count as the first.
    Conversation.objects.select_for_update().filter(pk=message.conversation_id).first()
    textback = _textback_before(message.conversation_id, message.created_at)
    if textback is None:
        return
    next_textback = (
        Message.objects.filter(
            conversation_id=message.conversation_id, kind=Message.Kind.TEXT_BACK, sent_at__gt=textback.sent_at
        )
        .order_by("sent_at", "id")
        .values_list("sent_at", flat=True)
        .first()
    )
    replied = _callers_replies(message.conversation_id).filter(created_at__gte=textback.sent_at)
    if next_textback is not None:
        replied = replied.filter(created_at__lt=next_textback)
    replied_at = replied.order_by("created_at").values_list("created_at", flat=True).first()
    if replied_at is None or replied_at > message.created_at:
        return
    others = Message.objects.filter(
        conversation_id=message.conversation_id,
        kind=Message.Kind.REPLY,
        sent_at__isnull=False,
        created_at__gte=replied_at,
    ).exclude(pk=message.pk)
    if next_textback is not None:
        others = others.filter(created_at__lt=next_textback)
    earliest_other = others.order_by("created_at").values_list("created_at", flat=True).first()
    if earliest_other is None:
        _bump(client, textback.sent_at, answered_by_staff=1)
    if earliest_other is None or message.created_at < earliest_other:
        # The wait runs to the staff reply written first, which may go out after a later one.
        first_staff_reply_record(
            client_id=client.pk,
            day=local_date(textback.sent_at, client.timezone),
            textback_id=textback.pk,
            wait=message.created_at - replied_at,
        )


def _count_if_delivery_failure(client, message) -> None:
    # Read back: the send path records a failure with a queryset update, so the instance may be stale.
    failed = (
        Message.objects.filter(
            pk=message.pk,
            direction=Message.Direction.OUTBOUND,
            status__in=FAILED_STATUSES,
            error_code__isnull=False,
        )
        .values_list("created_at", flat=True)
        .first()
    )
    if failed is not None:
        _bump(client, failed, delivery_failures=1)


def on_message_failed(event: MessageFailed) -> None:
    _count_if_delivery_failure(event.client, event.message)


def is_a_failure(event: MessageStatusChanged) -> bool:
    return event.status in FAILED_STATUSES


def on_message_status_changed(event: MessageStatusChanged) -> None:
    _count_if_delivery_failure(event.client, event.message)


def on_contact_opted_out(event: ContactOptedOut) -> None:
    consent = (
        ConsentEvent.objects.filter(contact_id=event.contact.pk, kind=ConsentEvent.Kind.OPT_OUT)
        .order_by("-created_at", "-id")
        .first()
    )
    if consent is not None:
        _bump(event.client, consent.created_at, opt_outs=1)


# --- Outcomes ------------------------------------------------------------------------------------------------


def on_outcome_recorded(event: OutcomeRecorded) -> None:
    client, outcome = event.client, event.outcome
    Contact.objects.select_for_update().filter(pk=outcome.contact_id).first()
    previous = (
        Outcome.objects.filter(contact_id=outcome.contact_id)
        .exclude(pk=outcome.pk)
        .order_by("-created_at", "-id")
        .first()
    )
    if previous is not None and previous.kind == Outcome.Kind.BOOKED:
        _bump(client, previous.created_at, booked_pending=-1)  # no longer waiting: this outcome follows it
    if outcome.kind == Outcome.Kind.BOOKED:
        _bump(client, outcome.created_at, booked=1, booked_pending=1)
    elif outcome.kind == Outcome.Kind.WON:
        _bump(client, outcome.created_at, won=1, won_value=outcome.value or 0)
