"""A client's callers (one schema per client)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.timezone import now


class Contact(models.Model):
    """One person who called or texted the business: exactly one row per E.164 number."""

    class LineType(models.TextChoices):
        UNKNOWN = "", "Unknown"
        MOBILE = "mobile", "Mobile"
        LANDLINE = "landline", "Landline"
        VOIP = "voip", "VoIP"
        OTHER = "other", "Other"

    phone_number = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +13125550123.")
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    tags = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    # Compliance state, kept on the row so every send checks it with the lock it already holds. It mirrors
    # Suppression (the number's own record, which outlives this row); the history is messaging.ConsentEvent.
    opted_out = models.BooleanField(default=False)
    is_blocked = models.BooleanField(default=False, help_text="Never text-back (vendors, staff, spam).")
    line_type = models.CharField(max_length=10, choices=LineType.choices, blank=True, default="")
    line_type_checked_at = models.DateTimeField(null=True, blank=True)
    unreachable = models.BooleanField(default=False, help_text="The carrier said texts cannot reach it.")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    # Not a column: the number as people read it, set by crm.selectors on the contacts it gives the pages.
    phone_display: str

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or self.phone_number

    @property
    def display_name(self) -> str:
        return self.name or self.phone_number


class Outcome(models.Model):
    """What a caller turned into: booked, won (with what the job was worth) or lost (and why). The latest is
    the contact's current one; the rows are the recovered-revenue report's source."""

    class Kind(models.TextChoices):
        BOOKED = "booked", "Booked"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=6, choices=Kind.choices)
    value = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    recorded_by_id = models.BigIntegerField(
        null=True, blank=True, help_text="accounts.User id (public schema)."
    )
    created_at = models.DateTimeField(default=now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value or ''}".strip()


class Suppression(models.Model):
    """A phone number that opted out of this client's texts: a fact about the number, not about a contact row,
    so it survives merges, deletes, imports and edits of contacts. Every outbound text to a caller is checked
    against it at send time (messaging.services); a STOP writes it, a START (or staff, when the caller asked)
    removes it. Contact.opted_out mirrors it for lists and filters."""

    phone_number = models.CharField(max_length=20, unique=True, help_text="E.164.")
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"{self.phone_number} opted out"


def suppressed(number) -> models.Exists:
    """SQL for "this number opted out", to fold into the statement that reads or writes the contact (no
    round trip of its own). `number` is a value or an OuterRef."""
    return models.Exists(Suppression.objects.filter(phone_number=number))
