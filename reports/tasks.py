"""Celery tasks: thin wrappers that fetch by id and call a service."""

import logging

from celery import shared_task

from accounts.models import Client

from .rollups import rollup_rebuild_client

log = logging.getLogger(__name__)

REPORTED_STATUSES = (Client.Status.LIVE, Client.Status.PAUSED)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def rebuild_rollups() -> int:
    """Nightly: one rebuild task per client, so a big client neither holds up nor times out the others."""
    ids = list(Client.objects.filter(status__in=REPORTED_STATUSES).values_list("pk", flat=True))
    for client_id in ids:
        rebuild_client_rollups.delay(client_id)
    return len(ids)


@shared_task(time_limit=600, soft_time_limit=540, ignore_result=True)
def rebuild_client_rollups(client_id: int) -> int:
    client = Client.objects.filter(pk=client_id, status__in=REPORTED_STATUSES).first()
    if client is None:
        return 0
    return rollup_rebuild_client(client=client)
