"""Celery tasks: thin wrappers that fetch by id and call a service (see messaging.services)."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def deliver_send(send_id: int) -> str:
    """Work one ledger row. Idempotent: a repeat finds the row taken, sent or skipped and does nothing."""
    return services.send_deliver(send_id=send_id)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def sweep_due_sends() -> int:
    return services.sweep_due_sends()
