"""Telnyx's messaging webhooks (platform host), one URL for the messaging profile: `message.received` is an
inbound text, `message.sent` / `message.finalized` move an outbound one forward. Signed with Ed25519
(messaging.telnyx.signature_valid): unsigned, badly signed or stale is 403 and touches nothing; a field we need
missing is 400 naming it; a number we do not serve, or one whose agency is not on Telnyx, is 404. The view runs
the same services as Twilio's (inbound_receive, message_status_update): keywords, consent, delivery status and a
failure's error code (40300, the caller's STOP at the carrier, opts them out; messaging.telnyx)."""

import json
import logging

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Client
from accounts.selectors import client_for_webhook
from accounts.services import client_webhook_seen
from config.db import tenant_connection

from .carriers import TELNYX, carrier_name
from .media import media_in_telnyx_payload, media_receive
from .services import inbound_receive, message_status_update
from .telnyx import signature_valid

log = logging.getLogger(__name__)

# Telnyx's recipient statuses onto the words message_status_update knows (Twilio's).
STATUSES = {
    "queued": "queued",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "delivery_failed": "undelivered",
    "sending_failed": "failed",
    "delivery_unconfirmed": "sent",
}


def _text(reason: str, status: int) -> HttpResponse:
    return HttpResponse(reason, status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def telnyx_sms(request):
    body = request.body
    if not signature_valid(
        public_key=settings.TELNYX_PUBLIC_KEY,
        signature=request.headers.get("telnyx-signature-ed25519", ""),
        timestamp=request.headers.get("telnyx-timestamp", ""),
        body=body,
    ):
        log.warning("rejected unsigned, badly signed or stale Telnyx webhook to %s", request.path)
        return HttpResponseForbidden("Invalid telnyx-signature-ed25519", content_type="text/plain")
    try:
        data = json.loads(body)["data"]
        event_type, payload = data["event_type"], data["payload"]
    except (ValueError, KeyError, TypeError):
        return _text("Missing field: data.event_type or data.payload", 400)
    if event_type == "message.received":
        ours = ((payload.get("to") or [{}])[0] or {}).get("phone_number", "")
    elif event_type in ("message.sent", "message.finalized"):
        ours = (payload.get("from") or {}).get("phone_number", "")
    else:
        return _text("", 200)  # an event we do not use: taken, so Telnyx does not retry it
    if not payload.get("id") or not ours:
        return _text("Missing field: data.payload.id or our number", 400)
    media = media_in_telnyx_payload(payload) if event_type == "message.received" else []
    if isinstance(media, str):
        return _text(media, 400)
    client = client_for_webhook(number=ours)
    if (
        client is None
        or client.status not in (Client.Status.LIVE, Client.Status.PAUSED)
        or carrier_name(client) != TELNYX  # Telnyx does not carry this number for us
    ):
        return _text(f"No client is served at number {ours}", 404)
    client_webhook_seen(client=client)
    tenant_connection.set_tenant(client)
    try:
        with transaction.atomic():
            if event_type == "message.received":
                message = inbound_receive(
                    client=client,
                    sid=str(payload["id"]),
                    from_number=(payload.get("from") or {}).get("phone_number", ""),
                    body=payload.get("text") or "",
                )
                if message is not None and media:  # an MMS: its files kept and fetched like Twilio's
                    media_receive(client=client, message=message, media=media)
            else:
                recipient = (payload.get("to") or [{}])[0] or {}
                errors = payload.get("errors") or []
                raw = str(errors[0].get("code", "")) if errors and isinstance(errors[0], dict) else ""
                message_status_update(
                    client=client,
                    sid=str(payload["id"]),
                    status=STATUSES.get(str(recipient.get("status", "")), "sending"),
                    error_code=int(raw) if raw.isdigit() else None,
                    params={"NumSegments": str(payload["parts"])} if payload.get("parts") else {},
                )
    finally:
        tenant_connection.set_schema_to_public()
    return _text("", 200)
