"""Celery tasks: thin wrappers that fetch by id and call a service (see api.services)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=60, soft_time_limit=45, ignore_result=True)
def deliver_webhook(delivery_id: int) -> str:
    """One attempt at one delivery. Idempotent: a repeat finds it done, not due, or taken."""
    return services.webhook_delivery_attempt(delivery_id=delivery_id)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def sweep_webhook_deliveries() -> int:
    services.idempotency_records_prune()
    return services.webhook_sweep_due()
