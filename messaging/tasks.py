"""Celery tasks: thin wrappers that fetch by id and call a service (see messaging.services)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from accounts.models import Client, ClientMembership
from accounts.services import client_url

from . import services
from .models import Message

log = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def deliver_send(send_id: int) -> str:
    """Work one ledger row. Idempotent: a repeat finds the row taken, sent or skipped and does nothing."""
    return services.send_deliver(send_id=send_id)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def sweep_due_sends() -> int:
    return services.sweep_due_sends()


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def notify_reply(client_id: int, message_id: int) -> int:
    """Email the client's people that a caller replied. Runs in the client's schema (the task carries it)."""
    client = Client.objects.get(pk=client_id)
    message = Message.objects.select_related("conversation__contact").get(pk=message_id)
    emails = list(
        ClientMembership.objects.filter(client=client).values_list("user__email", flat=True)
    )
    if not emails:
        return 0
    contact = message.conversation.contact
    return send_mail(
        subject=f"{contact.display_name} replied to {client.name}",
        message=f"{contact.display_name} wrote:\n\n{message.body}\n\nAnswer it: {client_url(client)}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=emails,
        fail_silently=True,
    )
