"""Walk a call through the real, signed voice webhooks, as Twilio would: for demos and a new client's first
check. The server at PUBLIC_BASE_URL (or --base-url) must be running."""

import uuid

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from twilio.request_validator import RequestValidator

from accounts.models import Client
from crm.phone import e164_or_none, is_anonymous


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class Command(BaseCommand):
    help = "Simulate an inbound call to a client: unanswered (default), answered, or hung up after S seconds."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="The client's slug.")
        parser.add_argument("--from", dest="caller", required=True, help="The caller, E.164 (or 'anonymous').")
        outcome = parser.add_mutually_exclusive_group()
        outcome.add_argument("--answered", action="store_true", help="Someone takes it (presses 1).")
        outcome.add_argument("--hangup-after", type=int, metavar="S", help="The caller hangs up after S seconds.")
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL)

    def handle(self, *args, client, caller, answered, hangup_after, base_url, **options):
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
        common = {"AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32, "From": caller, "To": number,
                  "CallSid": call_sid, "Direction": "inbound", "ApiVersion": "2010-04-01"}

        self.post("/hooks/twilio/voice/incoming/", {**common, "CallStatus": "ringing"})
        if target.call_mode == Client.CallMode.CARRIER:
            self.post("/hooks/twilio/voice/status/", {**common, "CallStatus": "completed", "CallDuration": "8"})
        elif answered:
            child = {"CallSid": _sid("CA"), "ParentCallSid": call_sid, "From": caller,
                     "To": str(target.forward_to), "AccountSid": common["AccountSid"]}
            self.post(f"/hooks/twilio/voice/screen/?c={target.slug}", {**child, "CallStatus": "in-progress"})
            self.post(f"/hooks/twilio/voice/screen-result/?c={target.slug}", {**child, "Digits": "1"})
            self.post("/hooks/twilio/voice/dial-complete/",
                      {**common, "CallStatus": "in-progress", "DialCallStatus": "completed",
                       "DialCallSid": child["CallSid"], "DialCallDuration": "42"})
            self.post("/hooks/twilio/voice/status/", {**common, "CallStatus": "completed", "CallDuration": "50"})
        elif hangup_after is not None:
            self.post("/hooks/twilio/voice/status/",
                      {**common, "CallStatus": "completed", "CallDuration": str(hangup_after)})
        else:
            self.post("/hooks/twilio/voice/dial-complete/",
                      {**common, "CallStatus": "in-progress", "DialCallStatus": "no-answer"})
            self.post("/hooks/twilio/voice/status/",
                      {**common, "CallStatus": "completed", "CallDuration": str(target.ring_timeout_seconds)})
        self.stdout.write(f"call {call_sid} from {caller} to {target.name} done")

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
