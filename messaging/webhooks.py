"""What every Twilio webhook shares: the signature check, required parameters, and finding the client.

A request without a valid X-Twilio-Signature (computed with the token of the account its AccountSid names;
an unknown AccountSid is refused) is 403 and touches nothing; a missing parameter is 400 naming
it; a number (or client) we do not serve is 404. The view then runs in the client's schema.
"""

import functools
import hmac
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

from accounts.models import Client
from accounts.selectors import client_for_webhook
from accounts.services import client_webhook_seen
from config.db import tenant_connection

from .carriers import TELNYX, carrier_name
from .telnyx import signature_valid
from .twilio_accounts import signer_for

log = logging.getLogger(__name__)


def _bad_request(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=400, content_type="text/plain")


def _not_found(reason: str) -> HttpResponse:
    return HttpResponse(reason, status=404, content_type="text/plain")


def webhook_url(path: str, **query: str) -> str:
    """The absolute URL Twilio is to call back, on PUBLIC_BASE_URL (what its signature is computed over)."""
    return f"{settings.PUBLIC_BASE_URL}{path}" + (f"?{urlencode(query)}" if query else "")


def signature_is_valid(request) -> bool:
    """Signed with the auth token of the account named by AccountSid: the platform's, or an agency's subaccount
    or own account (a subaccount signs with its own token). An AccountSid we do not know is refused before any
    signature is computed."""
    signature = request.headers.get("X-Twilio-Signature", "")
    signer = signer_for(request.POST.get("AccountSid", "").strip())
    request.twilio_signer = signer  # the wrapper checks the number belongs to the signer's agency
    if not signature or signer is None:
        return False
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    validator, params = RequestValidator(signer.auth_token), _SignedParams(request.POST.dict())
    # Twilio signs the URL it called, which is ours exactly: one HMAC. validate() computes two (the URL with and
    # without its port, as Twilio's signing has differed there) and is asked only when that one does not match.
    exact = validator.compute_signature(url, params)
    return hmac.compare_digest(exact.encode(), signature.encode()) or validator.validate(
        url, params, signature
    )


class _SignedParams(dict):
    """The form parameters as the validator reads them: it asks for each one's values through getall() (Flask's
    MultiDict), then getlist() (Django's QueryDict), and only then reads a plain dict, after two exceptions per
    parameter (most of the cost of a signature check). One value per parameter, as QueryDict.dict() gives."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


TELNYX_PREFIX = "/hooks/telnyx/"


def carrier_of(request) -> str:
    """Which carrier's door a voice webhook came through: Telnyx's TeXML reuses Twilio's voice views (the same
    verbs and form fields), under /hooks/telnyx/ and with its own signature."""
    return "telnyx" if request.path.startswith(TELNYX_PREFIX) else "twilio"


def callback_url(request, path: str, **query: str) -> str:
    """A callback URL on the same carrier's door as this request (`path` under /hooks/<carrier>/)."""
    return webhook_url(f"/hooks/{carrier_of(request)}/{path}", **query)


def _signed(request) -> bool:
    if carrier_of(request) == "telnyx":
        return signature_valid(
            public_key=settings.TELNYX_PUBLIC_KEY,
            signature=request.headers.get("telnyx-signature-ed25519", ""),
            timestamp=request.headers.get("telnyx-timestamp", ""),
            body=request.body,
        )
    return signature_is_valid(request)


def twilio_webhook(*, required: tuple[str, ...], client_by: str):
    """Decorate a view(request, client, params). `client_by` names where the client comes from: a form
    parameter holding our number ("To", "From"), or "slug" for the `c` query parameter we put in the
    callback URLs we hand Twilio for legs that do not carry our number."""

    def decorator(view):
        @csrf_exempt
        @require_POST
        @functools.wraps(view)
        def wrapper(request):
            if not _signed(request):
                log.warning("rejected unsigned or badly signed webhook to %s", request.path)
                return HttpResponseForbidden("Invalid signature", content_type="text/plain")
            params = request.POST.dict()
            missing = [name for name in required if not params.get(name, "").strip()]
            if missing:
                return _bad_request(f"Missing parameter: {', '.join(missing)}")
            if client_by == "slug":
                slug = request.GET.get("c", "")
                if not slug:
                    return _bad_request("Missing query parameter: c")
                client = client_for_webhook(slug=slug)
                what = f"client {slug!r}"
            else:
                number = params.get(client_by, "").strip()
                if not number:
                    return _bad_request(f"Missing parameter: {client_by}")
                client = client_for_webhook(number=number)
                what = f"number {number}"
            if client is None or client.status not in (Client.Status.LIVE, Client.Status.PAUSED):
                return _not_found(f"No client is served at {what}")
            if carrier_of(request) == TELNYX and carrier_name(client) != TELNYX:
                # Telnyx signed a webhook about a number it does not carry for us. (Twilio's door asks nothing
                # more: its signer check below already ties the number to the account; no query added there.)
                return _not_found(f"No client is served at {what}")
            signer = request.twilio_signer.agency_id if carrier_of(request) != TELNYX else None
            if signer is not None and signer != client.agency_id:
                # An agency's own account signed a webhook about another agency's number: it holds no such
                # number, so it reads as one we do not serve (the platform's account signs for every subaccount).
                return _not_found(f"No client is served at {what}")
            client_webhook_seen(client=client)
            tenant_connection.set_tenant(client)
            try:
                # One transaction for the whole webhook: one commit (one WAL flush) instead of one per write,
                # and a failure half-way leaves nothing behind for Twilio's retry to trip over.
                with transaction.atomic():
                    return view(request, client, params)
            finally:
                tenant_connection.set_schema_to_public()

        return wrapper

    return decorator


def twiml(response) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def bad_parameter(reason: str) -> HttpResponse:
    return _bad_request(reason)


def not_found(reason: str) -> HttpResponse:
    return _not_found(reason)
