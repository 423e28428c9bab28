"""Celery tasks: thin wrappers that fetch by id and call a service (see messaging.services).

deliver_send and line_type_check go to the sends queue, which the sender (a thread pool) works: they wait on
Twilio (config/settings/base.py, CELERY_TASK_ROUTES). Time limits are not enforced there; the Twilio client's
timeout bounds them."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.schemas import in_schema_of
from accounts.selectors import client_for_task
from config.outbound import OutboundError

from . import media, receptionist, services
from .models import MessageMedia

log = logging.getLogger(__name__)


# The database was unreachable (restarting, or this process's kept connection was cut): try again shortly
# rather than leave the send to the sweep, which waits DISPATCH_STALE_AFTER before it re-dispatches.
DATABASE_DOWN = (OperationalError, InterfaceError)


@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=45,
    autoretry_for=DATABASE_DOWN,
    retry_backoff=1,
    retry_backoff_max=8,
    retry_jitter=False,
    max_retries=30,
)
def deliver_send(send_id: int) -> str:
    """Work one ledger row. Idempotent: a repeat finds the row taken, sent or skipped and does nothing."""
    return services.send_deliver(send_id=send_id)


@shared_task(ignore_result=True)
def line_type_check(client_id: int, number: str) -> str:
    """Learn a caller's line type while their call still rings (see services.line_type_prefetch)."""
    return services.line_type_prefetch(client_id=client_id, number=number)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def sweep_due_sends() -> int:
    return services.sweep_due_sends()


@shared_task(
    time_limit=90,
    soft_time_limit=75,
    ignore_result=True,
    autoretry_for=(OutboundError,),
    retry_backoff=5,
    max_retries=5,
)
def media_fetch(client_id: int, media_id: int) -> str:
    """Copy a caller's photo from Twilio into our storage (messaging.media)."""
    client = client_for_task(client_id)
    with in_schema_of(client):
        return media.media_fetch(client=client, media=MessageMedia.objects.get(pk=media_id))


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def receptionist_answer(client_id: int, message_id: int) -> str:
    """The AI receptionist's answer to a caller's text, or its hand-over (messaging.receptionist)."""
    client = client_for_task(client_id)
    with in_schema_of(client):
        outcome = receptionist.receptionist_answer(client=client, message_id=message_id)
    if outcome is None:
        return "nothing to do"
    return "answered" if outcome.answered else f"handed over: {outcome.reason}"
