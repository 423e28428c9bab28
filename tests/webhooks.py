"""Posting webhooks the way Twilio does: form-encoded, signed with RequestValidator over PUBLIC_BASE_URL."""

import uuid
from urllib.parse import urlencode

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
    return inbound_call_params(caller=caller, to=str(client.phone_number), **extra)


def inbound_call_params(*, caller: str, to: str, **extra) -> dict:
    """What Twilio posts when a call comes in (`extra` adds or overrides: AccountSid, CallSid, …)."""
    return {
        "AccountSid": extra.pop("AccountSid", None) or settings.TWILIO_ACCOUNT_SID,
        "CallSid": extra.pop("CallSid", None) or sid("CA"),
        "From": caller,
        "To": to,
        "Direction": "inbound",
        "CallStatus": "ringing",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def where_from(*, caller: str, to: str) -> dict:
    """The places Twilio adds to a US call's parameters (the benchmarks send them, so bodies have their real
    size)."""
    here = {"City": "CHICAGO", "Country": "US", "State": "IL"}
    return {
        "Called": to,
        "Caller": caller,
        **{
            f"{side}{key}": value
            for side in ("Called", "Caller", "From", "To")
            for key, value in here.items()
        },
        **{
            f"{side}Zip": "60601" if side in ("Called", "To") else "60614"
            for side in ("Called", "Caller", "From", "To")
        },
    }


def signed_body(path: str, params: dict, *, base_url: str, token: str) -> tuple[bytes, str]:
    """The form body and its X-Twilio-Signature, for a client of its own (the benchmarks' load generators)."""
    return urlencode(params).encode(), signature(path, params, base_url=base_url, token=token)


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
