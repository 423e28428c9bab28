"""One polite follow-up when a caller has not answered the text-back after N hours (Client.followup_after_hours,
3 by default; 0 for none).

When a text-back goes out (TextbackSent), one ledger row is written for its follow-up, keyed by the text-back's
own key, due N hours later and handed to no broker: the beat sweep dispatches it once it is due (a countdown
of hours on the broker would outlive its visibility timeout), and the ledger's claim makes sure it goes out
once. At send time, with the caller's contact locked, it goes only if:

- the business still wants follow-ups, is not paused, and the caller is not opted out, blocked or unreachable;
- the text-back reached them, and since then nobody texted (they did not reply, no one at the business wrote),
  nobody called (they did not call again, nobody called them back), and no outcome was recorded (booked …);
- it is inside the caller's allowed hours on their own clock (messaging.quiet_hours); otherwise the row is held
  until the next allowed time, and the sweep comes back to it then.

Reports count the follow-ups sent and those the caller answered ("recovered by the follow-up").
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils.timezone import now

from accounts.models import Client
from config.db import insert_unless_exists
from crm.models import Contact, Outcome, suppressed

from .links import booking_link_attach, booking_link_new, link_url
from .models import Conversation, Message, OutboundSend
from .quiet_hours import next_allowed
from .reasons import SkipReason
from .segments import segment_info

# Outbound texts that never reached the caller are not "someone texted them since".
_REACHED = ~Q(
    direction=Message.Direction.OUTBOUND, status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED]
)


def followup_schedule(*, client: Client, send: OutboundSend, message: Message) -> OutboundSend | None:
    """The follow-up owed for a text-back that just went out, once (in the transaction that records the send)."""
    hours = client.followup_after_hours
    if not hours:
        return None
    sent_at = message.sent_at or now()
    followup = OutboundSend(
        client=client,
        kind=OutboundSend.Kind.FOLLOW_UP,
        key=f"followup:{send.key}"[:80],
        to_number=send.to_number,
        call_sid=send.call_sid,
        event_at=sent_at,
        due_at=sent_at + timedelta(hours=hours),
    )
    return followup if insert_unless_exists(followup) else None


def followup_held_until(*, send: OutboundSend, client: Client) -> datetime | None:
    """When a due follow-up must wait for the caller's allowed hours: the time to hold it to, else None."""
    at = now()
    allowed = next_allowed(client=client, number=send.to_number, at=at)
    if allowed is None or allowed <= at + timedelta(seconds=1):
        return None  # allowed now; with no allowed hour at all, followup_prepare says so
    return allowed


def followup_prepare(*, send: OutboundSend, client: Client) -> Message | str:
    """Every check a follow-up must pass at send time, in the client's schema, with the caller's contact locked
    (a STOP recorded now lands before this check or waits for it). The Message to send, or the reason not to."""
    if not client.followup_after_hours:
        return SkipReason.FOLLOWUP_OFF
    if client.status == Client.Status.PAUSED:
        return SkipReason.CLIENT_PAUSED
    if next_allowed(client=client, number=send.to_number, at=now()) is None:
        return SkipReason.NO_ALLOWED_HOURS
    contact = (
        Contact.objects.select_for_update(no_key=True)
        .annotate(suppressed=suppressed(send.to_number))
        .filter(phone_number=send.to_number)
        .first()
    )
    if contact is None:
        return SkipReason.CONTACT_DELETED
    if contact.opted_out or contact.suppressed:
        return SkipReason.OPTED_OUT
    if contact.is_blocked:
        return SkipReason.BLOCKED
    if contact.unreachable:
        return SkipReason.UNREACHABLE
    conversation = Conversation.objects.filter(contact=contact).first()
    if conversation is None:
        return SkipReason.TEXTBACK_NOT_DELIVERED
    since = send.event_at
    textback = Message.objects.filter(
        conversation=conversation, kind=Message.Kind.TEXT_BACK, call_sid=send.call_sid
    ).first()
    if textback is None or textback.status in (Message.Status.FAILED, Message.Status.UNDELIVERED):
        return SkipReason.TEXTBACK_NOT_DELIVERED
    if Message.objects.filter(
        _REACHED, conversation=conversation, created_at__gt=textback.created_at
    ).exists():
        return SkipReason.ANSWERED_SINCE
    # telephony's Call and Callback, by their related names: the caller called again, or someone called them.
    if (
        contact.calls.filter(started_at__gt=since).exists()
        or contact.callbacks.filter(started_at__gt=since).exists()
    ):
        return SkipReason.CALLED_SINCE
    if Outcome.objects.filter(contact=contact, created_at__gt=since).exists():
        return SkipReason.OUTCOME_SINCE
    return _followup_write(send=send, client=client, contact=contact, conversation=conversation)


def followup_text(*, client: Client, booking_link: str) -> str:
    sender = client.sender_name or client.name
    book = f" or book a time here: {booking_link}" if booking_link else ""
    return f"{sender}: just checking in after your call. Can we help? Reply to this text{book}. Reply STOP to opt out."


def _followup_write(
    *, send: OutboundSend, client: Client, contact: Contact, conversation: Conversation
) -> Message:
    link = booking_link_new(
        client=client, to_number=contact.phone_number, message_kind=Message.Kind.FOLLOW_UP
    )
    body = followup_text(client=client, booking_link=link_url(link.code) if link else "")
    info = segment_info(body)
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        kind=Message.Kind.FOLLOW_UP,
        body=body,
        status=Message.Status.SENDING,
        from_number=client.texts_from,
        to_number=contact.phone_number,
        encoding=info.encoding,
        segments=info.segments,
        call_sid=send.call_sid,
    )
    booking_link_attach(link=link, message=message)
    Conversation.objects.filter(pk=conversation.pk).update(last_activity_at=message.created_at)
    return message
