"""Walk a call through the real, signed voice webhooks, as Twilio would: for demos and a new client's first
check. The server at PUBLIC_BASE_URL (or --base-url) must be running, and a worker for the text-back to go
out; the command then waits for the text-back and prints it, or says why none was sent."""

import time
import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator

from accounts.models import Client
from crm.phone import e164_or_none, is_anonymous
from messaging.models import Message, OutboundSend
from messaging.reasons import reason_text
from telephony.models import Call

# How long past the client's text delay to wait for the worker before saying the text has not gone out yet.
WAIT_SECONDS = 20


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class Command(BaseCommand):
    help = "Simulate an inbound call to a client: unanswered (default), answered, or hung up after S seconds."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="The client's slug.")
        parser.add_argument(
            "--from", dest="caller", required=True, help="The caller, E.164 (or 'anonymous')."
        )
        outcome = parser.add_mutually_exclusive_group()
        outcome.add_argument("--answered", action="store_true", help="Someone takes it (presses 1).")
        outcome.add_argument(
            "--hangup-after", type=int, metavar="S", help="The caller hangs up after S seconds."
        )
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL)
        parser.add_argument(
            "--no-wait", action="store_true", help="Do not wait for the text-back to be sent or skipped."
        )

    def handle(self, *args, client, caller, answered, hangup_after, base_url, no_wait, **options):
        target = Client.objects.filter(slug=client).first()
        if target is None:
            raise CommandError(f"--client: no client with slug “{client}”.")
        if target.phone_number is None:
            raise CommandError(f"{target.name} has no Textback number yet.")
        if not is_anonymous(caller) and e164_or_none(caller) is None:
            raise CommandError(f"--from: {caller!r} is not an E.164 number (or 'anonymous').")
        if hangup_after is not None and hangup_after < 0:
            raise CommandError("--hangup-after must be zero or more seconds.")
        if not settings.TWILIO_AUTH_TOKEN:
            raise CommandError("TWILIO_AUTH_TOKEN is not set, so the webhooks cannot be signed.")
        self.base_url = base_url.rstrip("/")
        self.validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        call_sid, number = _sid("CA"), str(target.phone_number)
        common = {
            "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
            "From": caller,
            "To": number,
            "CallSid": call_sid,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }

        self.post("/hooks/twilio/voice/incoming/", {**common, "CallStatus": "ringing"})
        if target.call_mode == Client.CallMode.CARRIER:
            self.post(
                "/hooks/twilio/voice/status/", {**common, "CallStatus": "completed", "CallDuration": "8"}
            )
        elif answered:
            child = {
                "CallSid": _sid("CA"),
                "ParentCallSid": call_sid,
                "From": caller,
                "To": str(target.forward_to),
                "AccountSid": common["AccountSid"],
            }
            self.post(f"/hooks/twilio/voice/screen/?c={target.slug}", {**child, "CallStatus": "in-progress"})
            self.post(f"/hooks/twilio/voice/screen-result/?c={target.slug}", {**child, "Digits": "1"})
            self.post(
                "/hooks/twilio/voice/dial-complete/",
                {
                    **common,
                    "CallStatus": "in-progress",
                    "DialCallStatus": "completed",
                    "DialCallSid": child["CallSid"],
                    "DialCallDuration": "42",
                },
            )
            self.post(
                "/hooks/twilio/voice/status/", {**common, "CallStatus": "completed", "CallDuration": "50"}
            )
        elif hangup_after is not None:
            self.post(
                "/hooks/twilio/voice/status/",
                {**common, "CallStatus": "completed", "CallDuration": str(hangup_after)},
            )
        else:
            self.post(
                "/hooks/twilio/voice/dial-complete/",
                {**common, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
            )
            self.post(
                "/hooks/twilio/voice/status/",
                {**common, "CallStatus": "completed", "CallDuration": str(target.ring_timeout_seconds)},
            )
        self.stdout.write(f"call {call_sid} from {caller} to {target.name} done")
        if not no_wait:
            self.stdout.write(self.textback_outcome(target, call_sid))

    def textback_outcome(self, client: Client, call_sid: str) -> str:
        """What became of the call's text-back: its text, why it was not sent, or that it is still waiting."""
        deadline = time.monotonic() + client.text_delay_seconds + WAIT_SECONDS
        while True:
            send = OutboundSend.objects.filter(client=client, call_sid=call_sid).first()
            if send is None:
                with tenant_context(client):
                    call = Call.objects.filter(call_sid=call_sid).first()
                if call is not None and call.outcome in (Call.Outcome.ANSWERED, Call.Outcome.ABANDONED):
                    return f"No text-back: the call was {call.get_outcome_display().lower()}."
            elif send.state == OutboundSend.State.SENT:
                with tenant_context(client):
                    message = Message.objects.filter(pk=send.message_id).first() if send.message_id else None
                body = message.body if message else "(the message row is gone)"
                return f"Text-back sent to {send.to_number}:\n  {body}"
            elif send.state in (OutboundSend.State.SKIPPED, OutboundSend.State.FAILED):
                detail = f" ({send.detail})" if send.detail else ""
                return f"No text-back: {reason_text(send.reason)}{detail}."
            if time.monotonic() > deadline:
                return (
                    "The text-back has not gone out yet (is a worker running? `./run demo` starts one); "
                    "it appears in the client's inbox when it does."
                )
            time.sleep(0.3)

    def post(self, path: str, params: dict) -> None:
        url = self.base_url + path
        signature = self.validator.compute_signature(url, params)
        try:
            response = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
        except requests.RequestException as exc:
            raise CommandError(f"{url}: {exc} (is the server running?)") from None
        self.stdout.write(f"POST {path} → {response.status_code}")
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}: {response.text[:200]}")
