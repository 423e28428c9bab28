"""Telnyx behind the provider interface (messaging.providers.Provider), chosen per agency by
messaging.carriers.provider_for: texts, line-type look-ups, outbound calls and the webhook signature.

- Sends go to `POST {base}/v2/messages` with `Authorization: Bearer <key>` and an `Idempotency-Key` the caller
  gives (the ledger row's): an attempt whose answer was lost is sent again with the same key and Telnyx answers
  with the message it already made, so there is never a second text and `find_sent` has nothing to look for.
- Errors come out as ProviderError with Telnyx's code; `opted_out`, `landline` and `unreachable` say what a code
  means for the caller (Telnyx's codes are not Twilio's: 40300 is Telnyx's "blocked by the recipient's STOP").
- Calls go to the TeXML Calls API, `POST {base}/v2/texml/calls/{TELNYX_TEXML_APP_ID}`, with Twilio's parameter
  names (From, To, Url or Texml, StatusCallback): Telnyx rings `To` from `From` and then runs the same TeXML our
  views answer Twilio with (telephony.callbacks, inbox.notifications' urgent call).
- Webhooks are signed with Ed25519 over `"<telnyx-timestamp>|<raw body>"`; `signature_valid` refuses a missing or
  malformed header, a wrong key, a changed body, and a timestamp more than five minutes away from now.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass

import requests
import urllib3
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .providers import Provider, ProviderError, SentMessage

SIGNATURE_TOLERANCE_SECONDS = 300

# Telnyx messaging error codes (developers.telnyx.com, "Messaging Error Code Reference") by what they mean here.
OPTED_OUT_CODES = frozenset({40300})  # the recipient texted STOP to this sender
LANDLINE_CODES = frozenset({40001})  # not routable: a landline or a number that cannot take texts
UNREACHABLE_CODES = frozenset({40001, 40008, 10002, 10016})  # undeliverable, invalid number, not E.164
RETRY_LATER_CODES = frozenset(
    {40002, 40004, 40006, 40011, 10011}
)  # spam (temporary), rejected, unavailable, rate

LINE_TYPES = {"mobile": "mobile", "fixed line": "landline", "voip": "voip"}


def signature_valid(
    *, public_key: str, signature: str, timestamp: str, body: bytes, now: float | None = None
) -> bool:
    """Whether Telnyx signed this body at this time with the key whose base64 is `public_key`."""
    if not (public_key and signature and timestamp.isdigit()):
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return False  # a replay, or a clock far off: either way not now
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + b"|" + body)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def opted_out(code: int | None) -> bool:
    return code in OPTED_OUT_CODES


def landline(code: int | None) -> bool:
    return code in LANDLINE_CODES


def unreachable(code: int | None) -> bool:
    return code in UNREACHABLE_CODES


def classify(status: int, body: dict) -> ProviderError:
    """A Telnyx error answer as the sender's ProviderError: 429, 5xx and the retry-later codes are transient;
    any other 4xx is permanent."""
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    raw = first.get("code")
    code = int(raw) if isinstance(raw, int | str) and str(raw).isdigit() else None
    message = f"Telnyx {status} {code or ''}: {first.get('title', '')} {first.get('detail', '')}".strip()
    if status == 429 or status >= 500 or code in RETRY_LATER_CODES:
        return ProviderError(message, code=code, status=status)
    return ProviderError(message, code=code, status=status, permanent=True)


@dataclass(frozen=True)
class TelnyxSettings:
    api_key: str
    base_url: str = "https://api.telnyx.com"
    timeout: float = 10.0
    messaging_profile_id: str = ""
    texml_app_id: str = ""  # the TeXML application outbound calls are placed through


class TelnyxProvider(Provider):
    name = "telnyx"

    def __init__(self, config: TelnyxSettings):
        self.config = config
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {config.api_key}", "Accept": "application/json"}
        )

    def _url(self, path: str) -> str:
        return self.config.base_url.rstrip("/") + path

    def send(
        self, *, from_number, to_number, body, status_callback, media_urls=(), key: str = ""
    ) -> SentMessage:
        payload = {"from": from_number, "to": to_number, "text": body}
        if status_callback:
            # Unset (a text to staff), Telnyx reports to the messaging profile's webhook: an empty URL would be
            # sent as one.
            payload["webhook_url"] = status_callback
        if media_urls:
            payload["media_urls"] = list(media_urls)  # an MMS: Telnyx fetches each public URL
        if self.config.messaging_profile_id:
            payload["messaging_profile_id"] = self.config.messaging_profile_id
        headers = {"Idempotency-Key": key} if key else {}
        try:
            answer = self.session.post(
                self._url("/v2/messages"), json=payload, headers=headers, timeout=self.config.timeout
            )
        except requests.ConnectTimeout as exc:  # never connected: nothing was sent
            raise ProviderError(f"could not connect: {exc}") from exc
        except requests.ConnectionError as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, urllib3.exceptions.NewConnectionError):  # refused: nothing was sent
                raise ProviderError(f"could not connect: {exc}") from exc
            raise ProviderError(f"no answer from Telnyx: {exc}", ambiguous=True) from exc
        except requests.RequestException as exc:  # the request may have left: sent again with the same key
            raise ProviderError(f"no answer from Telnyx: {exc}", ambiguous=True) from exc
        data = _json(answer)
        if answer.status_code >= 400:
            raise classify(answer.status_code, data)
        message = data.get("data") or {}
        recipients = message.get("to") or [{}]
        return SentMessage(
            sid=str(message.get("id", "")),
            status=str(recipients[0].get("status", "queued")),
            segments=message.get("parts"),
        )

    def find_sent(self, *, from_number, to_number, body, since):
        return None  # sends carry an Idempotency-Key: the resend is the reconciliation

    def opted_out(self, code):
        return opted_out(code)

    def landline(self, code):
        return landline(code)

    def unreachable(self, code):
        return unreachable(code)

    def call(self, *, from_number, to_number, twiml="", url="", status_callback=""):
        """Ring `to_number` from `from_number` through the TeXML application; when answered Telnyx runs `twiml`, or
        asks `url` (POST, on /hooks/telnyx/) what to do. Returns the CallSid its callbacks will carry."""
        if not self.config.texml_app_id:
            raise ProviderError(
                "Telnyx calls need TELNYX_TEXML_APP_ID (the TeXML application)", permanent=True
            )
        payload = {"From": from_number, "To": to_number}
        if twiml:
            payload["Texml"] = twiml
        else:
            payload.update(Url=url, Method="POST")
        if status_callback:
            payload.update(StatusCallback=status_callback, StatusCallbackMethod="POST")
        try:
            answer = self.session.post(
                self._url(f"/v2/texml/calls/{self.config.texml_app_id}"),
                json=payload,
                timeout=self.config.timeout,
            )
        except requests.ConnectTimeout as exc:  # never connected: nothing rang
            raise ProviderError(f"could not connect: {exc}") from exc
        except requests.RequestException as exc:
            # Never retried blindly (no idempotency key here): a call that did leave would ring the phone twice.
            raise ProviderError(f"no answer from Telnyx: {exc}", ambiguous=True) from exc
        data = _json(answer)
        if answer.status_code >= 400:
            raise classify(answer.status_code, data)
        # The answer is a flat call object; older versions of the API wrapped it in "data".
        body = data or {}
        made = body["data"] if isinstance(body.get("data"), dict) else body
        sid = made.get("call_sid") or made.get("sid")
        if not sid:
            raise ProviderError("Telnyx answered without a call id", ambiguous=True)
        return str(sid)

    def line_type(self, number):
        try:
            answer = self.session.get(
                self._url(f"/v2/number_lookup/{number}"),
                params={"type": "carrier"},
                timeout=self.config.timeout,
            )
        except requests.RequestException:
            return None
        if answer.status_code != 200:
            return None
        kind = ((_json(answer).get("data") or {}).get("carrier") or {}).get("type")
        return LINE_TYPES.get(kind, "other") if kind else None


def _json(answer: requests.Response) -> dict:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
