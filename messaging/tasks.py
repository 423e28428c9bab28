"""Celery tasks: thin wrappers that fetch by id and call a service (see messaging.services)."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

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


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def sweep_due_sends() -> int:
    return services.sweep_due_sends()
