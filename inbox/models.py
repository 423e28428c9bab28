"""Staff-only things around a conversation (client schema)."""

from django.db import models
from django.utils.timezone import now
from phonenumber_field.modelfields import PhoneNumberField

from messaging.models import Conversation


class Note(models.Model):
    """An internal note in a thread: staff see it in the timeline, the caller never does."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author_id = models.BigIntegerField(help_text="accounts.User id (public schema).")
    body = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.body[:40]


class CannedReply(models.Model):
    """A reply staff send often, one click away in the reply box."""

    title = models.CharField(max_length=60)
    body = models.TextField()
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """What one person hears about at this client, and how. A person with no row gets ROLE_DEFAULTS."""

    user_id = models.BigIntegerField(unique=True, help_text="accounts.User id (public schema).")
    missed_call_email = models.BooleanField("Email me about missed calls", default=True)
    reply_email = models.BooleanField("Email me when a caller replies", default=True)
    escalation_email = models.BooleanField("Email me when a reply waits too long", default=True)
    text_to = PhoneNumberField("My mobile number for alerts", blank=True)
    missed_call_text = models.BooleanField("Text me about missed calls", default=False)
    reply_text = models.BooleanField("Text me when a caller replies", default=False)
    escalation_text = models.BooleanField("Text me when a reply waits too long", default=False)
    # Web push goes to the devices where the person turned notifications on (PushSubscription): choosing the
    # events here sends nothing until they do.
    missed_call_push = models.BooleanField("Missed calls", default=True)
    reply_push = models.BooleanField("Replies from callers", default=True)
    escalation_push = models.BooleanField("Replies waiting too long", default=False)
    # The mobile is texted only once it has proved it is this person's: we text it a code, they type it here.
    # A changed text_to is unconfirmed again by itself (it no longer equals the confirmed one).
    text_to_confirmed = PhoneNumberField(blank=True)
    code_hash = models.CharField(max_length=64, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(default=now)

    EVENTS = ("missed_call", "reply", "escalation")

    def __str__(self) -> str:
        return f"Notifications for user {self.user_id}"

    @property
    def text_to_is_confirmed(self) -> bool:
        return bool(self.text_to) and str(self.text_to) == str(self.text_to_confirmed)

    def wants(self, event: str, channel: str) -> bool:
        """Whether this person chose `event` by `channel` (email, text or push), and a text can reach them."""
        return getattr(self, f"{event}_{channel}") and (channel != "text" or self.text_to_is_confirmed)


class PushSubscription(models.Model):
    """One browser or installed app where a person turned notifications on (the Push API's subscription): the
    push service's endpoint and the keys a message to it is encrypted with. Deleted when the person turns it
    off, or when the push service says the subscription is gone (404 or 410)."""

    user_id = models.BigIntegerField(db_index=True, help_text="accounts.User id (public schema).")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100, help_text="The browser's P-256 public key, base64url.")
    auth = models.CharField(max_length=40, help_text="The browser's 16-byte auth secret, base64url.")
    device = models.CharField(max_length=80, blank=True, help_text="What the person sees in their list.")
    created_at = models.DateTimeField(default=now)
    last_pushed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.device or self.endpoint[:40]


class EscalationSent(models.Model):
    """A caller's reply that was escalated, so a repeated task escalates it once."""

    message_id = models.BigIntegerField(unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"Escalated message {self.message_id}"


class AlertText(models.Model):
    """An alert texted to one of the business's people about a conversation: a text they send back from that
    mobile within ALERT_REPLY_WINDOW answers the caller of the latest one (inbox.staff_texts)."""

    user_id = models.BigIntegerField(help_text="accounts.User id (public schema).")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=now)

    class Meta:
        indexes = [models.Index(fields=["user_id", "-created_at"])]

    def __str__(self) -> str:
        return f"Alert to user {self.user_id} about conversation {self.conversation_id}"


class StaffTextReply(models.Model):
    """A staff member's text that answered an alert, once per provider sid (a repeated webhook sends nothing
    twice), and what became of it: the reply queued to the caller, or why not."""

    sid = models.CharField(max_length=64, unique=True)
    user_id = models.BigIntegerField(help_text="accounts.User id (public schema).")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    body = models.TextField()
    message_id = models.BigIntegerField(null=True, blank=True, help_text="The reply to the caller, if sent.")
    refused = models.CharField(max_length=200, blank=True, help_text="Why it was not sent to the caller.")
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"Text reply {self.sid}"
