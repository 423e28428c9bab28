"""Reads about sending that pages and the health check share."""

from datetime import timedelta

from django.utils.timezone import now

from .models import OutboundSend


def send_oldest_overdue() -> timedelta | None:
    """How long the oldest send that is due and not yet sent has been waiting (None when none is due).

    A send normally leaves within a second or two of falling due; one waiting minutes means the text-back path
    is broken (no worker, no broker, the provider down for longer than its retries). Uses the ledger's partial
    index on open rows, so it is cheap enough for a health check polled every few seconds."""
    oldest = (
        OutboundSend.objects.filter(
            state__in=[OutboundSend.State.PENDING, OutboundSend.State.SENDING], due_at__lte=now()
        )
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return None if oldest is None else now() - oldest
