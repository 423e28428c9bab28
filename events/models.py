"""The transactional outbox (public schema): events whose subscribers run in a worker, not in the webhook."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.timezone import now


class OutboxEvent(models.Model):
    """One event, written in the transaction that recorded it, with the subscribers still to run it. The drain
    removes each name as its subscriber succeeds and the row once none is left; a failing subscriber stays,
    with the error, and is tried again at `due_at`."""

    client_id = models.BigIntegerField(db_index=True)
    schema_name = models.CharField(max_length=63)
    name = models.CharField(max_length=64)  # the event's catalogue name, e.g. "call.missed"
    data = models.JSONField()
    pending = ArrayField(models.CharField(max_length=200))
    attempts = models.PositiveIntegerField(default=0)
    due_at = models.DateTimeField(default=now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["due_at", "id"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.name} for client {self.client_id} ({', '.join(self.pending)})"
