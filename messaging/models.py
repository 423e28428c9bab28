"""Texts. Client schema: conversations, messages, templates, consent history. Public schema: the outbound-send
ledger, the one place that says what must be sent for every client (see config.routers for the split)."""

import secrets

from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.timezone import now

from config.crypto import decrypt, encrypt
from crm.models import Contact

from .intents import Intent
from .placeholders import validate_template
from .reasons import Reason, validate_reason

# 1 for a conversation with unread texts, else 0: the inbox lists those first.
UNREAD_FIRST = Case(When(unread_count__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField())


class Conversation(models.Model):
    """The thread with one caller. One per contact; closing and reopening keeps the history in one place."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Flag(models.TextChoices):
        """Why a person should look at this conversation before anything else is sent (blank: no reason)."""

        MAYBE_OPT_OUT = "maybe_opt_out", "May be asking to stop texts"
        HANDOVER = "handover", "The AI receptionist handed over"

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="conversation")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # Raised where the rules were unsure (messaging.keywords.revocation), settled by a person in the inbox
    # (or by any opt-out): the law lets a caller revoke consent in any words, and a guess either way is wrong.
    flag = models.CharField(max_length=20, choices=Flag.choices, blank=True)
    flag_words = models.CharField(max_length=100, blank=True, help_text="The words that raised the flag.")
    flag_message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The intent of the caller's latest reply (messaging.intents): what the inbox shows on the row and filters by.
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    unread_count = models.PositiveIntegerField(default=0)
    # accounts.User id (public schema). Not a foreign key: a constraint from every client schema to the users
    # table would make deleting a person fail in whichever schema Django's collector does not look at.
    assigned_to_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=now, db_index=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-last_activity_at"]
        # The inbox's order (unread first, then newest activity; inbox.selectors.conversation_list), so a page
        # of 25 is read off an index instead of sorting every conversation of a big client. One for the tabs
        # that filter by status (open, mine, closed …), one for "all".
        indexes = [
            models.Index(
                F("status"),
                UNREAD_FIRST.desc(),
                F("last_activity_at").desc(),
                F("id").desc(),
                name="conversation_inbox_status",
            ),
            models.Index(
                UNREAD_FIRST.desc(),
                F("last_activity_at").desc(),
                F("id").desc(),
                name="conversation_inbox_all",
            ),
            # The unread count in every inbox page's title: a handful of rows, not a scan of them all.
            models.Index(fields=["id"], condition=Q(unread_count__gt=0), name="conversation_unread"),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.contact}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Inbound"
        OUTBOUND = "out", "Outbound"

    class Kind(models.TextChoices):
        TEXT_BACK = "textback", "Text-back"
        REPLY = "reply", "Staff reply"
        KEYWORD_REPLY = "keyword_reply", "Keyword reply"  # STOP/START/HELP answers: compliance, always sent
        # A keyword rule's answer (BOOK → the booking link, messaging.actions): like any text, never to an opted-out
        # number.
        AUTO_REPLY = "auto_reply", "Automatic reply"
        AI_REPLY = "ai_reply", "AI receptionist"  # messaging.receptionist: labelled as AI in the inbox
        # The one nudge when the caller has not answered (messaging.followups).
        FOLLOW_UP = "followup", "Follow-up"
        INTAKE = "intake", "Intake form"  # what the caller filled in on the intake page (messaging.intake)
        INBOUND = "inbound", "From the caller"

    class Action(models.TextChoices):
        """The keyword rules a caller's whole text can set off (messaging.actions), named as the thread shows them."""

        URGENT = "urgent", "URGENT / EMERGENCY"
        BOOK = "book", "BOOK / SCHEDULE"

    class Status(models.TextChoices):
        # Outbound, in the order they happen; a status callback only ever moves a message forward.
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"  # handed to the provider; until it answers, the outcome is unknown
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"  # inbound

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices)
    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20)
    provider_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=5, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    call_sid = models.CharField(max_length=64, blank=True, help_text="The missed call a text-back answers.")
    template_kind = models.CharField(max_length=20, blank=True)
    # "a" or "b" when the template had a second wording (Template.body_b) to test; empty when it had one.
    # A database default too: rows written in SQL (bench/) need not name it.
    template_variant = models.CharField(max_length=1, blank=True, default="", db_default="")
    sent_by_id = models.BigIntegerField(null=True, blank=True, help_text="accounts.User id (public schema).")
    # The keyword rule a caller's text set off (messaging.actions.Action) and what came of it, for the thread.
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    action_note = models.CharField(max_length=200, blank=True)
    # A caller's text, read by messaging.intents: what it is about, how sure (percent) and the words that decided.
    intent = models.CharField(max_length=16, choices=Intent.choices, blank=True)
    intent_confidence = models.PositiveSmallIntegerField(null=True, blank=True)
    intent_words = models.CharField(max_length=100, blank=True)
    # An AI receptionist's text: what the model was given and answered (messaging.receptionist), for the record.
    ai_inputs = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_thread"),
            # A period's follow-ups and its callers' texts read for an intent, for the reports' "after the
            # text-back" (reports.definitions.after_textback_by_client): without them each read scanned every
            # message of the client (370 ms a page at a million calls; bench/reports_funnel.py). Partial, so
            # only those rows pay for them.
            models.Index(fields=["sent_at"], condition=Q(kind="followup"), name="message_followup_sent"),
            models.Index(
                fields=["created_at"], condition=Q(direction="in") & ~Q(intent=""), name="message_intent_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_kind_display()} {self.status}"


# Later statuses win; failures are final. A late "sent" after "delivered" changes nothing.
STATUS_RANK: dict[str, int] = {  # keyed by the stored value, which a Status member is
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.UNDELIVERED: 4,
    Message.Status.FAILED: 4,
}


class Template(models.Model):
    """The text-back wording, per situation. Defaults come from a data migration into the template schema,
    so every new client starts with them."""

    class Kind(models.TextChoices):
        BUSINESS_HOURS = "business_hours", "During business hours"
        AFTER_HOURS = "after_hours", "After hours"
        RETURNING_CALLER = "returning_caller", "Returning caller"

    kind = models.CharField(max_length=20, choices=Kind.choices, unique=True)
    body = models.TextField(validators=[validate_template])
    # A second wording to test against the first: when set, text-backs alternate between the two (by the send's
    # id, so a retried send keeps its wording) and the report compares how often each is answered.
    body_b = models.TextField(blank=True, default="", db_default="", validators=[validate_template])
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.get_kind_display()


class ConsentEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Only the link to a contact row follows a merge; what was recorded never changes.
        if set(kwargs) - {"contact", "contact_id"}:
            raise ConsentRecordImmutable("A consent record is never changed; record a new event instead.")
        return super().update(**kwargs)

    def delete(self):
        raise ConsentRecordImmutable("A consent record is never deleted.")

    # Django reads this on a QuerySet method a manager copies; a function attribute the checker cannot type.
    delete.queryset_only = True  # type: ignore[attr-defined]


class ConsentRecordImmutable(Exception):
    """Someone tried to change or delete consent history."""


class ConsentEvent(models.Model):
    """Every opt-out and opt-in of a number, with when and how: the record a carrier or court asks for.

    Insert-only. It names the number it concerns, so it outlives the contact row (the link is cleared when the
    contact goes, and follows a merge); saving an existing event, deleting one, or updating anything but that
    link raises ConsentRecordImmutable. The guard is in the model, not a database trigger, because client
    schemas are cloned from a template that may hold tables, indexes and constraints only
    (accounts.schemas refuses a template with triggers or functions), and every write here goes through the
    ORM."""

    class Kind(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out"
        OPT_IN = "opt_in", "Opted in"

    class Source(models.TextChoices):
        KEYWORD = "keyword", "Texted a keyword"
        REPLY = "reply", "Asked to stop in a reply"  # revocation in the caller's own words (the message_sid)
        PROVIDER = "provider", "Reported by the carrier (21610)"
        STAFF = "staff", "Changed by staff"

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="consent_events"
    )
    phone_number = models.CharField(max_length=20, db_index=True, help_text="E.164: the number it concerns.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    source = models.CharField(max_length=10, choices=Source.choices)
    keyword = models.CharField(max_length=40, blank=True)
    message_sid = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_source_display()})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ConsentRecordImmutable("A consent record is never changed; record a new event instead.")
        if not self.phone_number and self.contact is not None:
            self.phone_number = (
                self.contact.phone_number
            )  # the number it concerns, whatever becomes of the row
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ConsentRecordImmutable("A consent record is never deleted.")


