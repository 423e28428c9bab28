"""What the deliverability counts hear (subscribed in config/subscribers.py, in the event's transaction): every
text handed to the provider, every failure with its class, every opt-out a carrier would count."""

from messaging.events import ContactOptedOut, MessageFailed, MessageSent, MessageStatusChanged, TextbackCheck
from messaging.models import ConsentEvent, Message

from .selectors import textbacks_held
from .services import REGISTRATION_PENDING, deliverability_count, failure_counter

FAILED_STATUSES = (Message.Status.FAILED, Message.Status.UNDELIVERED)


def on_message_sent(event: MessageSent) -> None:
    deliverability_count(client_id=event.client.pk, deltas={"attempted": 1})


def on_message_failed(event: MessageFailed) -> None:
    """A text the provider refused on the spot carries its error code; one a send-time check stopped (opted out,
    paused …) never reached a carrier and counts for nothing here."""
    failure = _failure(event.message)
    if failure is not None:
        status, code = failure
        counter = failure_counter(status=status, error_code=code)
        deliverability_count(client_id=event.client.pk, deltas={"attempted": 1, counter: 1})


def is_a_failure(event: MessageStatusChanged) -> bool:
    return event.status in FAILED_STATUSES and event.message.direction == Message.Direction.OUTBOUND


def on_message_status_changed(event: MessageStatusChanged) -> None:
    # A status only moves forward and a failure is final, so each text is counted as failed at most once.
    counter = failure_counter(status=event.status, error_code=event.message.error_code)
    deliverability_count(client_id=event.client.pk, deltas={counter: 1})


def is_a_carrier_opt_out(event: ContactOptedOut) -> bool:
    """The caller's STOP (or the carrier's report of it); staff marking someone opted out is not a carrier signal."""
    return event.source != ConsentEvent.Source.STAFF


def on_contact_opted_out(event: ContactOptedOut) -> None:
    deliverability_count(client_id=event.client.pk, deltas={"opt_outs": 1})


def _failure(message: Message) -> tuple[str, int | None] | None:
    # Read back: the send path records a refusal with a queryset update, so the event's instance may be stale.
    row = (
        Message.objects.filter(
            pk=message.pk,
            direction=Message.Direction.OUTBOUND,
            status__in=FAILED_STATUSES,
            error_code__isnull=False,
        )
        .values_list("status", "error_code")
        .first()
    )
    return row


def textback_registration_veto(check: TextbackCheck) -> str | None:
    """The send-time veto: held while the client's number's A2P 10DLC registration is pending, when its agency
    chose to hold rather than send and risk carriers blocking (30034) or filtering the number."""
    return REGISTRATION_PENDING if textbacks_held(check.client) else None
