"""Celery tasks: the outbox drain (see events.outbox)."""

from celery import shared_task

from . import outbox


@shared_task(time_limit=120, soft_time_limit=100, ignore_result=True)
def outbox_drain() -> int:
    """Drain until nothing is due (each call takes one batch), so a burst needs one task, not one per event."""
    total = 0
    while True:
        handled = outbox.outbox_drain()
        total += handled
        if handled < outbox.BATCH:
            return total
