"""Celery tasks for telling the business's people: fetch by id, call inbox.notifications, in the client's
schema (entered from the client id, whatever schema the task was queued from)."""

import functools
from datetime import timedelta

from celery import shared_task
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Client
from accounts.schemas import in_schema_of
from accounts.selectors import client_for_task
from config.db import columns_of, fetch_model
from messaging.models import Message
from telephony.models import Call

from . import notifications
from .models import StaffTextReply

# A task waiting for a far deadline hops there in steps shorter than the broker's visibility timeout, so Redis
# never hands the same waiting task to a second worker.
LONGEST_WAIT = timedelta(minutes=4)


@functools.cache
def _call_sql() -> str:
    """A call by id, written out once: compiling the ORM's query for this wide row cost more CPU than running it."""
    return f"SELECT {', '.join(columns_of(Call))} FROM {Call._meta.db_table} WHERE id = %s"


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def notify_missed_call(client_id: int, call_id: int) -> int:
    client = client_for_task(client_id)
    with in_schema_of(client):
        call = fetch_model(Call, _call_sql(), [call_id])
        if call is None:
            raise Call.DoesNotExist(f"no call {call_id}")
        return notifications.notify_missed_call(client=client, call=call)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def notify_reply(client_id: int, message_id: int) -> int:
    client = client_for_task(client_id)
    with in_schema_of(client):
        message = Message.objects.select_related("conversation__contact").get(pk=message_id)
        return notifications.notify_reply(client=client, message=message)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def notify_urgent(client_id: int, message_id: int) -> str:
    client = client_for_task(client_id)
    with in_schema_of(client):
        message = Message.objects.select_related("conversation__contact").get(pk=message_id)
        return notifications.notify_urgent(client=client, message=message)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def escalate_reply(client_id: int, message_id: int) -> int:
    """Escalate a caller's reply if it is still unanswered at its deadline; until then, wait in hops."""
    client = Client.objects.get(pk=client_id)
    with tenant_context(client):
        message = Message.objects.select_related("conversation__contact").get(pk=message_id)
        if notifications.reply_is_answered(message=message):
            return 0
        wait = notifications.reply_due_at(client=client, message=message) - now()
        if wait > timedelta(seconds=1):
            escalate_reply.apply_async(
                (client_id, message_id), countdown=min(wait, LONGEST_WAIT).total_seconds()
            )
            return 0
        return notifications.escalate_reply(client=client, message=message)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def staff_text_confirm(client_id: int, reply_id: int) -> bool:
    """Tell a staff member, by text, what became of the text they sent to answer an alert."""
    client = client_for_task(client_id)
    with in_schema_of(client):
        return notifications.staff_text_confirm(client=client, reply=StaffTextReply.objects.get(pk=reply_id))
