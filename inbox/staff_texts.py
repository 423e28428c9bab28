"""One of the business's people answering an alert by text: a staff member texted about a caller's reply (or a
missed call, or an urgent text) answers from their phone, and their words go to that caller, in that
conversation, through the one send path (consent rules hold: an opted-out caller gets nothing, and the staff
member is told so). Until now such a text became a new "caller" thread of its own.

messaging asks (events.bus.ask, the StaffTextCheck hook in config/subscribers.py) before an inbound text that is
no keyword becomes a caller's; it is taken here only when it comes from a mobile a member of this client
confirmed for alerts and that person was texted an alert in the last ALERT_REPLY_WINDOW. Anything else, and a
STOP/HELP/START from staff too, goes the usual way.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils.timezone import now

from accounts.models import ClientMembership
from crm.phone import e164_or_none
from messaging.events import StaffTextCheck

from .models import AlertText, NotificationPreference, StaffTextReply
from .services import ReplyRefused, conversation_reply
from .tasks import staff_text_confirm

log = logging.getLogger(__name__)

ALERT_REPLY_WINDOW = timedelta(hours=24)
TAKEN = "staff_reply"


def staff_text_take(hook: StaffTextCheck) -> str | None:
    """Take a staff member's text that answers their latest alert: queue it to that caller and tell them what
    became of it (on commit, by text). None leaves it to be a caller's text as any other."""
    number = e164_or_none(hook.from_number)
    if number is None:
        return None
    people = list(
        NotificationPreference.objects.filter(text_to_confirmed=number).values_list("user_id", flat=True)
    )
    if not people:
        return None
    alert = (
        AlertText.objects.filter(user_id__in=people, created_at__gte=now() - ALERT_REPLY_WINDOW)
        .select_related("conversation")
        .order_by("-created_at")
        .first()
    )
    if alert is None:
        return None
    membership = (
        ClientMembership.objects.filter(client=hook.client, user_id=alert.user_id, user__is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        return None  # no longer one of the business's people: a text like anyone's
    try:
        with transaction.atomic():
            reply = StaffTextReply.objects.create(
                sid=hook.sid, user_id=alert.user_id, conversation=alert.conversation, body=hook.body
            )
    except IntegrityError:
        return TAKEN  # the same webhook again: answered already
    if membership.role == ClientMembership.Role.READONLY:
        reply.refused = "Read-only staff can't answer callers."
    else:
        try:
            with transaction.atomic():
                message = conversation_reply(
                    client=hook.client, conversation=alert.conversation, body=hook.body, user=membership.user
                )
            reply.message_id = message.pk
        except ReplyRefused as exc:
            reply.refused = str(exc)[:200]
    reply.save(update_fields=["message_id", "refused"])
    client_id, reply_id = hook.client.pk, reply.pk
    transaction.on_commit(lambda: _queue_confirmation(client_id, reply_id))
    return TAKEN


def _queue_confirmation(client_id: int, reply_id: int) -> None:
    try:
        staff_text_confirm.apply_async((client_id, reply_id), retry=False)
    except Exception as exc:  # the caller's text is in the ledger already; only the confirmation is lost
        log.warning("could not queue the confirmation of staff text %s: %s", reply_id, exc)
