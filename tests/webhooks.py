"""Posting webhooks the way Twilio does: form-encoded, signed with RequestValidator over PUBLIC_BASE_URL."""

import uuid

from django.conf import settings
from twilio.request_validator import RequestValidator


def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def signature(path: str, params: dict, *, base_url: str | None = None, token: str | None = None) -> str:
    url = f"{base_url or settings.PUBLIC_BASE_URL}{path}"
    return RequestValidator(token or settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


def post_signed(web_client, path: str, params: dict, *, token: str | None = None):
    """POST `params` to `path` on the platform host, signed as Twilio signs it."""
    return web_client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature(path, params, token=token))


def call_params(client, caller: str, **extra) -> dict:
    return {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "CallSid": sid("CA"),
        "From": caller,
        "To": str(client.phone_number),
        "Direction": "inbound",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def sms_params(client, caller: str, body: str, **extra) -> dict:
    return {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "MessageSid": sid("SM"),
        "SmsSid": "",
        "From": caller,
        "To": str(client.phone_number),
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ApiVersion": "2010-04-01",
        **extra,
    }
