"""Calls (client schema), and who holds each number (public)."""

from django.db import models
from django.utils.timezone import now
from phonenumber_field.modelfields import PhoneNumberField

from crm.models import Contact


class Call(models.Model):
    """One inbound call to the business's Textback number, and what became of it."""

    class Outcome(models.TextChoices):
        RINGING = "ringing", "Ringing"  # not decided yet
        ANSWERED = "answered", "Answered"  # a person pressed 1 and took it
        MISSED = "missed", "Missed"  # → text-back
        ABANDONED = "abandoned", "Hung up early"  # shorter than the client's minimum ring time; not texted

    class MissedReason(models.TextChoices):
        NO_ANSWER = "no-answer", "Nobody answered"
        BUSY = "busy", "Line busy"
        FAILED = "failed", "Could not ring the business"
        VOICEMAIL = "voicemail", "Voicemail or decline picked up"
        HANGUP = "hangup", "Caller hung up while it rang"
        CARRIER = "carrier", "Forwarded by the business's carrier"
        REPORTED = "reported", "Reported by the business's phone system"  # POST /api/v1/calls/missed/

    call_sid = models.CharField(max_length=64, unique=True)
    from_number = models.CharField(max_length=32, help_text="As Twilio sent it: may be 'anonymous'.")
    to_number = models.CharField(max_length=20)
    caller_name = models.CharField(max_length=120, blank=True)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RINGING)
    missed_reason = models.CharField(max_length=10, choices=MissedReason.choices, blank=True)
    dial_status = models.CharField(max_length=20, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True, help_text="When a person pressed 1.")
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    in_business_hours = models.BooleanField(null=True)
    started_at = models.DateTimeField(default=now, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When Twilio's final status callback for the call arrived."
    )
    # A voicemail the caller left (telephony.voicemail): Twilio's recording, our copy of its audio in Django's
    # storage (served only to the client's people), and its transcript when Twilio sends one.
    recording_sid = models.CharField(max_length=64, blank=True)
    recording_seconds = models.PositiveIntegerField(null=True, blank=True)
    recording_url = models.URLField(
        max_length=2000,
        blank=True,
        help_text="The carrier's: Twilio's without the file extension, Telnyx's pre-signed link as it came.",
    )
    recording_file = models.CharField(max_length=200, blank=True, help_text="Our copy's name in the storage.")
    transcript = models.TextField(blank=True)
    transcript_status = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.from_number} {self.outcome}"

    @property
    def left_voicemail(self) -> bool:
        return bool(self.recording_sid)


class NumberHolder(models.Model):
    """Public schema: which agency holds each phone number of the platform's Twilio account (no agency: the
    platform's own). Recorded when a number is bought or adopted for a client and never deleted: a client
    offboarded releases its number from routing, but its agency keeps it (and the opt-outs of the callers who
    texted it, which follow it to that agency's next client). Another agency, or the platform's numbers, cannot
    be adopted or bought through the wizard or the API; an operator reassigns one in the admin."""

    phone_number = PhoneNumberField(unique=True)
    agency = models.ForeignKey(
        "accounts.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty: the platform's own number.",
    )
    client = models.ForeignKey(
        "accounts.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The client that uses it now, or did last.",
    )
    previous_client = models.ForeignKey(
        "accounts.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Whose opt-outs came along with the number.",
    )
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.phone_number)


class Callback(models.Model):
    """Client schema: a call back to a caller placed from the inbox (telephony.callbacks). Twilio rings the staff
    member's own phone first; when they pick up, it dials the caller with the business's number as caller ID.
    The thread shows how it went and for how long."""

    class Status(models.TextChoices):
        RINGING_STAFF = "ringing_staff", "Ringing your phone"
        CONNECTING = "connecting", "Calling the caller"
        TALKED = "talked", "Talked"
        NO_ANSWER = "no_answer", "The caller did not answer"
        BUSY = "busy", "The caller's line was busy"
        STAFF_MISSED = "staff_missed", "Your phone did not answer"
        FAILED = "failed", "Could not connect"

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="callbacks"
    )
    to_number = models.CharField(max_length=20, help_text="The caller, E.164.")
    staff_number = models.CharField(
        max_length=20, help_text="The phone rung first: the staff member's mobile."
    )
    placed_by_id = models.BigIntegerField(help_text="accounts.User id (public schema).")
    call_sid = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="The staff leg's, from Twilio."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RINGING_STAFF)
    duration_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Of the talk with the caller."
    )
    started_at = models.DateTimeField(default=now, db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Call back to {self.to_number} ({self.status})"
