"""Staff-only things around a conversation (client schema)."""

from django.db import models
from django.utils.timezone import now

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
