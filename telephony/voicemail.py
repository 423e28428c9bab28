"""Voicemail: a caller nobody answered (forward mode, once the dial gave up; carrier mode, at once) hears the
client's greeting and may leave a message (<Record>, at most Client.voicemail_max_seconds), unless the client
chose to hang up instead (Client.voicemail). The call is already recorded as missed and its text-back queued
before the greeting plays: a voicemail never holds the text back.

The carrier then posts twice, signed like every webhook and on its own door (Twilio's /hooks/twilio/, Telnyx's
TeXML /hooks/telnyx/): the recording status callback (the recording's sid, URL and length) and, a little later,
the transcription callback (its text). The audio is copied into Django's storage by a task through config.outbound
(messaging.media.carrier_media_fetch: Twilio's behind HTTP basic auth of the account the number lives in,
Telnyx's from its pre-signed link, good for 10 minutes, then from a fresh one its Recordings API gives), so the
thread plays our copy and only the client's people can hear it (inbox.views.voicemail).
"""

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils.timezone import now
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Client
from config import outbound
from messaging.carriers import TELNYX, carrier_name
from messaging.media import SWEEP_WINDOW, carrier_media_fetch, telnyx_media_fetch, telnyx_recording_link
from messaging.models import Conversation
from messaging.services import conversation_for
from messaging.webhooks import callback_url, carrier_of

from .models import Call

log = logging.getLogger(__name__)

MAX_RECORDING_BYTES = 20 * 1024 * 1024  # ten minutes of Twilio's mono mp3 is about 5 MB


def default_greeting(client: Client) -> str:
    """The greeting a client who wrote none gets: its name, and what happens next."""
    if not client.voicemail:
        return f"Sorry we couldn't get to the phone at {client.name}. We'll get back to you shortly."
    return (
        f"Sorry we couldn't get to the phone at {client.name}. Please leave a message after the tone; "
        "we'll text you as well."
    )


def voicemail_twiml(request, client: Client) -> VoiceResponse:
    """What a caller nobody answered hears: the greeting and the tone, or the greeting and goodbye. The
    callbacks go to the door of the carrier that asked (request): Telnyx signs them its own way, and Twilio's door
    would refuse them."""
    response = VoiceResponse()
    response.say(client.voicemail_greeting.strip() or default_greeting(client))
    if not client.voicemail:
        response.hangup()
        return response
    transcription_url = callback_url(request, "voice/transcription/", c=client.slug)
    # The one attribute pair TeXML names differently: Twilio's transcribe/transcribeCallback are Telnyx's
    # transcription/transcriptionCallback (the callback's fields are the same).
    if carrier_of(request) == TELNYX:
        transcription = {"transcription": True, "transcription_callback": transcription_url}
    else:
        transcription = {"transcribe": True, "transcribe_callback": transcription_url}
    response.record(
        max_length=client.voicemail_max_seconds,
        play_beep=True,
        trim="trim-silence",
        action=callback_url(request, "voice/voicemail-done/", c=client.slug),
        method="POST",
        recording_status_callback=callback_url(request, "voice/recording/", c=client.slug),
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
        **transcription,
    )
    response.hangup()
    return response


def voicemail_recorded(
    *, client: Client, call_sid: str, recording_sid: str, url: str, seconds: int | None
) -> Call | None:
    """The recording status callback (completed): the voicemail is on the call, and its audio is fetched once
    the transaction commits. Idempotent on the recording's sid. None for a call we never saw."""
    call = (
        Call.objects.select_for_update(no_key=True, of=("self",))
        .select_related("contact")
        .filter(call_sid=call_sid)
        .first()
    )
    if call is None:
        return None
    if call.recording_sid == recording_sid:
        return call  # Twilio's retry
    call.recording_sid, call.recording_url, call.recording_seconds = recording_sid, url[:2000], seconds
    call.save(update_fields=["recording_sid", "recording_url", "recording_seconds"])
    if call.contact is not None:
        # A voicemail is the caller speaking to the business: their thread shows it (started now if no text went
        # out, e.g. to a landline) and comes back to the top of the inbox, unread, like a reply.
        conversation = conversation_for(contact=call.contact)
        Conversation.objects.filter(pk=conversation.pk).update(
            last_activity_at=now(), status=Conversation.Status.OPEN, unread_count=F("unread_count") + 1
        )
    from .tasks import voicemail_fetch  # a task module imports the services it runs; this is the reverse

    transaction.on_commit(lambda: _queue(voicemail_fetch, client.pk, call.pk))
    return call


def _queue(task, *args) -> None:
    try:
        task.apply_async(args, retry=False)
    except (
        Exception
    ) as exc:  # a broker that is down costs the copy now; the thread falls back to Twilio's note
        log.warning("could not queue %s: %s", task.name, exc)


def voicemail_sweep(*, client: Client) -> int:
    """Queue the copy again for this client's voicemails still not copied, once (messaging.media.SWEEP_WINDOW
    after the call began; a voicemail lasts at most 10 minutes). A Telnyx link is dead by then: voicemail_fetch
    asks Telnyx for a fresh one."""
    moment = now()
    ids = list(
        Call.objects.filter(
            recording_file="",
            started_at__gt=moment - SWEEP_WINDOW[1],
            started_at__lte=moment - SWEEP_WINDOW[0],
        )
        .exclude(recording_url="")
        .values_list("pk", flat=True)
    )
    from .tasks import voicemail_fetch

    for pk in ids:
        _queue(voicemail_fetch, client.pk, pk)
    return len(ids)


def voicemail_transcribed(*, call_sid: str, recording_sid: str, text: str, status: str) -> Call | None:
    call = Call.objects.filter(call_sid=call_sid).first()
    if call is None:
        return None
    call.transcript = text if status == "completed" else ""
    call.transcript_status = status[:12]
    if not call.recording_sid:
        call.recording_sid = recording_sid  # the transcription raced ahead of the recording's own callback
    call.save(update_fields=["transcript", "transcript_status", "recording_sid"])
    return call


def voicemail_fetch(*, client: Client, call: Call) -> str:
    """Copy the voicemail's audio into Django's storage (in the client's schema). Returns the stored name."""
    if call.recording_file or not call.recording_url:
        return call.recording_file
    # Twilio's RecordingUrl names the recording; its audio is that with .mp3. Telnyx's is the mp3 file itself.
    on_telnyx = carrier_name(client) == TELNYX
    url = call.recording_url if on_telnyx else f"{call.recording_url}.mp3"
    try:
        try:
            answer = carrier_media_fetch(url, client=client, max_bytes=MAX_RECORDING_BYTES)
        except outbound.OutboundError as exc:
            if not on_telnyx or isinstance(exc, outbound.OutboundRefused) or not call.recording_sid:
                raise
            # Telnyx's link is dead 10 minutes after the call (a late retry, the sweep): ask for a fresh one.
            fresh = telnyx_recording_link(call.recording_sid)
            answer = telnyx_media_fetch(fresh, max_bytes=MAX_RECORDING_BYTES)
    except outbound.OutboundRefused as exc:  # not the carrier's to give: never fetched, never retried
        log.warning("voicemail of call %s not fetched: %s", call.call_sid, exc)
        return ""
    # Twilio's is always the mp3 asked for; Telnyx's is mp3 too, or a WAV where its link says so (its own host).
    extension = "wav" if answer.body[:4] == b"RIFF" and answer.body[8:12] == b"WAVE" else "mp3"
    name = default_storage.save(
        f"voicemail/{client.schema_name}/{call.call_sid}.{extension}", ContentFile(answer.body)
    )
    Call.objects.filter(pk=call.pk).update(recording_file=name)
    return name
