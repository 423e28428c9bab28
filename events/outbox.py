"""Draining the outbox (see events.bus for the policy): the rows' pending subscribers, in batches."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils.timezone import now
from django_tenants.utils import get_tenant_model

from config.db import tenant_connection

from .bus import _by_key, _log_failure, event_from_data
from .models import OutboxEvent

log = logging.getLogger(__name__)

BATCH = 200
GIVE_UP_AFTER = 12  # attempts: about a day of backoff


def outbox_drain(*, limit: int = BATCH) -> int:
    """Run the due rows' pending subscribers in one transaction for the batch; rows are locked SKIP LOCKED, so
    workers draining at once share the work. A subscriber's writes commit with its name leaving the row: it runs
    once when it succeeds. Returns how many rows were handled."""
    tenant_connection.set_schema_to_public()
    with transaction.atomic():
        rows = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now())
            .order_by("due_at", "id")[:limit]
        )
        if not rows:
            return 0
        clients = get_tenant_model().objects.in_bulk({row.client_id for row in rows})
        done, retry = [], []
        for row in rows:
            client = clients.get(row.client_id)
            if client is None:  # the client is gone: nobody is left to tell
                done.append(row.pk)
                continue
            tenant_connection.set_tenant(client)
            still = _run_pending(row, client)
            if still:
                row.pending = still
                row.attempts += 1
                row.due_at = now() + timedelta(seconds=min(3600, 5 * 2**row.attempts))
                retry.append(row)
            else:
                done.append(row.pk)
        tenant_connection.set_schema_to_public()
        if done:
            OutboxEvent.objects.filter(pk__in=done).delete()
        for row in retry:
            if row.attempts >= GIVE_UP_AFTER:
                log.error(
                    "outbox row %s (%s) given up after %s attempts: %s",
                    row.pk,
                    row.name,
                    row.attempts,
                    row.last_error,
                )
                row.due_at = now() + timedelta(days=3650)  # kept for a person to look at; never run again
            row.save(update_fields=["pending", "attempts", "due_at", "last_error"])
    return len(rows)


def _run_pending(row: OutboxEvent, client) -> list[str]:
    """Run the row's pending subscribers, each in its own savepoint; returns the names that failed."""
    try:
        event = event_from_data(row.name, row.data, client=client)
    except Exception as exc:  # a row it names was deleted since, say: nothing can run it
        log.exception("outbox row %s (%s) cannot be read back", row.pk, row.name)
        row.last_error = f"cannot read the event back: {exc}"[:1000]
        row.attempts = GIVE_UP_AFTER - 1
        return list(row.pending)
    failed = []
    for key in row.pending:
        subscription = _by_key.get(key)
        if subscription is None:
            continue  # unsubscribed since the row was written
        try:
            with transaction.atomic():
                subscription.handler(event)
        except Exception as exc:
            _log_failure(subscription, event)
            row.last_error = f"{key}: {exc}"[:1000]
            failed.append(key)
    return failed
