"""Call back from the inbox. A button in the thread asks the client's carrier (Twilio's Calls API, or Telnyx's
TeXML Calls API: messaging.carriers.provider_for) to ring the staff member's own mobile (the one they confirmed in
Inbox → Notifications) from the business's number; when they answer, the carrier asks us what to do
(/hooks/<carrier>/voice/callback/connect/) and we <Dial> the caller with the business's number as caller ID, so
the caller sees the number they called. The <Dial>'s action (/callback/done/) says how it went and for how long;
the staff leg's status callback (/callback/status/) says when their own phone never answered. Every URL is on the
door of the carrier that places the call, where its signature is checked (messaging.webhooks).

Every step is keyed by the Callback row (its id in the signed callback URLs), written before Twilio is asked, so
a webhook can never arrive for a row that does not exist yet.
"""

import logging

from django.utils.timezone import now
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import Client
from crm.models import Contact
from messaging.carriers import TELNYX, carrier_name, provider_for
from messaging.providers import ProviderError
from messaging.services import staff_number_problem
from messaging.webhooks import webhook_url

from .models import Callback

log = logging.getLogger(__name__)

# How long the caller's phone rings before we give up on them.
CALLER_RING_SECONDS = 30

DIAL_OUTCOMES = {
    "completed": Callback.Status.TALKED,
    "answered": Callback.Status.TALKED,
    "no-answer": Callback.Status.NO_ANSWER,
    "busy": Callback.Status.BUSY,
    "failed": Callback.Status.FAILED,
    "canceled": Callback.Status.FAILED,
}
FINISHED = {Callback.Status.TALKED, Callback.Status.NO_ANSWER, Callback.Status.BUSY, Callback.Status.FAILED}


class CallbackRefused(Exception):
    """Why the call cannot be placed, in words for the person who clicked."""


def _door(client: Client) -> str:
    """The hooks prefix of the carrier that carries this client's calls (the console's is Twilio's)."""
    return "telnyx" if carrier_name(client) == TELNYX else "twilio"


def callback_hook(client: Client, callback: Callback, step: str) -> str:
    """The signed-over URL of one step of a call back (connect, done, status), on the client's carrier's door."""
    return webhook_url(f"/hooks/{_door(client)}/voice/callback/{step}/", c=client.slug, cb=str(callback.pk))


def callback_start(*, client: Client, contact: Contact, user_id: int, staff_number: str) -> Callback:
    """Ring the staff member's phone, to connect them to this caller. In the client's schema."""
    if not client.phone_number:
        raise CallbackRefused("This business has no Textback number to call from yet.")
    if not staff_number:
        raise CallbackRefused(
            "Confirm your mobile number in Inbox → Notifications first: we ring it, then the caller."
        )
    problem = staff_number_problem(number=staff_number)
    if problem:
        raise CallbackRefused(f"Your mobile can't be rung: {problem}.")
    callback = Callback.objects.create(
        contact=contact, to_number=contact.phone_number, staff_number=staff_number, placed_by_id=user_id
    )
    try:
        # Through the agency's carrier: on Twilio from its own (sub)account, where the business's number is.
        sid = provider_for(client).call(
            from_number=str(client.phone_number),
            to_number=staff_number,
            url=callback_hook(client, callback, "connect"),
            status_callback=callback_hook(client, callback, "status"),
        )
    except ProviderError as exc:
        log.warning("call back to %s not placed: %s", contact.phone_number, exc)
        Callback.objects.filter(pk=callback.pk).update(status=Callback.Status.FAILED, ended_at=now())
        carrier = _door(client).capitalize()
        raise CallbackRefused(f"{carrier} could not place the call; try again in a moment.") from exc
    Callback.objects.filter(pk=callback.pk).update(call_sid=sid)
    callback.call_sid = sid
    return callback


def callback_for(raw_id: str) -> Callback | None:
    return Callback.objects.filter(pk=int(raw_id)).first() if raw_id.isdigit() else None


def callback_connect(*, client: Client, callback: Callback) -> VoiceResponse:
    """The staff member picked up: dial the caller from the business's number."""
    response = VoiceResponse()
    if callback.status in FINISHED:
        response.hangup()
        return response
    Callback.objects.filter(pk=callback.pk).update(status=Callback.Status.CONNECTING)
    response.say(f"Calling your caller back for {client.name}.")
    dial = response.dial(
        caller_id=str(client.phone_number),
        timeout=CALLER_RING_SECONDS,
        action=callback_hook(client, callback, "done"),
        method="POST",
    )
    dial.number(callback.to_number)
    return response


def callback_done(*, callback: Callback, dial_status: str, duration: int | None) -> Callback:
    """The <Dial> to the caller ended: how it went, and how long they talked."""
    status = DIAL_OUTCOMES.get(dial_status, Callback.Status.FAILED)
    callback.status = status
    callback.duration_seconds = duration if status == Callback.Status.TALKED else None
    callback.ended_at = now()
    callback.save(update_fields=["status", "duration_seconds", "ended_at"])
    return callback


def callback_staff_leg(*, callback: Callback, call_status: str) -> Callback:
    """The staff leg's status callback: if their phone never answered, the call back ends there."""
    if callback.status == Callback.Status.RINGING_STAFF and call_status in (
        "no-answer",
        "busy",
        "failed",
        "canceled",
    ):
        callback.status = Callback.Status.STAFF_MISSED
        callback.ended_at = now()
        callback.save(update_fields=["status", "ended_at"])
    elif call_status == "completed" and callback.ended_at is None:
        callback.ended_at = now()
        callback.save(update_fields=["ended_at"])
    return callback
