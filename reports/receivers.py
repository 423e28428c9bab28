"""Keeping the daily roll-ups exact as events happen. Connected in ReportsConfig.ready().

Each receiver runs in the event's transaction and the client's schema (see the core apps' signals.py), and
counts the event the way reports.definitions defines it, on the same local day the nightly rebuild would put
it. A receiver that fails must never undo the event it heard (a text-back matters more than a count): it runs
in a savepoint, logs, and leaves the difference to the nightly rebuild."""

import functools
import logging
from zoneinfo import ZoneInfo

from django.db import transaction

from crm.models import Contact, Outcome
from crm.signals import outcome_recorded
from messaging import signals as messaging_signals
from messaging.models import ConsentEvent, Conversation, Message
from telephony import signals as telephony_signals

from .definitions import FAILED_STATUSES, keyword_sids
from .rollups import first_staff_reply_record, local_date, rollup_bump

log = logging.getLogger(__name__)


def _safely(receiver=None, *, only_if=None):
    """Run the receiver in a savepoint, logging a failure. `only_if(**kwargs)`, checked first, keeps the events
    the receiver ignores from costing the savepoint's two round trips (every text sent, every status callback)."""
    if receiver is None:
        return functools.partial(_safely, only_if=only_if)

    @functools.wraps(receiver)
    def wrapper(sender, client=None, **kwargs):
        if client is None or (only_if is not None and not only_if(**kwargs)):
            return
        try:
            with transaction.atomic():
                receiver(client=client, **kwargs)
        except Exception:
            log.exception(
                "reports: %s failed for client %s; the nightly rebuild will correct it",
                receiver.__name__,
                getattr(client, "pk", client),
            )

    return wrapper


def _bump(client, moment, **deltas):
    rollup_bump(client_id=client.pk, day=local_date(moment, client.timezone), **deltas)


# --- Calls ---------------------------------------------------------------------------------------------------


@_safely
def on_call_received(*, client, call, **_):
    _bump(client, call.started_at, calls=1)


@_safely
def on_call_missed(*, client, call, **_):
    _bump(
        client,
        call.started_at,
        missed_calls=1,
        missed_after_hours=int(call.in_business_hours is False),
        missed_hour=call.started_at.astimezone(ZoneInfo(client.timezone)).hour,
    )


@_safely
def on_call_answered(*, client, call, **_):
    _bump(client, call.started_at, answered_calls=1)


# --- Text-backs and the conversation after them ---------------------------------------------------------


@_safely
def on_textback_sent(*, client, message, **_):
    _bump(client, message.sent_at, textbacks_sent=1)


@_safely
def on_textback_skipped(*, client, send, reason=None, **_):
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


@_safely
def on_message_received(*, client, message, **_):
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


@_safely(only_if=lambda message, **_: message.kind == Message.Kind.REPLY)
def on_message_sent(*, client, message, **_):
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


@_safely
def on_message_failed(*, client, message, **_):
    _count_if_delivery_failure(client, message)


@_safely(only_if=lambda status, **_: status in FAILED_STATUSES)
def on_message_status_changed(*, client, message, status, **_):
    _count_if_delivery_failure(client, message)


@_safely
def on_contact_opted_out(*, client, contact, **_):
    event = (
        ConsentEvent.objects.filter(contact_id=contact.pk, kind=ConsentEvent.Kind.OPT_OUT)
        .order_by("-created_at", "-id")
        .first()
    )
    if event is not None:
        _bump(client, event.created_at, opt_outs=1)


# --- Outcomes ------------------------------------------------------------------------------------------------


@_safely
def on_outcome_recorded(*, client, outcome, **_):
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


CONNECTIONS = [
    (telephony_signals.call_received, on_call_received),
    (telephony_signals.call_missed, on_call_missed),
    (telephony_signals.call_answered, on_call_answered),
    (messaging_signals.textback_sent, on_textback_sent),
    (messaging_signals.textback_skipped, on_textback_skipped),
    (messaging_signals.message_received, on_message_received),
    (messaging_signals.message_sent, on_message_sent),
    (messaging_signals.message_failed, on_message_failed),
    (messaging_signals.message_status_changed, on_message_status_changed),
    (messaging_signals.contact_opted_out, on_contact_opted_out),
    (outcome_recorded, on_outcome_recorded),
]


def connect() -> None:
    for signal, receiver in CONNECTIONS:
        signal.connect(receiver, dispatch_uid=f"reports.{receiver.__name__}")
