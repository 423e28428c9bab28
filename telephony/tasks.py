"""Celery tasks for calls: fetch by id, call a service, in the client's schema."""

from celery import shared_task

from accounts.models import Client
from accounts.schemas import in_schema_of
from accounts.selectors import client_for_task
from config.outbound import OutboundError
from messaging import media

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


@shared_task(time_limit=300, soft_time_limit=270, ignore_result=True)
def copies_sweep() -> int:
    """Voicemails and callers' photos not copied yet, queued once more (messaging.media.SWEEP_WINDOW): a broker that
    was down when the webhook committed loses the first try, never the file. Two queries per live client."""
    queued = 0
    for client in Client.objects.select_related("agency").filter(
        status__in=(Client.Status.LIVE, Client.Status.PAUSED)
    ):
        with in_schema_of(client):
            queued += media.media_sweep(client=client) + voicemail.voicemail_sweep(client=client)
    return queued
