"""Celery tasks for calls: fetch by id, call a service, in the client's schema."""

from celery import shared_task

from accounts.schemas import in_schema_of
from accounts.selectors import client_for_task
from config.outbound import OutboundError

from . import voicemail
from .models import Call


@shared_task(
    time_limit=90,
    soft_time_limit=75,
    ignore_result=True,
    autoretry_for=(OutboundError,),
    retry_backoff=5,
    max_retries=5,
)
def voicemail_fetch(client_id: int, call_id: int) -> str:
    """Copy a voicemail's audio from Twilio into our storage; Twilio sometimes posts the callback a moment
    before the file is served, hence the retries."""
    client = client_for_task(client_id)
    with in_schema_of(client):
        return voicemail.voicemail_fetch(client=client, call=Call.objects.get(pk=call_id))