class ReasonField(models.CharField):
    """Why a send was skipped or failed: blank, or a declared reason (messaging.reasons). A value nobody declared
    is refused on every write, save(), update() and bulk_create() alike (all prepare it here), and by
    full_clean(); reading a retired reason back still works (only writes are checked)."""

    default_validators = [validate_reason]

    def get_db_prep_save(self, value, connection):
        if value:
            Reason(value)  # ValueError for a value nobody declared
        return super().get_db_prep_save(value, connection)

    def deconstruct(self):
        # The column is a CharField's, as migrations know it: the check is Python's, and needs no migration.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs


class OutboundSend(models.Model):
    """Public schema: one row per text that must go out, for every client: the ledger that makes sends
    exactly-once. Celery is only how a row gets worked on promptly; the beat sweep finds any row the broker
    lost. Unique per (client, key), so a repeated webhook cannot make a second row."""

    class Kind(models.TextChoices):
        TEXT_BACK = "textback", "Text-back"
        MESSAGE = "message", "Message"  # a Message row already written (staff reply, keyword reply)
        FOLLOW_UP = "followup", "Follow-up"  # one per text-back, written when it is due (messaging.followups)

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"  # handed to the provider; outcome not yet recorded
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(
        max_length=80, help_text='"call:<CallSid>", "message:<id>" or "followup:call:<CallSid>".'
    )
    to_number = models.CharField(max_length=32)
    call_sid = models.CharField(max_length=64, blank=True)
    event_at = models.DateTimeField(
        default=now,
        help_text="When the call was missed (picks the template); a follow-up: when its text-back went out.",
    )
    due_at = models.DateTimeField(default=now)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    reason = ReasonField(max_length=40, blank=True, help_text="Why it was skipped or failed.")
    detail = models.CharField(max_length=255, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True, help_text="messaging.Message in the client.")
    attempts = models.PositiveSmallIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="one_send_per_client_key")]
        indexes = [
            models.Index(
                fields=["due_at"], name="send_due_open", condition=models.Q(state__in=["pending", "sending"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.state})"


LINK_ALPHABET = "23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def link_code() -> str:
    """A short link's code: 10 characters of a 57-letter alphabet (58 bits; no 0/O, 1/l/I), unguessable enough
    that nobody finds another caller's link by trying, short enough for a text."""
    return "".join(secrets.choice(LINK_ALPHABET) for _ in range(10))


class TrackedLink(models.Model):
    """Public schema: a link we put in a text (the business's booking page), as the short redirect on the platform
    host that counts who opened it (messaging.links). Found by its code without knowing the client, so it lives
    in public, keyed by client; the message it is in lives in the client's schema (message_id)."""

    class Kind(models.TextChoices):
        BOOKING = "booking", "Booking link"

    code = models.CharField(max_length=16, unique=True, default=link_code)
    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    to_number = models.CharField(max_length=20, help_text="E.164: the caller it was sent to.")
    message_id = models.BigIntegerField(null=True, blank=True, help_text="messaging.Message in the client.")
    message_kind = models.CharField(max_length=16, blank=True, help_text="Message.Kind of that message.")
    clicks = models.PositiveIntegerField(default=0)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    last_clicked_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(
        null=True, blank=True, help_text="The caller was marked booked after opening the link."
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["client", "created_at"], name="link_client_created"),
            models.Index(fields=["client", "to_number"], name="link_client_number"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"


class TwilioAccount(models.Model):
    """Public schema: the Twilio account an agency's numbers live in, when it is not the platform's own: a
    subaccount we made for it (messaging.twilio_accounts.subaccount_create), or the agency's own account, whose
    credentials an admin entered. Texts go out, numbers are bought and released, and webhooks are checked with
    this account's credentials. No row: the agency shares the platform's account (TWILIO_ACCOUNT_SID).

    The auth token is stored encrypted (config.crypto); `auth_token` reads it."""

    class Kind(models.TextChoices):
        SUBACCOUNT = "subaccount", "Subaccount of the platform's account"
        OWN = "own", "The agency's own Twilio account"

    agency = models.OneToOneField("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    account_sid = models.CharField(max_length=34, unique=True)
    auth_token_encrypted = models.TextField()
    friendly_name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=now)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.account_sid} ({self.kind})"

    @property
    def auth_token(self) -> str:
        return decrypt(self.auth_token_encrypted)

    @auth_token.setter
    def auth_token(self, value: str) -> None:
        self.auth_token_encrypted = encrypt(value)


class MessageMedia(models.Model):
    """Client schema: a photo (or other file) a caller sent with a text (MMS). Twilio's copy needs the account's
    credentials; ours is fetched into Django's storage (messaging.media) and served only to the client's people
    (inbox.views.media)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="media")
    content_type = models.CharField(
        max_length=100,
        help_text="As the carrier named it (Twilio's MediaContentTypeN, Telnyx's content_type).",
    )
    # Where the carrier keeps it: Twilio's media URL, or Telnyx's link (a pre-signed S3 URL: long).
    carrier_url = models.URLField(max_length=2000, blank=True)
    file = models.CharField(
        max_length=200, blank=True, help_text="Our copy's name in the storage; empty until fetched."
    )
    size = models.PositiveIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=200, blank=True, help_text="Why it could not be fetched or kept.")
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.content_type} on message {self.message_id}"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def intake_code() -> str:
    """An intake link's code: 14 characters of LINK_ALPHABET (about 82 bits): it opens a page that takes photos
    into a business's inbox, so nobody should find one by trying."""
    return "".join(secrets.choice(LINK_ALPHABET) for _ in range(14))


class IntakeLink(models.Model):
    """Public schema: the intake page's link for one conversation (messaging.intake), found by its code without
    knowing the client; the conversation lives in the client's schema (conversation_id)."""

    code = models.CharField(max_length=20, unique=True, default=intake_code)
    client = models.ForeignKey("accounts.Client", on_delete=models.CASCADE, related_name="+")
    conversation_id = models.BigIntegerField(help_text="messaging.Conversation in the client.")
    to_number = models.CharField(max_length=20, help_text="E.164: the caller it was sent to.")
    expires_at = models.DateTimeField()
    submissions = models.PositiveSmallIntegerField(default=0)
    last_submitted_at = models.DateTimeField(null=True, blank=True)
    # Opened by the caller (a GET by a person, not a preview fetcher: messaging.links.open_count), as booking
    # links count their clicks: the thread shows "Opened the form", the report counts opened → answered.
    opens = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [
            models.Index(fields=["client", "conversation_id"], name="intake_client_conversation"),
            # The report's caller steps count a period's forms by the day they were sent, like booking links.
            models.Index(fields=["client", "created_at"], name="intake_client_created"),
        ]

    def __str__(self) -> str:
        return f"intake {self.code}"
