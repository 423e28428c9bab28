"""API keys, idempotency records and outbound webhooks. All public (SPLIT_APPS_PUBLIC_MODELS): a key is found
by its prefix before anyone knows the schema, and an agency's webhook endpoints hear every one of its clients.

A key or an endpoint belongs to exactly one owner: a client (acts within that client, on its host) or an
agency (acts on the agency's host and on its clients' hosts)."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.timezone import now


def _one_owner(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            Q(client__isnull=False, agency__isnull=True) | Q(client__isnull=True, agency__isnull=False)
        ),
        name=name,
    )


class ApiKey(models.Model):
    """The secret is shown once, when made; only its SHA-256 is kept (a 32-byte random secret needs no slow
    hash: there is nothing to guess from). ``prefix`` is public and finds the row."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    client = models.ForeignKey(
        "accounts.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=5, choices=Scope.choices, default=Scope.READ)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [_one_owner("apikey_one_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.scope == self.Scope.WRITE


class IdempotencyRecord(models.Model):
    """What a create answered for one (key, Idempotency-Key), so a retry gets the same answer and no second
    row. Written in the same transaction as the create, so it exists only once the create has committed."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, host, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "idempotency_key"], name="one_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key} → {self.status_code}"


class WebhookEndpoint(models.Model):
    client = models.ForeignKey(
        "accounts.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    url = models.URLField(max_length=500)
    # Names of public domain events (events.bus.public_events), checked when an endpoint is made: free text
    # here, so that declaring a new public event needs no migration.
    events = ArrayField(models.CharField(max_length=40))
    # Kept readable: every delivery is signed with it, and the owner may look it up again.
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    # A REST hook (Zapier, Make): subscribed and unsubscribed through POST/DELETE /api/v1/hooks/ with this key,
    # and turned off by itself when its target is gone (410, or a day of failed deliveries), as those tools
    # expect; they subscribe again when the user turns the automation back on. Empty: made on the page.
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey("accounts.User", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [_one_owner("webhookendpoint_one_owner")]

    def __str__(self) -> str:
        return self.url

    @property
    def is_hook(self) -> bool:
        return self.api_key_id is not None


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how sending it went. The row, not the broker, is the truth: the sweep
    sends any that are due and were lost."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40)
    event_id = models.UUIDField(
        default=uuid.uuid4, help_text="Same for every delivery of one event (replays too)."
    )
    payload = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=255, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due", condition=Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint_id} ({self.state})"
