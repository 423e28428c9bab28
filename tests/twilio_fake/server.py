"""A local fake of the part of Twilio's REST API that Textback uses, faked only at the HTTP boundary.

The app talks to it with the real `twilio` library through an HTTP client that rewrites the scheme and host of
every request URL to FakeTwilio.base_url, so the fake sees the real paths:

    POST /2010-04-01/Accounts.json                              CreateAccount    → 201 subaccount (with its token)
    GET  /2010-04-01/Accounts/{Sid}.json                        FetchAccount     → 200 account | 404
    POST /2010-04-01/Accounts/{Sid}.json                        UpdateAccount    → 200 (Status=closed …)
    POST /2010-04-01/Accounts/{AccountSid}/Messages.json        CreateMessage    → 201 message
    TrustHub v1 (CustomerProfiles, EndUsers, TrustProducts, their EntityAssignments) and Messaging v1
    (a2p/BrandRegistrations, Services, their PhoneNumbers and Compliance/Usa2p): A2P 10DLC registration, each
    resource kept per account; set_brand_status / set_campaign_status play the carriers' review
    POST /2010-04-01/Accounts/{AccountSid}/Addresses.json       CreateAddress    → 201 address (AD…)
    GET  …/Usage/Records/ThisMonth.json, LastMonth.json          usage per account (set_usage, or its texts)
    Numbers v2 HostedNumber/Orders (create, fetch, update for the verification call, delete) and
    AuthorizationDocuments (fetch): Hosted SMS; refuse_hosting (22110), answer_verification, sign_loa and
    set_hosted_order_status play the owner, Twilio and the carriers; TrustHub SupportingDocuments, a sole
    proprietor's brand OTP (answer_brand_otp) and bundle_review (a signed StatusCallback to deliver)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json        ListMessage      → 200 page, newest first
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json  FetchMessage     → 200 message | 404
    GET  /v2/PhoneNumbers/{PhoneNumber}                         FetchPhoneNumber → 200 lookup (lookups.twilio.com)
    GET  /2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json
                                                 ListAvailablePhoneNumberLocal → 200 page (AreaCode filter)
    POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json       CreateIncomingPhoneNumber → 201 | 400 21422
    GET  /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json       ListIncomingPhoneNumber   → 200 page
    POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json UpdateIncomingPhoneNumber → 200 | 404
    DELETE (the same path)                                                 DeleteIncomingPhoneNumber → 204 | 404
    POST /2010-04-01/Accounts/{AccountSid}/Calls.json           CreateCall       → 201 call (queued) | 400
    GET  a media URL (a recording's .mp3, an MMS's Media/{Sid})  the bytes put there by add_media, with the
         credentials of the account named in its path or of its parent (as Twilio's "HTTP Basic Authentication
         for media" asks); 404 for any other account's. A message's media answers 307 to a link on Twilio's
         CDN (mms.twiliocdn.com), served without credentials, as Twilio does. Twilio's
         OpenAPI describes the .json resources, not the files, so these are served outside the spec's checks.

Accounts: the main account (account_sid, auth_token), the subaccounts it creates, and other top-level accounts a test
adds (add_account: an agency's own Twilio account). A request authenticates as one account and may act on it and
on its subaccounts only (another account's resources are 404, as for Twilio); messages and numbers belong to the
account in their path, a status callback is signed with its account's token, and a parent moves a number between
its subaccounts with UpdateIncomingPhoneNumber's AccountSid.

Every request is checked against Twilio's OpenAPI (twilio_spec_subset.json, made by extract_spec.py): unknown
paths, methods and parameters, missing required ones and values of the wrong type are answered like Twilio
would (400/404/405 with Twilio's error JSON) and recorded in `fake.violations`.

    with FakeTwilio() as fake:
        ...  # point the app at fake.base_url, fake.account_sid, fake.auth_token
        fake.reject("+15005550009", 21610)
        fake.fail_next(429)
        fake.add_incoming_number("+13125550100")  # a number the account already holds
        fake.take_number("+13125550110")  # someone else bought it between search and purchase
        [message] = fake.wait_for_messages(1)
        fake.send_status_callback(message["sid"], "delivered", post_to=live_server_url)
        fake.assert_no_violations()

Standalone: python -m tests.twilio_fake --port 8999 (see __main__.py), with GET /_fake/messages etc.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.utils
import http.client
import json
import math
import re
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from twilio.request_validator import RequestValidator

from .spec import FORM, SUBSET_PATH, Operation, SpecIndex

DEFAULT_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_AUTH_TOKEN = "test-auth-token"
API_VERSION = "2010-04-01"

# Twilio error codes → (HTTP status, the message Twilio answers with).
ERRORS: dict[int, tuple[int, str]] = {
    20001: (400, "Invalid parameter"),
    20003: (401, "Authentication Error - invalid username"),
    20004: (405, "Method not allowed"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21212: (400, "Invalid 'From' Phone Number"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21606: (400, "The 'From' phone number provided is not a valid message-capable Twilio phone number"),
    21609: (400, "Invalid 'StatusCallback' URL"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21611: (400, "This 'From' number has exceeded the maximum number of queued messages"),
    21612: (400, "The 'To' phone number is not currently reachable via SMS"),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit"),
    21421: (400, "PhoneNumber is invalid"),
    21422: (400, "PhoneNumber is not available"),
    21452: (400, "No phone numbers found in area code"),
    21502: (400, "Invalid callback url"),
    22110: (400, "Phone Number Not Hostable"),
    22111: (400, "Invalid Hosted Number Order Status"),
    30003: (400, "Unreachable destination handset"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
    30007: (400, "Message filtered"),
    30008: (400, "Unknown error"),
}
DEFAULT_CODE_FOR_STATUS = {400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 500: 20500, 503: 20503}

# Short names for the operations (scripted failures take either these or the operationId).
OPERATIONS = {
    "CreateMessage": "create",
    "ListMessage": "list",
    "FetchMessage": "fetch",
    "FetchPhoneNumber": "lookup",
    "ListAvailablePhoneNumberLocal": "search",
    "CreateIncomingPhoneNumber": "buy",
    "ListIncomingPhoneNumber": "numbers",
    "UpdateIncomingPhoneNumber": "configure",
    "DeleteIncomingPhoneNumber": "release",
    "CreateCall": "call",
    "CreateAccount": "create_account",
    "FetchAccount": "fetch_account",
    "UpdateAccount": "update_account",
    # A2P 10DLC registration
    "CreateCustomerProfile": "customer_profile",
    "UpdateCustomerProfile": "submit_customer_profile",
    "CreateCustomerProfileEntityAssignment": "customer_profile_assignment",
    "CreateEndUser": "end_user",
    "CreateTrustProduct": "trust_product",
    "UpdateTrustProduct": "submit_trust_product",
    "CreateTrustProductEntityAssignment": "trust_product_assignment",
    "CreateBrandRegistrations": "brand",
    "FetchBrandRegistrations": "fetch_brand",
    "CreateService": "messaging_service",
    "CreatePhoneNumber": "service_number",
    "DeletePhoneNumber": "remove_service_number",
    "CreateUsAppToPerson": "campaign",
    "FetchUsAppToPerson": "fetch_campaign",
    "CreateTollfreeVerification": "tollfree_verification",
    "FetchTollfreeVerification": "fetch_tollfree_verification",
    "UpdateTollfreeVerification": "update_tollfree_verification",
    "CreateSupportingDocument": "supporting_document",
    "CreateBrandRegistrationOtp": "brand_otp",
    # The business's address; Hosted SMS
    "CreateAddress": "address",
    "CreateHostedNumberOrder": "hosted_order",
    "FetchHostedNumberOrder": "fetch_hosted_order",
    "UpdateHostedNumberOrder": "update_hosted_order",
    "DeleteHostedNumberOrder": "cancel_hosted_order",
    "FetchAuthorizationDocument": "fetch_loa",
    "CreateAuthorizationDocument": "loa",
    # Event Streams
    "CreateSink": "sink",
    "CreateSubscription": "subscription",
    # Usage per account
    "ListUsageRecordThisMonth": "usage_this_month",
    "ListUsageRecordLastMonth": "usage_last_month",
}
# How many numbers an area code offers unless set_available() says otherwise; all in 555-01xx, the range kept
# for fiction, so a fake number never rings a real phone.
DEFAULT_AVAILABLE_PER_AREA = 5

LOOKUP_FIELDS = {
    "validation",
    "caller_name",
    "sim_swap",
    "call_forwarding",
    "line_status",
    "line_type_intelligence",
    "identity_match",
    "reassigned_number",
    "sms_pumping_risk",
    "phone_number_quality_score",
    "pre_fill",
}
LOOKUP_NULL_FIELDS = (
    "caller_name",
    "sim_swap",
    "call_forwarding",
    "line_status",
    "line_type_intelligence",
    "identity_match",
    "reassigned_number",
    "sms_pumping_risk",
    "phone_number_quality_score",
    "pre_fill",
)
# line_type_intelligence.type values Twilio documents → (carrier_name, mobile_country_code, mobile_network_code)
LINE_TYPE_CARRIERS: dict[str, tuple[str, str | None, str | None]] = {
    "mobile": ("T-Mobile USA, Inc.", "310", "260"),
    "landline": ("AT&T Corp", None, None),
    "fixedVoip": ("Comcast Phone, LLC", None, None),
    "nonFixedVoip": ("Twilio - SMS/MMS-SVR", "240", "38"),
    "personal": ("Personal number", None, None),
    "tollFree": ("Toll free", None, None),
    "premium": ("Premium rate", None, None),
    "sharedCost": ("Shared cost", None, None),
    "uan": ("UAN", None, None),
    "voicemail": ("Voicemail", None, None),
    "pager": ("Pager", None, None),
    "unknown": (None, None, None),  # type: ignore[dict-item]
}
CALLING_CODES = {
    "1": "US",
    "7": "RU",
    "20": "EG",
    "27": "ZA",
    "30": "GR",
    "31": "NL",
    "32": "BE",
    "33": "FR",
    "34": "ES",
    "39": "IT",
    "41": "CH",
    "43": "AT",
    "44": "GB",
    "45": "DK",
    "46": "SE",
    "47": "NO",
    "48": "PL",
    "49": "DE",
    "52": "MX",
    "55": "BR",
    "61": "AU",
    "64": "NZ",
    "65": "SG",
    "81": "JP",
    "82": "KR",
    "86": "CN",
    "91": "IN",
    "351": "PT",
    "353": "IE",
    "358": "FI",
    "972": "IL",
    "971": "AE",
}
COUNTRY_TO_CALLING = {country: code for code, country in CALLING_CODES.items()} | {"CA": "1", "PR": "1"}

E164 = re.compile(r"^(whatsapp:)?\+[1-9]\d{1,14}$")
SHORT_CODE = re.compile(r"^\d{3,8}$")
ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")


def twilio_error(status: int, code: int | None = None, message: str | None = None, **fmt) -> dict:
    """Twilio's (legacy, non-RFC-9457) error body: {"code", "message", "more_info", "status"}."""
    if code is None:
        code = DEFAULT_CODE_FOR_STATUS.get(status, status)
    if message is None:
        known = ERRORS.get(code)
        if known is not None:
            message = known[1].format(**fmt) if fmt else known[1].replace(" {path}", "")
        else:
            try:
                message = HTTPStatus(status).phrase
            except ValueError:
                message = "Error"
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    if code == 20003:
        body["detail"] = "Your AccountSid or AuthToken was incorrect."
    return body


def rfc2822(dt: datetime | None) -> str | None:
    return None if dt is None else email.utils.format_datetime(dt.astimezone(UTC))


def num_segments(body: str) -> int:
    if not body:
        return 1
    if all(c in GSM7 or c in GSM7_EXTENDED for c in body):
        units = sum(2 if c in GSM7_EXTENDED else 1 for c in body)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(body.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


_TZ_ABBREVIATIONS = {
    "UTC": 0,
    "GMT": 0,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
}


def parse_date_filter(value: str) -> date | datetime:
    """A DateSent filter value → a date (day granularity) or an aware datetime. ValueError if unparseable.

    Twilio documents YYYY-MM-DD; twilio-python sends YYYY-MM-DDTHH:MM:SSZ for datetimes; the spec's examples
    also show "2019-06-11 22:05:25.000", "Wed, 19 Jun 2019 22:04:00 -0000" and "06/11/2019 22:05:25 MST".
    """
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    m = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: ([A-Z]{3}))?", value)
    if m:
        month, day, year, hh, mm, ss, tz = m.groups()
        if tz is not None and tz not in _TZ_ABBREVIATIONS:
            raise ValueError(value)
        offset = timezone(timedelta(hours=_TZ_ABBREVIATIONS.get(tz or "UTC", 0)))
        return datetime(int(year), int(month), int(day), int(hh), int(mm), int(ss), tzinfo=offset)
    if "," in value:
        parsed = email.utils.parsedate_to_datetime(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _pairs_to_dict(pairs, arrays=()) -> dict:
    """Form/query pairs → {name: value}; names in `arrays` or sent more than once → list of values."""
    out: dict = {}
    for name, value in pairs:
        if name in arrays:
            out.setdefault(name, []).append(value)
        elif name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


def _valid_callback_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "_" not in (parts.hostname or "")


class _Message:
    __slots__ = ("seq", "resource", "params", "received_at", "date_created", "date_sent")

    def __init__(self, seq, resource, params, received_at, date_created, date_sent):
        self.seq = seq
        self.resource = resource
        self.params = params
        self.received_at = received_at
        self.date_created = date_created
        self.date_sent = date_sent

    @property
    def sort_key(self):
        return (self.date_sent or self.date_created, self.seq)

    def as_dict(self) -> dict:
        out = dict(self.resource)
        out["subresource_uris"] = dict(self.resource["subresource_uris"])
        out["params"] = {k: list(v) if isinstance(v, list) else v for k, v in self.params.items()}
        out["received_at"] = self.received_at
        return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address, handler):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (socket.getfqdn), which can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return  # a client that went away (timeouts, dropped connections): expected here
        super().handle_error(request, client_address)


class FakeTwilio:
    """Twilio's Messages and Lookup v2 APIs on 127.0.0.1, recording every request. See the module docstring."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        control_endpoints: bool = False,
        api_keys: dict[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        spec_path: Path = SUBSET_PATH,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.control_endpoints = control_endpoints
        self.api_keys: dict[str, str] = dict(api_keys or {})  # API key SID → secret, also accepted as auth
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.line_types: dict[str, str | dict] = {}  # E.164 → line type ("landline", …) or a dict to merge
        self.spec = SpecIndex.load(spec_path)
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._wake = threading.Event()  # set (and replaced) by reset() and stop(): ends hung responses
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._seq = 0
        self._clear()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeTwilio is not started")
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeTwilio:
        if self._httpd is not None:
            return self
        self._wake = threading.Event()
        handler = type("FakeTwilioHandler", (_Handler,), {"fake": self})
        self._httpd = _Server((self.host, self.port), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeTwilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._wake.set()  # ends hung responses
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"http://{self.host}:{self.port}" if self._httpd else "stopped"
        return f"<FakeTwilio {where} {self.account_sid}>"

    # ------------------------------------------------------------------ recording

    def _clear(self) -> None:
        # Every message the list and fetch endpoints know: created through the API and seeded (add_message).
        self._store: dict[str, _Message] = {}
        self._created: list[_Message] = []
        self._by_to: dict[str, list[_Message]] = {}  # index for the list endpoint's To filter
        self._requests: list[dict] = []
        self._violations: list[dict] = []
        self._lookups: list[dict] = []
        self._callbacks: list[dict] = []
        self._script: list[list] = []  # [operation, kind, argument, remaining]
        self._rejects: dict[str, int] = {}
        self._slow: dict[str, float] = {}  # operation → seconds every answer takes (set_latency)
        self._outage: dict[str, tuple[float, int]] = {}  # operation → (until, status) (fail_for)
        # operation → requests being worked or answered right now, and the most there were at once (concurrency)
        self._in_flight: dict[str, int] = {}
        self._in_flight_max: dict[str, int] = {}
        self.line_types.clear()
        self._incoming: dict[str, dict] = {}  # sid → IncomingPhoneNumber resource held by the account
        self._calls: list[dict] = []  # outbound calls created (CreateCall), oldest first
        self._media: dict[
            str, tuple[bytes, str]
        ] = {}  # path → (content, content type): recordings; (b"", the CDN link) for a message's media
        self._cdn: dict[str, tuple[bytes, str]] = {}  # CDN path → (content, content type): no auth there
        self._taken: set[str] = set()  # numbers bought by someone else: not available
        # Every account but the main one: sid → Account resource (auth_token and owner_account_sid included).
        self._accounts: dict[str, dict] = {}
        # A2P 10DLC registration resources (TrustHub bundles and end users, brands, messaging services,
        # campaigns), by sid; each keeps the account that made it in "account_sid".
        self._registry: dict[str, dict] = {}
        self._available: dict[str, list[str]] = {}  # area code → numbers offered (default: a few in 555-01xx)
        # Hosted SMS: numbers Twilio refuses to host (→ error code, message), and orders' verification calls.
        self._unhostable: dict[str, tuple[int, str | None]] = {}
        self._usage: dict[tuple[str, str], list[dict]] = {}  # (account, "ThisMonth"|"LastMonth") → records

    def reset(self) -> None:
        """Forget everything: messages, requests, violations, lookups, callbacks, scripted failures, line types.
        Responses still hanging (hang_next) are sent at once."""
        with self._lock:
            self._clear()
            self._wake.set()
            self._wake = threading.Event()

    @property
    def messages(self) -> list[dict]:
        """Messages created through the API, oldest first: the resource Twilio returned (with its current
        status) plus "params" (the form exactly as sent; MediaUrl and other arrays as lists) and "received_at"
        (time.time())."""
        with self._lock:
            return [m.as_dict() for m in self._created]

    @property
    def requests(self) -> list[dict]:
        """Every API request: method, path, query, form, headers, operation, status (None if dropped), received_at."""
        with self._lock:
            return [dict(r) for r in self._requests]

    @property
    def violations(self) -> list[dict]:
        """Requests that break Twilio's OpenAPI: method, path, operation, problem, query, form."""
        with self._lock:
            return [dict(v) for v in self._violations]

    @property
    def lookups(self) -> list[dict]:
        """Lookup v2 requests answered: phone_number (as in the path), fields, query, line_type, received_at."""
        with self._lock:
            return [dict(v) for v in self._lookups]

    def add_media(
        self, path: str, content: bytes, content_type: str, *, redirect: bool | str | None = None
    ) -> str:
        """Serve `content` at `path` (e.g. /2010-04-01/Accounts/AC…/Recordings/RE….mp3) to authorised GETs;
        returns the URL Twilio would put in a webhook (on api.twilio.com). A message's media (redirect, the default
        for a path with /Media/) is answered as Twilio answers it: 307 to a short-lived link on its CDN
        (https://mms.twiliocdn.com/…), served there to anyone who has the link, no credentials asked. A string
        `redirect` is the Location answered instead (a redirect gone wrong)."""
        if redirect is None:
            redirect = "/Media/" in path
        with self._lock:
            if isinstance(redirect, str):
                self._media[path] = (b"", redirect)
            elif redirect:
                cdn_path = f"/cdn/{uuid.uuid4().hex}"
                self._cdn[cdn_path] = (content, content_type)
                self._media[path] = (b"", f"https://mms.twiliocdn.com{cdn_path}")
            else:
                self._media[path] = (content, content_type)
        return f"https://api.twilio.com{path}"

    @property
    def calls(self) -> list[dict]:
        """Outbound calls created through the API, oldest first: the resource Twilio returned plus "params"
        (the form exactly as sent: To, From, Twiml or Url, StatusCallback …)."""
        with self._lock:
            return [dict(c) for c in self._calls]

    @property
    def incoming_numbers(self) -> list[dict]:
        """The account's phone numbers (IncomingPhoneNumber resources), oldest first."""
        with self._lock:
            return [dict(v) for v in self._incoming.values()]

    def incoming_number(self, phone_number: str) -> dict | None:
        with self._lock:
            return next((dict(v) for v in self._incoming.values() if v["phone_number"] == phone_number), None)

    @property
    def callbacks(self) -> list[dict]:
        """Status callbacks sent: sid, url (signed), posted_to, params, signature, status (HTTP), sent_at."""
        with self._lock:
            return [dict(v) for v in self._callbacks]

    def messages_to(self, number: str) -> list[dict]:
        """Created messages whose To is `number`, oldest first."""
        with self._lock:
            return [m.as_dict() for m in self._created if m.resource["to"] == number]

    def message(self, sid: str) -> dict:
        """One message (created or seeded) by SID; KeyError if unknown."""
        with self._lock:
            return self._store[sid].as_dict()

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[dict]:
        """Block until at least `count` messages were created; return all created so far.
        AssertionError (saying what was received) on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._created) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._describe_shortfall(count, timeout))
                self._cond.wait(remaining)
            return [m.as_dict() for m in self._created]

    def _describe_shortfall(self, count: int, timeout: float) -> str:
        lines = [f"expected at least {count} message(s) created at the fake Twilio within {timeout}s; "]
        lines[0] += f"got {len(self._created)}"
        for m in self._created:
            r = m.resource
            lines.append(f"  created {r['sid']} to={r['to']} from={r['from']} body={r['body']!r}")
        failed = [r for r in self._requests if r.get("status") is None or r["status"] >= 300]
        for r in failed[-10:]:
            lines.append(f"  {r['method']} {r['path']} → {r.get('status')} {r.get('error') or ''}".rstrip())
        if not self._requests:
            lines.append("  (no requests reached the fake at all)")
        for v in self._violations[-10:]:
            lines.append(f"  violation: {v['problem']}")
        return "\n".join(lines)

    def assert_no_violations(self) -> None:
        with self._lock:
            violations = list(self._violations)
        if violations:
            problems = "\n".join(f"  {v['method']} {v['path']}: {v['problem']}" for v in violations)
            raise AssertionError(f"{len(violations)} request(s) broke Twilio's API spec:\n{problems}")

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        status: int,
        code: int | None = None,
        message: str | None = None,
        count: int = 1,
        *,
        operation="create",
    ) -> None:
        """The next `count` requests of `operation` (default message create) answer `status` with Twilio's error
        JSON and create nothing. Default codes: 429→20429, 500→20500, 503→20503."""
        body = twilio_error(status, code, message)
        self._push(operation, "fail", (status, body), count)

    def hang_next(self, seconds: float, count: int = 1, *, operation="create") -> None:
        """The next `count` requests of `operation` are processed (a create IS recorded and listed) but answered
        only after `seconds`, as if the response were lost to a client timeout."""
        self._push(operation, "hang", float(seconds), count)

    def drop_connection_next(self, count: int = 1, *, operation="create") -> None:
        """The next `count` requests of `operation` get the connection closed without an answer; nothing
        is created."""
        self._push(operation, "drop", None, count)

    def set_latency(self, seconds: float, *, operation="create") -> None:
        """From now on every request of `operation` is processed at once (a create IS recorded) and answered
        after `seconds`, like a slow Twilio; 0 for full speed again. For fault tests and the soak bench."""
        operation = OPERATIONS.get(operation, operation)
        with self._lock:
            if seconds > 0:
                self._slow[operation] = float(seconds)
            else:
                self._slow.pop(operation, None)

    def fail_for(self, seconds: float, status: int = 500, *, operation="create") -> None:
        """Every request of `operation` answers `status` (Twilio's error JSON, nothing created) for the next
        `seconds`, as in an outage at Twilio; then it recovers by itself."""
        operation = OPERATIONS.get(operation, operation)
        with self._lock:
            self._outage[operation] = (time.monotonic() + seconds, status)

    def _enter(self, operation: str) -> None:
        with self._lock:
            count = self._in_flight.get(operation, 0) + 1
            self._in_flight[operation] = count
            self._in_flight_max[operation] = max(count, self._in_flight_max.get(operation, 0))

    def _leave(self, operation: str) -> None:
        with self._lock:
            # A reset while a request was hanging cleared its count: never below zero.
            self._in_flight[operation] = max(0, self._in_flight.get(operation, 0) - 1)

    @property
    def concurrency(self) -> dict[str, dict[str, int]]:
        """Requests of each operation in flight now (received, not yet answered) and the most at once since the
        last reset: how many sends a sender really keeps open against a slow Twilio (bench/textback_latency.py)."""
        with self._lock:
            return {"now": dict(self._in_flight), "max": dict(self._in_flight_max)}

    def _timed_fault(self, operation: str) -> tuple[int | None, float]:
        """(status to fail with or None, seconds to wait before answering) for a request of `operation` now."""
        with self._lock:
            until, status = self._outage.get(operation, (0.0, None))
            if status is not None and time.monotonic() >= until:
                del self._outage[operation]
                status = None
            return status, self._slow.get(operation, 0.0)

    def reject(self, to_number: str, code: int, message: str | None = None) -> None:
        """Every create to `to_number` answers 400 with Twilio error `code` (21610, 21211, 21614, 30006, …)."""
        if message is None and code not in ERRORS:
            raise ValueError(f"no known message for Twilio error {code}; pass message=")
        with self._lock:
            self._rejects[to_number] = code if message is None else (code, message)

    def unreject(self, to_number: str) -> None:
        with self._lock:
            self._rejects.pop(to_number, None)

    def add_incoming_number(self, phone_number: str, **fields) -> dict:
        """Seed a number the account already holds (bought before the test); returns its resource."""
        with self._lock:
            return dict(self._new_incoming({"PhoneNumber": phone_number}, origin="twilio", **fields))

    def add_account(
        self, *, friendly_name: str = "Own account", owner_account_sid: str | None = None
    ) -> dict:
        """An account with its own credentials: a top-level one (an agency's own Twilio account) unless
        `owner_account_sid` names its parent. Returns its resource, auth_token included."""
        with self._lock:
            return dict(self._new_account(friendly_name, owner_account_sid))

    @property
    def accounts(self) -> list[dict]:
        """The accounts besides the main one (subaccounts created through the API, and add_account's)."""
        with self._lock:
            return [dict(v) for v in self._accounts.values()]

    def token_of(self, account_sid: str) -> str:
        if account_sid == self.account_sid:
            return self.auth_token
        return self._accounts[account_sid]["auth_token"]

    def _new_account(self, friendly_name: str, owner: str | None) -> dict:
        sid = "AC" + uuid.uuid4().hex
        now = rfc2822(self.clock())
        resource = {
            "auth_token": uuid.uuid4().hex,
            "date_created": now,
            "date_updated": now,
            "friendly_name": friendly_name,
            "owner_account_sid": owner or sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {},
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{sid}.json",
        }
        self._accounts[sid] = resource
        return resource

    def _may_act_on(self, authenticated: str, target: str) -> bool:
        """An account acts on itself and on its subaccounts (open ones)."""
        if target == authenticated:
            return target == self.account_sid or self._accounts.get(target, {}).get("status") != "closed"
        sub = self._accounts.get(target)
        return sub is not None and sub["owner_account_sid"] == authenticated and sub["status"] != "closed"

    def _main_resource(self) -> dict:
        return {
            "auth_token": self.auth_token,
            "friendly_name": "Main account",
            "owner_account_sid": self.account_sid,
            "sid": self.account_sid,
            "status": "active",
            "type": "Full",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}.json",
        }

    def _create_account(self, authenticated: str, form: dict) -> tuple[int, dict]:
        with self._lock:
            if self._accounts.get(authenticated, {}).get("owner_account_sid", authenticated) != authenticated:
                return 400, twilio_error(400, 20001, "A subaccount cannot create subaccounts")
            return 201, dict(self._new_account(form.get("FriendlyName") or "Subaccount", authenticated))

    def _fetch_account(self, path: str, sid: str) -> tuple[int, dict]:
        with self._lock:
            resource = self._main_resource() if sid == self.account_sid else self._accounts.get(sid)
            if resource is None:
                return 404, twilio_error(404, 20404, path=path)
            return 200, dict(resource)

    def _update_account(self, path: str, sid: str, form: dict) -> tuple[int, dict]:
        with self._lock:
            resource = self._accounts.get(sid)
            if resource is None:
                return 404, twilio_error(404, 20404, path=path)
            if form.get("Status"):
                resource["status"] = form["Status"]
            if form.get("FriendlyName"):
                resource["friendly_name"] = form["FriendlyName"]
            resource["date_updated"] = rfc2822(self.clock())
            return 200, dict(resource)

    # ------------------------------------------------------------------ A2P 10DLC registration

    @property
    def registrations(self) -> list[dict]:
        """Every TrustHub, brand, messaging service and campaign resource made, oldest first."""
        with self._lock:
            return [dict(v) for v in self._registry.values()]

    def set_brand_status(self, sid: str, status: str, failure_reason: str | None = None) -> dict:
        """What the carriers' review decided about a brand: "APPROVED" or "FAILED" (with its reason)."""
        with self._lock:
            brand = self._registry[sid]
            brand.update(status=status, failure_reason=failure_reason, date_updated=rfc2822(self.clock()))
            return dict(brand)

    def bundle_review(
        self, sid: str, status: str, failure_reason: str | None = None
    ) -> tuple[str, dict, str]:
        """TrustHub's review of a customer profile or trust product decided `status` ("twilio-approved",
        "twilio-rejected"): returns what Twilio posts to the bundle's StatusCallback, (url, params, signature),
        signed with its account's token, for a test to deliver."""
        with self._lock:
            bundle = self._registry[sid]
            bundle.update(status=status, date_updated=rfc2822(self.clock()))
            url = bundle.get("status_callback")
            if not url:
                raise ValueError(f"bundle {sid} has no StatusCallback")
            params = {"AccountSid": bundle["account_sid"], "BundleSid": sid, "Status": status}
            if failure_reason:
                params["FailureReason"] = failure_reason
            token = self.token_of(bundle["account_sid"])
        return url, params, RequestValidator(token).compute_signature(url, params)

    def service_numbers(self, service_sid: str) -> list[str]:
        """The phone-number sids a messaging service holds now."""
        with self._lock:
            return [v["sid"] for v in self._registry.values() if v.get("service_sid") == service_sid]

    def answer_brand_otp(self, sid: str) -> dict:
        """A sole proprietor replied to the one-time code carriers texted: their brand's identity is verified."""
        with self._lock:
            brand = self._registry[sid]
            brand.update(identity_status="VERIFIED", date_updated=rfc2822(self.clock()))
            return dict(brand)

    def set_campaign_status(self, sid: str, status: str, errors: list | None = None) -> dict:
        """What the review decided about a campaign: "VERIFIED" or "FAILED" (errors: [{"code", "description"}])."""
        with self._lock:
            campaign = self._registry[sid]
            campaign.update(campaign_status=status, errors=errors or [], date_updated=rfc2822(self.clock()))
            return dict(campaign)

    def set_verification_status(self, sid: str, status: str, rejection_reason: str | None = None) -> dict:
        """What the toll-free review decided: "TWILIO_APPROVED" or "TWILIO_REJECTED" (with its reason)."""
        with self._lock:
            verification = self._registry[sid]
            verification.update(
                status=status,
                rejection_reason=rejection_reason,
                edit_allowed=status == "TWILIO_REJECTED",
                date_updated=rfc2822(self.clock()),
            )
            return dict(verification)

    def _owned(self, sid: str, account: str, prefix: str) -> dict | None:
        resource = self._registry.get(sid)
        if resource is None or resource["account_sid"] != account or not sid.startswith(prefix):
            return None
        return resource

    def _register(self, prefix: str, account: str, **fields) -> dict:
        sid = prefix + uuid.uuid4().hex
        now = rfc2822(self.clock())
        resource = {"sid": sid, "account_sid": account, "date_created": now, "date_updated": now, **fields}
        self._registry[sid] = resource
        return resource

    def _registration(
        self, op_id: str, values: dict, form: dict, account: str, path: str
    ) -> tuple[int, dict]:
        """The registration operations, scoped to the account the request authenticates as."""
        missing = (404, twilio_error(404, 20404, path=path))
        with self._lock:
            if op_id in ("CreateCustomerProfile", "CreateTrustProduct"):
                resource = self._register(
                    "BU",
                    account,
                    friendly_name=form["FriendlyName"],
                    email=form["Email"],
                    policy_sid=form["PolicySid"],
                    status="draft",
                    status_callback=form.get("StatusCallback"),
                    kind=op_id[6:],
                )
                return 201, dict(resource)
            if op_id in ("UpdateCustomerProfile", "UpdateTrustProduct"):
                bundle = self._owned(values["Sid"], account, "BU")
                if bundle is None:
                    return missing
                if form.get("Status"):
                    bundle["status"] = form["Status"]
                return 200, dict(bundle)
            if op_id in ("CreateCustomerProfileEntityAssignment", "CreateTrustProductEntityAssignment"):
                bundle_sid = values.get("CustomerProfileSid") or values.get("TrustProductSid")
                if self._owned(bundle_sid, account, "BU") is None:
                    return missing
                if self._owned(form["ObjectSid"], account, "") is None:
                    return 400, twilio_error(400, 20001, f"ObjectSid {form['ObjectSid']} is not yours")
                return 201, dict(
                    self._register("BV", account, bundle_sid=bundle_sid, object_sid=form["ObjectSid"])
                )
            if op_id == "CreateEndUser":
                try:
                    attributes = json.loads(form.get("Attributes") or "{}")
                except ValueError:
                    return 400, twilio_error(400, 20001, "Attributes must be JSON")
                resource = self._register(
                    "IT",
                    account,
                    friendly_name=form["FriendlyName"],
                    type=form["Type"],
                    attributes=attributes,
                )
                return 201, dict(resource)
            if op_id == "CreateBrandRegistrations":
                for name in ("CustomerProfileBundleSid", "A2PProfileBundleSid"):
                    bundle = self._owned(form[name], account, "BU")
                    if bundle is None or bundle["status"] == "draft":
                        return 400, twilio_error(
                            400, 20001, f"{name} must be a bundle of yours submitted for review"
                        )
                resource = self._register(
                    "BN",
                    account,
                    customer_profile_bundle_sid=form["CustomerProfileBundleSid"],
                    a2p_profile_bundle_sid=form["A2PProfileBundleSid"],
                    brand_type=form.get("BrandType") or "STANDARD",
                    status="PENDING",
                    failure_reason=None,
                    identity_status="UNVERIFIED",
                )
                return 201, dict(resource)
            if op_id == "CreateSupportingDocument":
                try:
                    attributes = json.loads(form.get("Attributes") or "{}")
                except ValueError:
                    return 400, twilio_error(400, 20001, "Attributes must be JSON")
                if form["Type"] == "customer_profile_address":
                    sids = attributes.get("address_sids")
                    sids = [sids] if isinstance(sids, str) else sids or []
                    if not sids or any(self._owned(sid, account, "AD") is None for sid in sids):
                        return 400, twilio_error(400, 20001, "address_sids must name Addresses of yours")
                resource = self._register(
                    "RD",
                    account,
                    friendly_name=form["FriendlyName"],
                    type=form["Type"],
                    attributes=attributes,
                    status="draft",
                )
                return 201, dict(resource)
            if op_id == "CreateBrandRegistrationOtp":
                brand = self._owned(values["BrandRegistrationSid"], account, "BN")
                if brand is None:
                    return missing
                if brand["brand_type"] != "SOLE_PROPRIETOR":
                    return 400, twilio_error(400, 20001, "Only a sole proprietor's brand is verified by OTP")
                brand["otps_sent"] = brand.get("otps_sent", 1) + 1
                return 201, {"account_sid": account, "brand_registration_sid": brand["sid"]}
            if op_id == "FetchBrandRegistrations":
                brand = self._owned(values["Sid"], account, "BN")
                return (200, dict(brand)) if brand else missing
            if op_id == "CreateService":
                return 201, dict(self._register("MG", account, friendly_name=form["FriendlyName"]))
            if op_id == "CreatePhoneNumber":
                if self._owned(values["ServiceSid"], account, "MG") is None:
                    return missing
                number = self._incoming.get(form["PhoneNumberSid"])
                if number is None or number["account_sid"] != account:
                    return 404, twilio_error(404, 20404, path=path)
                self._registry[form["PhoneNumberSid"]] = {
                    "sid": form["PhoneNumberSid"],
                    "account_sid": account,
                    "service_sid": values["ServiceSid"],
                    "phone_number": number["phone_number"],
                }
                return 201, dict(self._registry[form["PhoneNumberSid"]])
            if op_id == "DeletePhoneNumber":
                entry = self._registry.get(values["Sid"])
                if (
                    entry is None
                    or entry.get("service_sid") != values["ServiceSid"]
                    or entry["account_sid"] != account
                ):
                    return missing
                del self._registry[values["Sid"]]
                return 204, None
            if op_id == "CreateUsAppToPerson":
                if self._owned(values["MessagingServiceSid"], account, "MG") is None:
                    return missing
                brand = self._owned(form["BrandRegistrationSid"], account, "BN")
                if brand is None or brand["status"] != "APPROVED":
                    return 400, twilio_error(400, 20001, "The brand must be approved before a campaign")
                if brand["brand_type"] == "SOLE_PROPRIETOR" and brand["identity_status"] != "VERIFIED":
                    return 400, twilio_error(400, 20001, "The sole proprietor has not answered the OTP")
                resource = self._register(
                    "QE",
                    account,
                    brand_registration_sid=brand["sid"],
                    messaging_service_sid=values["MessagingServiceSid"],
                    description=form["Description"],
                    message_flow=form["MessageFlow"],
                    message_samples=form["MessageSamples"],
                    us_app_to_person_usecase=form["UsAppToPersonUsecase"],
                    has_embedded_links=form["HasEmbeddedLinks"] == "true",
                    has_embedded_phone=form["HasEmbeddedPhone"] == "true",
                    opt_out_message=form.get("OptOutMessage"),
                    help_message=form.get("HelpMessage"),
                    campaign_status="IN_PROGRESS",
                    errors=[],
                )
                return 201, dict(resource)
            if op_id == "CreateTollfreeVerification":
                number = self._incoming.get(form["TollfreePhoneNumberSid"])
                if number is None or number["account_sid"] != account:
                    return 404, twilio_error(404, 20404, path=path)
                if not re.match(r"^\+18(00|33|44|55|66|77|88)", number["phone_number"]):
                    return 400, twilio_error(400, 20001, "TollfreePhoneNumberSid is not a toll-free number")
                resource = self._register(
                    "HH",
                    account,
                    tollfree_phone_number_sid=form["TollfreePhoneNumberSid"],
                    tollfree_phone_number=number["phone_number"],
                    status="PENDING_REVIEW",
                    rejection_reason=None,
                    edit_allowed=False,
                    **{_snake(k): v for k, v in form.items() if k != "TollfreePhoneNumberSid"},
                )
                return 201, dict(resource)
            if op_id in ("FetchTollfreeVerification", "UpdateTollfreeVerification"):
                verification = self._owned(values["Sid"], account, "HH")
                if verification is None:
                    return missing
                if op_id == "UpdateTollfreeVerification":
                    if not verification["edit_allowed"]:
                        return 400, twilio_error(400, 20001, "Only a rejected verification can be edited")
                    verification.update({_snake(k): v for k, v in form.items()})
                    verification.update(status="PENDING_REVIEW", rejection_reason=None, edit_allowed=False)
                return 200, dict(verification)
            if op_id == "FetchUsAppToPerson":
                campaign = self._owned(values["Sid"], account, "QE")
                if campaign is None or campaign["messaging_service_sid"] != values["MessagingServiceSid"]:
                    return missing
                return 200, dict(campaign)
        return 501, twilio_error(501, 20500, f"The fake does not implement {op_id}")

    # ------------------------------------------------------------------ Hosted SMS and addresses

    def refuse_hosting(self, phone_number: str, code: int = 22110, message: str | None = None) -> None:
        """Creating a hosting order for this number answers `code` (22110: not hostable)."""
        with self._lock:
            self._unhostable[phone_number] = (code, message)

    @property
    def hosted_orders(self) -> list[dict]:
        with self._lock:
            return [dict(v) for v in self._registry.values() if v["sid"].startswith("HR")]

    def hosted_order(self, sid: str) -> dict:
        with self._lock:
            return dict(self._registry[sid])

    def set_hosted_order_status(
        self, sid: str, status: str, failure_reason: str = "", next_step: str = ""
    ) -> dict:
        """What Twilio or the carriers did with an order: "carrier-processing", "completed", "failed" (with its
        failure reason), "action-required" …"""
        with self._lock:
            order = self._registry[sid]
            order.update(
                status=status,
                failure_reason=failure_reason,
                next_step=next_step,
                date_updated=rfc2822(self.clock()),
            )
            return dict(order)

    def answer_verification(self, sid: str, code: str) -> dict:
        """The owner answers the verification call and types `code`: the right one verifies the number (the
        order then waits for the signed LOA, or goes to the carriers if it is signed already)."""
        with self._lock:
            order = self._registry[sid]
            if order["status"] != "pending-verification" or code != order["verification_code"]:
                raise ValueError(f"code {code!r} does not verify order {sid} ({order['status']})")
            document = self._registry[order["signing_document_sid"]]
            order["status"] = "carrier-processing" if document["status"] == "signed" else "pending-loa"
            order["next_step"] = "" if document["status"] == "signed" else "Sign the LOA"
            order["date_updated"] = rfc2822(self.clock())
            return dict(order)

    def sign_loa(self, order_sid: str) -> dict:
        """The owner signs the letter of authorisation Twilio emailed; a verified order goes to the carriers."""
        with self._lock:
            order = self._registry[order_sid]
            document = self._registry[order["signing_document_sid"]]
            document.update(status="signed", date_updated=rfc2822(self.clock()))
            if order["status"] in ("verified", "pending-loa"):
                order.update(status="carrier-processing", next_step="")
            return dict(document)

    def _hosting(
        self, op_id: str, values: dict, form: dict, account: str, path: str
    ) -> tuple[int, dict | None]:
        """Numbers v2 HostedNumber Orders and AuthorizationDocuments, scoped to the account authenticated."""
        missing = (404, twilio_error(404, 20404, path=path))
        with self._lock:
            if op_id == "CreateHostedNumberOrder":
                number = form["PhoneNumber"]
                if not E164.match(number):
                    return 400, twilio_error(400, 21421)
                if form.get("SmsCapability") != "true":
                    return 400, twilio_error(400, 20001, "SmsCapability must be true")
                address = self._owned(form["AddressSid"], account, "AD")
                if address is None:
                    return 400, twilio_error(400, 20001, f"AddressSid {form['AddressSid']} is not yours")
                refused = self._unhostable.get(number)
                if refused is not None:
                    return 400, twilio_error(400, refused[0], refused[1])
                held = any(n["phone_number"] == number for n in self._incoming.values())
                if held:  # owned by Twilio already, or hosted by an order on its way
                    return 400, twilio_error(400, 22110)
                document = self._register(
                    "PX",
                    account,
                    address_sid=form["AddressSid"],
                    email=form["Email"],
                    cc_emails=form.get("CcEmails") or [],
                    status="signing",  # emailed for signing at once
                    links={},
                )
                incoming = self._new_incoming(
                    {"PhoneNumber": number, "SmsUrl": form.get("SmsUrl", ""), "SmsMethod": "POST"},
                    origin="hosted",
                    account_sid=account,
                    capabilities={"voice": False, "sms": True, "mms": False, "fax": False},
                )
                order = self._register(
                    "HR",
                    account,
                    phone_number=number,
                    address_sid=form["AddressSid"],
                    signing_document_sid=document["sid"],
                    incoming_phone_number_sid=incoming["sid"],
                    capabilities={"sms": True, "voice": False},
                    friendly_name=form.get("FriendlyName") or number,
                    email=form["Email"],
                    cc_emails=form.get("CcEmails") or [],
                    contact_title=form.get("ContactTitle"),
                    contact_phone_number=form["ContactPhoneNumber"],
                    sms_url=form.get("SmsUrl"),
                    status="received",
                    failure_reason="",
                    next_step="Verify ownership",
                    bulk_hosting_request_sid=None,
                    verification_attempts=0,
                    verification_call_sids=[],
                    verification_code=None,
                    verification_type="phone-call",
                    verification_call_delay=0,
                    verification_call_extension=None,
                )
                order["url"] = f"https://numbers.twilio.com/v2/HostedNumber/Orders/{order['sid']}"
                return 201, dict(order)
            if op_id == "CreateAuthorizationDocument":
                if self._owned(form["AddressSid"], account, "AD") is None:
                    return 400, twilio_error(400, 20001, f"AddressSid {form['AddressSid']} is not yours")
                orders = form["HostedNumberOrderSids"]
                orders = [orders] if isinstance(orders, str) else orders
                owned = [self._owned(sid, account, "HR") for sid in orders]
                if not owned or any(o is None for o in owned):
                    return 400, twilio_error(400, 20001, "HostedNumberOrderSids must name orders of yours")
                document = self._register(
                    "PX",
                    account,
                    address_sid=form["AddressSid"],
                    email=form["Email"],
                    cc_emails=form.get("CcEmails") or [],
                    status="signing",
                    links={},
                )
                for order in owned:
                    assert order is not None
                    previous = self._registry.get(order["signing_document_sid"])
                    if previous is not None and previous["status"] != "signed":
                        previous["status"] = "canceled"
                    order.update(signing_document_sid=document["sid"], email=form["Email"])
                return 201, dict(document)
            if op_id == "FetchAuthorizationDocument":
                document = self._owned(values["Sid"], account, "PX")
                return (200, dict(document)) if document else missing
            order = self._owned(values["Sid"], account, "HR")
            if order is None:
                return missing
            if op_id == "FetchHostedNumberOrder":
                return 200, dict(order)
            if op_id == "UpdateHostedNumberOrder":
                if form["Status"] != "pending-verification" or order["status"] not in (
                    "received",
                    "pending-verification",
                    "action-required",
                ):
                    return 400, twilio_error(400, 22111)
                order.update(
                    status="pending-verification",
                    verification_code=f"{uuid.uuid4().int % 1_000_000:06d}",
                    verification_attempts=order["verification_attempts"] + 1,
                    verification_call_sids=[*order["verification_call_sids"], "CA" + uuid.uuid4().hex],
                    verification_call_delay=int(form.get("VerificationCallDelay") or 0),
                    verification_call_extension=form.get("VerificationCallExtension"),
                    next_step="Answer the verification call",
                    date_updated=rfc2822(self.clock()),
                )
                return 200, dict(order)
            if op_id == "DeleteHostedNumberOrder":
                if order["status"] not in ("twilio-processing", "received", "action-required"):
                    return 400, twilio_error(400, 22111, "Only an order not yet verified can be cancelled")
                del self._registry[order["sid"]]
                self._incoming.pop(order["incoming_phone_number_sid"], None)
                return 204, None
        return 501, twilio_error(501, 20500, f"The fake does not implement {op_id}")

    def _create_address(self, form: dict, account: str) -> tuple[int, dict]:
        if form["IsoCountry"] not in ("US", "CA"):
            return 400, twilio_error(400, 20001, "IsoCountry must be US or CA here")
        with self._lock:
            resource = self._register(
                "AD",
                account,
                customer_name=form["CustomerName"],
                friendly_name=form.get("FriendlyName"),
                street=form["Street"],
                street_secondary=form.get("StreetSecondary"),
                city=form["City"],
                region=form["Region"],
                postal_code=form["PostalCode"],
                iso_country=form["IsoCountry"],
                emergency_enabled=False,
                validated=True,
                verified=False,
            )
            resource["uri"] = f"/{API_VERSION}/Accounts/{account}/Addresses/{resource['sid']}.json"
            return 201, dict(resource)

    # ------------------------------------------------------------------ Event Streams

    @property
    def sinks(self) -> list[dict]:
        with self._lock:
            return [dict(v) for v in self._registry.values() if v["sid"].startswith("DG")]

    def stream_event(self, account_sid: str, event_type: str, data: dict) -> list[tuple[str, str, str]]:
        """Twilio publishes `event_type` in the account: for each of its webhook sinks subscribed to it, what Twilio
        posts there, (url, body, signature): a JSON array of one CloudEvent, signed over the sink's URL with the
        body's bodySHA256 added, with the account's token. For a test to deliver."""
        with self._lock:
            subscribed = {
                v["sink_sid"]
                for v in self._registry.values()
                if v["sid"].startswith("DF") and v["account_sid"] == account_sid and event_type in v["types"]
            }
            sinks = [self._registry[sid] for sid in subscribed]
            token = self.token_of(account_sid)
        deliveries = []
        for sink in sinks:
            body = json.dumps(
                [
                    {
                        "specversion": "1.0",
                        "type": event_type,
                        "source": f"/v1/Accounts/{account_sid}",
                        "id": "EZ" + uuid.uuid4().hex,
                        "dataschema": "https://events-schemas.twilio.com/A2P.BrandRegistration/1",
                        "datacontenttype": "application/json",
                        "time": self.clock().astimezone(UTC).isoformat(),
                        "data": {"accountsid": account_sid, **data},
                    }
                ]
            )
            validator = RequestValidator(token)
            destination = sink["sink_configuration"]["destination"]
            joiner = "&" if "?" in destination else "?"
            url = f"{destination}{joiner}bodySHA256={validator.compute_hash(body)}"
            deliveries.append((url, body, validator.compute_signature(url, {})))
        return deliveries

    def _events(self, op_id: str, form: dict, account: str) -> tuple[int, dict]:
        with self._lock:
            if op_id == "CreateSink":
                try:
                    configuration = json.loads(form["SinkConfiguration"])
                except ValueError:
                    return 400, twilio_error(400, 20001, "SinkConfiguration must be JSON")
                if form["SinkType"] == "webhook" and not _valid_callback_url(
                    configuration.get("destination", "")
                ):
                    return 400, twilio_error(400, 20001, "A webhook sink needs a destination URL")
                resource = self._register(
                    "DG",
                    account,
                    description=form["Description"],
                    sink_type=form["SinkType"],
                    sink_configuration=configuration,
                    status="active",
                )
                return 201, dict(resource)
            if op_id == "CreateSubscription":
                if self._owned(form["SinkSid"], account, "DG") is None:
                    return 400, twilio_error(400, 20001, "SinkSid must be an active sink of yours")
                raw = form["Types"]
                types = []
                for item in raw if isinstance(raw, list) else [raw]:
                    try:
                        types.append(json.loads(item)["type"])
                    except (ValueError, KeyError, TypeError):
                        return 400, twilio_error(
                            400, 20001, f"Types must be objects with a type, got {item!r}"
                        )
                resource = self._register(
                    "DF", account, description=form["Description"], sink_sid=form["SinkSid"], types=types
                )
                return 201, dict(resource)
        return 501, twilio_error(501, 20500, f"The fake does not implement {op_id}")

    # ------------------------------------------------------------------ Usage records

    def set_usage(self, account_sid: str, period: str, records: list[dict]) -> None:
        """What ListUsageRecord{period} answers for the account ("ThisMonth", "LastMonth"): records with at least
        category, count, usage and price (strings, as Twilio sends them); the rest is filled in."""
        with self._lock:
            self._usage[(account_sid, period)] = [dict(r) for r in records]

    def _usage_records(self, path: str, period: str, query: dict, account: str) -> tuple[int, dict]:
        today = self.clock().astimezone(UTC).date()
        first = today.replace(day=1)
        if period == "LastMonth":
            end = first - timedelta(days=1)
            start = end.replace(day=1)
        else:
            start, end = first, today
        with self._lock:
            records = self._usage.get((account, period))
            if records is None:  # this month's texts as this account sent them; nothing for last month
                sent = (
                    [m for m in self._created if m.resource["account_sid"] == account]
                    if period == "ThisMonth"
                    else []
                )
                segments = sum(int(m.resource["num_segments"]) for m in sent)
                records = [
                    {
                        "category": "sms",
                        "count": str(len(sent)),
                        "usage": str(segments),
                        "price": f"{segments * 0.0083:.5f}",
                    }
                ]
        wanted = query.get("Category")
        items = []
        for record in records:
            if wanted and record["category"] != wanted:
                continue
            items.append(
                {
                    "account_sid": account,
                    "api_version": API_VERSION,
                    "as_of": rfc2822(self.clock()),
                    "category": record["category"],
                    "count": record.get("count", "0"),
                    "count_unit": record.get("count_unit", "messages"),
                    "description": record.get("description", record["category"]),
                    "end_date": end.isoformat(),
                    "price": record.get("price", "0"),
                    "price_unit": record.get("price_unit", "usd"),
                    "start_date": start.isoformat(),
                    "subresource_uris": {},
                    "uri": path,
                    "usage": record.get("usage", record.get("count", "0")),
                    "usage_unit": record.get("usage_unit", "segments"),
                }
            )
        return 200, _single_page(path, query, int(query.get("PageSize") or 50), "usage_records", items)

    def take_number(self, phone_number: str) -> None:
        """Someone else buys this number: it leaves the search results and buying it answers 21422."""
        with self._lock:
            self._taken.add(phone_number)

    def set_available(self, area_code: str, numbers: list[str]) -> None:
        """What a search in this area code offers ([] for none)."""
        with self._lock:
            self._available[str(area_code)] = list(numbers)

    def _offered(self, area_code: str) -> list[str]:
        numbers = self._available.get(area_code)
        if numbers is None:
            numbers = [f"+1{area_code}55501{10 + i:02d}" for i in range(DEFAULT_AVAILABLE_PER_AREA)]
        held = {v["phone_number"] for v in self._incoming.values()}
        return [n for n in numbers if n not in self._taken and n not in held]

    def set_line_type(self, number: str, line_type: str | dict) -> None:
        """Same as fake.line_types[number] = line_type (for the /_fake control endpoint)."""
        self.line_types[number] = line_type

    def _push(self, operation: str, kind: str, argument, count: int) -> None:
        operation = OPERATIONS.get(operation, operation)
        if operation not in (*OPERATIONS.values(), "*"):
            raise ValueError(f"unknown operation {operation!r}; one of {', '.join(OPERATIONS.values())}, *")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._script.append([operation, kind, argument, count])

    def _take_script(self, operation: str):
        with self._lock:
            for entry in self._script:
                if entry[0] == operation or entry[0] == "*":
                    entry[3] -= 1
                    if entry[3] <= 0:
                        self._script.remove(entry)
                    return entry[1], entry[2]
        return None

    # ------------------------------------------------------------------ messages

    def add_message(
        self,
        to: str,
        from_: str | None = "+15005550006",
        body: str = "",
        *,
        status: str = "delivered",
        direction: str = "outbound-api",
        date_sent: datetime | None = None,
        messaging_service_sid: str | None = None,
        error_code: int | None = None,
    ) -> dict:
        """Seed a message that exists at "Twilio" (e.g. sent before the test, or inbound) without a request.
        It shows in the list/fetch endpoints, not in fake.messages."""
        when = (date_sent or self.clock()).astimezone(UTC).replace(microsecond=0)
        form = {"To": to, "Body": body}
        if from_:
            form["From"] = from_
        if messaging_service_sid:
            form["MessagingServiceSid"] = messaging_service_sid
        with self._lock:
            msg = self._new_message(form, when, status=status, direction=direction)
            msg.resource["error_code"] = error_code
            msg.resource["error_message"] = ERRORS[error_code][1] if error_code in ERRORS else None
            return msg.as_dict()

    def _new_message(
        self, form: dict, now: datetime, *, status=None, direction="outbound-api", account: str | None = None
    ) -> _Message:
        account = account or self.account_sid
        media = form.get("MediaUrl") or []
        sid = ("MM" if media else "SM") + uuid.uuid4().hex
        scheduled = form.get("ScheduleType") == "fixed"
        if status is None:
            status = (
                "scheduled" if scheduled else ("accepted" if form.get("MessagingServiceSid") else "queued")
            )
        date_sent = None if scheduled else now
        body = form.get("Body", "")
        base = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
        resource = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": rfc2822(date_sent),
            "date_updated": rfc2822(now),
            "direction": direction,
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": str(len(media)),
            "num_segments": str(num_segments(body)),
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": form.get("To"),
            "uri": f"{base}.json",
        }
        self._seq += 1
        msg = _Message(self._seq, resource, form, time.time(), now, date_sent)
        self._store[sid] = msg
        self._by_to.setdefault(resource["to"], []).append(msg)
        return msg

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> dict:
        """Change a message's status (and error) as Twilio would when it progresses; returns the message."""
        with self._lock:
            msg = self._store[sid]
            r = msg.resource
            r["status"] = status
            r["date_updated"] = rfc2822(self.clock())
            if error_code is not None:
                r["error_code"] = int(error_code)
                r["error_message"] = ERRORS[int(error_code)][1] if int(error_code) in ERRORS else None
            if status in ("sent", "delivered", "undelivered") and r["price"] is None:
                r["price"] = f"{-0.0079 * int(r['num_segments'] or 1):.5f}"
                r["price_unit"] = "USD"
            if msg.date_sent is None and status in ("sending", "sent", "delivered", "undelivered", "failed"):
                msg.date_sent = self.clock().astimezone(UTC).replace(microsecond=0)
                r["date_sent"] = rfc2822(msg.date_sent)
            return msg.as_dict()

    # ------------------------------------------------------------------ status callbacks

    def send_status_callback(
        self,
        sid: str,
        status: str,
        error_code: int | None = None,
        *,
        post_to: str | None = None,
        url: str | None = None,
        extra_params: dict | None = None,
        timeout: float = 10.0,
    ) -> int:
        """POST Twilio's status callback for message `sid` to its StatusCallback URL (or `url`), signed with
        X-Twilio-Signature over that URL. `post_to` (a base URL like "http://127.0.0.1:8001") is where the
        request really goes, keeping the signed URL's path and query and sending its host as the Host header.
        Updates the stored message's status. Returns the HTTP status the receiver answered."""
        msg = self.set_status(sid, status, error_code)
        signed_url = url or msg["params"].get("StatusCallback")
        if not signed_url:
            raise ValueError(f"message {sid} has no StatusCallback; pass url=")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": msg["to"],
            "NumSegments": msg["num_segments"],
            "NumMedia": msg["num_media"],
        }
        if msg["from"]:
            params["From"] = msg["from"]
        if msg["messaging_service_sid"]:
            params["MessagingServiceSid"] = msg["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        params.update({k: str(v) for k, v in (extra_params or {}).items()})
        params["AccountSid"] = msg["account_sid"]
        signature = RequestValidator(self.token_of(msg["account_sid"])).compute_signature(signed_url, params)

        signed = urlsplit(signed_url)
        target = urlsplit(post_to) if post_to else signed
        path = (target.path.rstrip("/") if post_to else "") + (signed.path or "/")
        if signed.query:
            path += "?" + signed.query
        conn_cls = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(target.hostname, target.port, timeout=timeout)
        payload = urlencode(params)
        headers = {
            "Host": signed.netloc,
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "X-Forwarded-Proto": signed.scheme,
        }
        try:
            conn.request("POST", path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            code = response.status
        finally:
            conn.close()
        with self._lock:
            self._callbacks.append(
                {
                    "sid": sid,
                    "url": signed_url,
                    "posted_to": f"{target.scheme}://{target.netloc}{path}",
                    "params": params,
                    "signature": signature,
                    "status": code,
                    "sent_at": time.time(),
                }
            )
        return code

    # ------------------------------------------------------------------ request handling (server threads)

    def _authorized(self, header: str | None) -> str | None:
        """The account the request authenticates as (API keys act for the main account), or None."""
        if not header or not header.startswith("Basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if user == self.account_sid:
            return user if password == self.auth_token else None
        with self._lock:
            account = self._accounts.get(user)
        if account is not None:
            return user if password == account["auth_token"] and account["status"] != "closed" else None
        return self.account_sid if user in self.api_keys and self.api_keys[user] == password else None

    def _violation(self, record: dict, problem: str) -> None:
        with self._lock:
            self._violations.append(
                {
                    "method": record["method"],
                    "path": record["path"],
                    "operation": record.get("operation"),
                    "problem": problem,
                    "query": record["query"],
                    "form": record["form"],
                    "received_at": record["received_at"],
                }
            )

    def _create(self, form: dict, account: str | None = None) -> tuple[int, dict]:
        to = (form.get("To") or "").strip()
        from_ = form.get("From") or ""
        service = form.get("MessagingServiceSid") or ""
        body = form.get("Body") or ""
        if not to:
            return 400, twilio_error(400, 21604)
        if not from_ and not service:
            return 400, twilio_error(400, 21603)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return 400, twilio_error(400, 21602)
        if not E164.match(to):
            return 400, twilio_error(400, 21211)
        if from_ and not (E164.match(from_) or SHORT_CODE.match(from_) or ALPHANUMERIC_SENDER.match(from_)):
            return 400, twilio_error(400, 21212)
        if len(body) > 1600:
            return 400, twilio_error(400, 21617)
        callback = form.get("StatusCallback")
        if callback and not _valid_callback_url(callback):
            return 400, twilio_error(400, 21609)
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        with self._cond:
            rejected = self._rejects.get(to)
            if rejected is not None:
                code, message = rejected if isinstance(rejected, tuple) else (rejected, None)
                return 400, twilio_error(400, code, message)
            msg = self._new_message(form, now, account=account)
            self._created.append(msg)
            self._cond.notify_all()
            return 201, dict(msg.resource)

    def _fetch(self, path: str, sid: str, account: str | None = None) -> tuple[int, dict]:
        with self._lock:
            msg = self._store.get(sid)
            if msg is None or msg.resource["account_sid"] != (account or self.account_sid):
                return 404, twilio_error(404, 20404, path=path)
            return 200, dict(msg.resource)

    def _list(self, path: str, query: dict, account: str | None = None) -> tuple[int, dict]:
        account = account or self.account_sid
        filters = []
        for name in ("DateSent", "DateSent<", "DateSent>"):
            if name in query:
                try:
                    filters.append((name, parse_date_filter(query[name])))
                except (ValueError, TypeError, IndexError):
                    return 400, twilio_error(400, 20001, f"Invalid {name} value: {query[name]!r}")
        page_size = int(query.get("PageSize") or 50)
        page = int(query.get("Page") or 0)
        token = query.get("PageToken") or ""
        to, from_ = query.get("To"), query.get("From")

        with self._lock:
            candidates = self._store.values() if to is None else self._by_to.get(to, ())
            items = [
                m
                for m in candidates
                if m.resource["account_sid"] == account
                and (from_ is None or m.resource["from"] == from_)
                and all(_date_matches(m, name, value) for name, value in filters)
            ]
            items.sort(key=lambda m: m.sort_key, reverse=True)
            start_index = page * page_size
            if token[:2] in ("PA", "PB"):
                position = next((i for i, m in enumerate(items) if m.resource["sid"] == token[2:]), None)
                if position is not None:
                    start_index = position + 1 if token[:2] == "PA" else max(position - page_size, 0)
            chunk = [dict(m.resource) for m in items[start_index : start_index + page_size]]
            has_next = start_index + page_size < len(items)

        base = [(k, query[k]) for k in ("To", "From", "DateSent", "DateSent<", "DateSent>") if k in query]

        def uri(page_number: int, page_token: str | None = None) -> str:
            q = [*base, ("PageSize", page_size), ("Page", page_number)]
            if page_token:
                q.append(("PageToken", page_token))
            return f"{path}?{urlencode(q)}"

        start = page * page_size
        return 200, {
            "end": start + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1, "PA" + chunk[-1]["sid"]) if has_next and chunk else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1, "PB" + chunk[0]["sid"]) if page > 0 and chunk else None,
            "start": start,
            "uri": uri(page, token or None),
            "messages": chunk,
        }

    def _lookup(self, raw_number: str, query: dict) -> tuple[int, dict]:
        fields = [f.strip() for f in (query.get("Fields") or "").split(",") if f.strip()]
        info = _parse_number(raw_number, query.get("CountryCode"))
        result: dict = {
            "calling_country_code": info["calling_country_code"],
            "country_code": info["country_code"],
            "phone_number": info["phone_number"],
            "national_format": info["national_format"],
            "valid": info["valid"],
            "validation_errors": info["validation_errors"],
        }
        result.update(dict.fromkeys(LOOKUP_NULL_FIELDS))
        result["url"] = f"https://lookups.twilio.com/v2/PhoneNumbers/{info['phone_number']}"
        line_type = None
        if "line_type_intelligence" in fields and info["valid"]:
            configured = self.line_types.get(info["phone_number"], self.line_types.get(raw_number, "mobile"))
            overrides = configured if isinstance(configured, dict) else {"type": configured}
            kind = overrides.get("type", "mobile")
            carrier, mcc, mnc = LINE_TYPE_CARRIERS.get(kind, (None, None, None))
            result["line_type_intelligence"] = {
                "error_code": None,
                "mobile_country_code": mcc,
                "mobile_network_code": mnc,
                "carrier_name": carrier,
                "type": kind,
                **overrides,
            }
            line_type = result["line_type_intelligence"]["type"]
        with self._lock:
            self._lookups.append(
                {
                    "phone_number": raw_number,
                    "fields": fields,
                    "query": dict(query),
                    "line_type": line_type,
                    "valid": info["valid"],
                    "received_at": time.time(),
                }
            )
        return 200, result

    # ------------------------------------------------------------------ calls

    def _create_call(self, form: dict, account: str | None = None) -> tuple[int, dict]:
        account = account or self.account_sid
        """CreateCall as Twilio answers it: To and From checked, exactly one of Url, Twiml or ApplicationSid,
        callback URLs that are URLs; the call is queued (the fake rings nobody)."""
        to, from_ = (form.get("To") or "").strip(), (form.get("From") or "").strip()
        if not E164.match(to):
            return 400, twilio_error(400, 21211)
        if not E164.match(from_):
            return 400, twilio_error(400, 21212)
        if sum(bool(form.get(name)) for name in ("Url", "Twiml", "ApplicationSid")) != 1:
            return 400, twilio_error(400, 21205, "Exactly one of Url, Twiml or ApplicationSid is required")
        for name in ("Url", "StatusCallback", "RecordingStatusCallback"):
            if form.get(name) and not _valid_callback_url(form[name]):
                return 400, twilio_error(400, 21205, f"{name} is not a valid URL: {form[name]!r}")
        now = rfc2822(self.clock())
        sid = "CA" + uuid.uuid4().hex
        resource = {
            "sid": sid,
            "account_sid": account,
            "to": to,
            "to_formatted": to,
            "from": from_,
            "from_formatted": from_,
            "status": "queued",
            "direction": "outbound-api",
            "date_created": now,
            "date_updated": now,
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "parent_call_sid": None,
            "phone_number_sid": None,
            "answered_by": None,
            "api_version": "2010-04-01",
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json",
            "subresource_uris": {},
        }
        with self._cond:
            self._calls.append({**resource, "params": dict(form)})
            self._cond.notify_all()
        return 201, resource

    # ------------------------------------------------------------------ phone numbers

    def _search(self, path: str, country: str, query: dict) -> tuple[int, dict]:
        area = query.get("AreaCode", "")
        page_size = int(query.get("PageSize") or 50)
        with self._lock:
            numbers = self._offered(area) if country in ("US", "CA") and area else []
        chunk = [
            {
                "friendly_name": f"({n[2:5]}) {n[5:8]}-{n[8:]}",
                "phone_number": n,
                "lata": "358",
                "locality": "Chicago",
                "rate_center": "CHICAGO",
                "latitude": 41.8781,
                "longitude": -87.6298,
                "region": "IL",
                "postal_code": "60601",
                "iso_country": country,
                "address_requirements": "none",
                "beta": False,
                "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
            }
            for n in numbers[:page_size]
        ]
        return 200, _single_page(path, query, page_size, "available_phone_numbers", chunk)

    _URL_FIELDS = ("VoiceUrl", "SmsUrl", "StatusCallback", "VoiceFallbackUrl", "SmsFallbackUrl")

    def _bad_urls(self, form: dict) -> tuple[int, dict] | None:
        for name in self._URL_FIELDS:
            if form.get(name) and not _valid_callback_url(form[name]):
                return 400, twilio_error(400, 21502, f"{name} is not a valid URL: {form[name]!r}")
        return None

    def _buy(self, form: dict, account: str | None = None) -> tuple[int, dict]:
        number, area = form.get("PhoneNumber", ""), form.get("AreaCode", "")
        if not number and not area:
            return 400, twilio_error(400, 21421, "A PhoneNumber or an AreaCode is required")
        if number and not E164.match(number):
            return 400, twilio_error(400, 21421)
        bad = self._bad_urls(form)
        if bad:
            return bad
        with self._lock:
            if not number:
                offered = self._offered(area)
                if not offered:
                    return 400, twilio_error(400, 21452)
                number = offered[0]
            elif number not in self._offered(number[2:5]):
                return 400, twilio_error(400, 21422)
            fields = {"account_sid": account} if account else {}
            return 201, dict(self._new_incoming({**form, "PhoneNumber": number}, origin="twilio", **fields))

    def _new_incoming(self, form: dict, *, origin: str, **fields) -> dict:
        sid = "PN" + uuid.uuid4().hex
        now = rfc2822(self.clock())
        number = form["PhoneNumber"]
        resource = {
            "account_sid": self.account_sid,
            "address_sid": None,
            "address_requirements": "none",
            "api_version": API_VERSION,
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": now,
            "date_updated": now,
            "friendly_name": form.get("FriendlyName") or f"({number[2:5]}) {number[5:8]}-{number[8:]}",
            "identity_sid": None,
            "phone_number": number,
            "origin": origin,
            "sid": sid,
            "sms_application_sid": "",
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": "POST",
            "sms_url": "",
            "status_callback": "",
            "status_callback_method": "POST",
            "trunk_sid": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
            "voice_receive_mode": "voice",
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST",
            "voice_fallback_url": None,
            "voice_method": "POST",
            "voice_url": None,
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "bundle_sid": None,
            "status": "in-use",
            "type": "local",
        }
        resource.update(fields)
        resource["uri"] = f"/{API_VERSION}/Accounts/{resource['account_sid']}/IncomingPhoneNumbers/{sid}.json"
        self._apply_number_form(resource, form)
        self._incoming[sid] = resource
        return resource

    @staticmethod
    def _apply_number_form(resource: dict, form: dict) -> None:
        for name, value in form.items():
            if name in ("PhoneNumber", "AreaCode", "AccountSid"):
                continue
            key = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()  # VoiceUrl → voice_url
            if key in resource:
                resource[key] = value

    def _list_incoming(self, path: str, query: dict, account: str | None = None) -> tuple[int, dict]:
        wanted = query.get("PhoneNumber")
        page_size = int(query.get("PageSize") or 50)
        account = account or self.account_sid
        with self._lock:
            chunk = [
                dict(v)
                for v in self._incoming.values()
                if v["account_sid"] == account and (wanted is None or v["phone_number"] == wanted)
            ][:page_size]
        return 200, _single_page(path, query, page_size, "incoming_phone_numbers", chunk)

    def _configure(
        self, path: str, sid: str, form: dict, account: str | None = None, authenticated: str | None = None
    ) -> tuple[int, dict]:
        bad = self._bad_urls(form)
        if bad:
            return bad
        with self._lock:
            resource = self._incoming.get(sid)
            if resource is None or resource["account_sid"] != (account or self.account_sid):
                return 404, twilio_error(404, 20404, path=path)
            target = form.get("AccountSid")
            if target and target != resource["account_sid"]:
                # Exchanging numbers between subaccounts: only the parent of both may move one.
                parent = authenticated or self.account_sid
                if not (
                    self._may_act_on(parent, target) and self._may_act_on(parent, resource["account_sid"])
                ):
                    return 400, twilio_error(400, 20001, "AccountSid must be a subaccount of your account")
                resource["account_sid"] = target
                resource["uri"] = f"/{API_VERSION}/Accounts/{target}/IncomingPhoneNumbers/{sid}.json"
            self._apply_number_form(resource, form)
            resource["date_updated"] = rfc2822(self.clock())
            return 200, dict(resource)

    def _release(self, path: str, sid: str, account: str | None = None) -> tuple[int, dict | None]:
        with self._lock:
            resource = self._incoming.get(sid)
            if resource is None or resource["account_sid"] != (account or self.account_sid):
                return 404, twilio_error(404, 20404, path=path)
            del self._incoming[sid]
            return 204, None

    def _control(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        name = path[len("/_fake/") :].strip("/")
        if method == "GET" and name in (
            "messages",
            "requests",
            "violations",
            "lookups",
            "callbacks",
            "incoming_numbers",
            "concurrency",
            "accounts",
            "registrations",
        ):
            return 200, getattr(self, name)
        if method == "POST" and name == "reset":
            self.reset()
            return 200, {"reset": True}
        allowed = {
            "fail_next",
            "hang_next",
            "drop_connection_next",
            "reject",
            "unreject",
            "set_line_type",
            "set_status",
            "add_message",
            "send_status_callback",
            "add_incoming_number",
            "add_account",
            "set_brand_status",
            "set_campaign_status",
            "set_verification_status",
            "take_number",
            "set_available",
            "set_latency",
            "fail_for",
        }
        if method == "POST" and name in allowed:
            try:
                kwargs = json.loads(body or b"{}")
                return 200, {"result": getattr(self, name)(**kwargs)}
            except (TypeError, ValueError, KeyError, OSError) as exc:
                return 400, {"error": f"{type(exc).__name__}: {exc}"}
        return 404, {"error": f"no control endpoint {method} {path}"}


def _snake(name: str) -> str:
    """A form field's name as Twilio's JSON names it: BusinessName → business_name."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _single_page(path: str, query: dict, page_size: int, key: str, items: list[dict]) -> dict:
    """A list answer that fits on one page, in Twilio's paging envelope (the phone-number lists never page)."""
    uri = f"{path}?{urlencode(query)}"
    return {
        "end": max(len(items) - 1, 0),
        "first_page_uri": uri,
        "next_page_uri": None,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": None,
        "start": 0,
        "uri": uri,
        key: items,
    }


def _date_matches(msg: _Message, name: str, value: date | datetime) -> bool:
    sent = msg.date_sent
    if sent is None:
        return False
    if isinstance(value, datetime):
        if name == "DateSent":
            return sent.date() == value.astimezone(UTC).date()
        return sent <= value if name == "DateSent<" else sent >= value
    day = sent.date()
    if name == "DateSent":
        return day == value
    return day <= value if name == "DateSent<" else day >= value


def _parse_number(raw: str, country: str | None) -> dict:
    invalid = {
        "calling_country_code": None,
        "country_code": None,
        "phone_number": raw,
        "national_format": None,
        "valid": False,
    }
    compact = re.sub(r"[\s().-]", "", raw)
    if compact.startswith("+"):
        digits = compact[1:]
        if not digits.isdigit():
            return {**invalid, "validation_errors": ["NOT_A_NUMBER"]}
    else:
        if not compact.isdigit():
            return {**invalid, "validation_errors": ["NOT_A_NUMBER"]}
        calling = COUNTRY_TO_CALLING.get((country or "US").upper())
        if calling is None:
            return {**invalid, "validation_errors": ["INVALID_COUNTRY_CODE"]}
        digits = (
            compact
            if calling == "1" and len(compact) == 11 and compact[0] == "1"
            else calling + compact.lstrip("0")
        )
    calling = next((digits[:n] for n in (3, 2, 1) if digits[:n] in CALLING_CODES), None)
    if calling is None:
        return {**invalid, "validation_errors": ["INVALID_COUNTRY_CODE"]}
    national = digits[len(calling) :]
    if calling == "1":
        if len(national) != 10:
            return {**invalid, "validation_errors": ["TOO_SHORT" if len(national) < 10 else "TOO_LONG"]}
        national_format = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    else:
        if len(national) < 6:
            return {**invalid, "validation_errors": ["TOO_SHORT"]}
        if len(digits) > 15:
            return {**invalid, "validation_errors": ["TOO_LONG"]}
        national_format = (
            "0" + national if CALLING_CODES[calling] in ("GB", "DE", "FR", "AU", "NZ", "IE") else national
        )
    return {
        "calling_country_code": calling,
        "country_code": CALLING_CODES[calling],
        "phone_number": "+" + digits,
        "national_format": national_format,
        "valid": True,
        "validation_errors": None,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests' connection pool expects
    server_version = "FakeTwilio/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    fake: FakeTwilio

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PATCH(self):
        self._handle("PATCH")

    # --------------------------------------------------------------

    def _send(self, status: int, payload, record: dict | None = None) -> None:
        body = b"" if status == 204 else json.dumps(payload, separators=(",", ":")).encode("utf-8")
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Twilio-Request-Id: RQ{uuid.uuid4().hex}\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        if record is not None:
            record["status"] = status
            if status >= 400 and isinstance(payload, dict):
                record["error"] = f"{payload.get('code')} {payload.get('message')}"
        self.wfile.write(head.encode("latin-1") + b"\r\n" + body)

    def _send_bytes(self, status: int, body: bytes, content_type: str, record: dict) -> None:
        record["status"] = status
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write(head.encode("latin-1") + b"\r\n" + body)

    def _send_redirect(self, location: str, record: dict) -> None:
        record["status"] = 307
        head = (
            "HTTP/1.1 307 Temporary Redirect\r\n"
            f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
            f"Location: {location}\r\n"
            "Content-Length: 0\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        self.wfile.write(head.encode("latin-1") + b"\r\n")

    def _drop(self, record: dict) -> None:
        record["status"] = None
        record["error"] = "connection dropped (scripted)"
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _handle(self, method: str) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        path = unquote(split.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""

        if fake.control_endpoints and path.startswith("/_fake/"):
            status, payload = fake._control(method, path, raw_body)
            self._send(status, payload)
            return

        query_pairs = parse_qsl(split.query, keep_blank_values=True)
        content_type = self.headers.get("Content-Type", "")
        is_form = content_type.split(";")[0].strip().lower() == FORM
        form_pairs = parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True) if is_form else []
        op, values, allowed = fake.spec.match(method, path)
        arrays = [n for n, p in op.form_params.items() if p.is_array] if op else ()
        record = {
            "method": method,
            "path": path,
            "query": _pairs_to_dict(query_pairs),
            "form": _pairs_to_dict(form_pairs, arrays),
            "headers": dict(self.headers.items()),
            "operation": op.operation_id if op else None,
            "status": None,
            "received_at": time.time(),
        }
        with fake._lock:
            fake._requests.append(record)

        with fake._lock:
            cdn = fake._cdn.get(path) if method == "GET" else None
        if cdn is not None:  # the CDN's short-lived link: the link is the key
            self._send_bytes(200, *cdn, record)
            return
        authenticated = fake._authorized(self.headers.get("Authorization"))
        if authenticated is None:
            self._send(401, twilio_error(401, 20003), record)
            return
        record["authenticated_as"] = authenticated
        with fake._lock:
            media = fake._media.get(path) if method == "GET" else None
        if media is not None:
            # Served to the account it lives in (named in its path) and to that account's parent only.
            owner = re.search(r"/Accounts/(AC\w+)/", path)
            if owner is None or not fake._may_act_on(authenticated, owner[1]):
                self._send(404, twilio_error(404, 20404, path=path), record)
                return
            content, kind = media
            if not content and kind.startswith("https://"):
                self._send_redirect(kind, record)
                return
            self._send_bytes(200, *media, record)
            return
        if op is None:
            if allowed:
                fake._violation(
                    record, f"{method} is not allowed on {path}; the spec has {', '.join(allowed)}"
                )
                self._send(405, twilio_error(405, 20004), record)
            else:
                fake._violation(record, f"No operation in Twilio's spec matches {method} {path}")
                self._send(404, twilio_error(404, 20404, path=path), record)
            return
        problems = op.check_path(values)
        if problems:
            fake._violation(record, "; ".join(problems))
            self._send(404, twilio_error(404, 20404, path=path), record)
            return
        account = values.get("AccountSid") or (
            values.get("Sid") if op.operation_id.endswith("Account") else None
        )
        if account is not None and not fake._may_act_on(authenticated, account):
            self._send(404, twilio_error(404, 20404, path=path), record)
            return
        record["account"] = account or authenticated
        status, payload = self._validate(op, record, query_pairs, form_pairs, raw_body, is_form, content_type)
        if status:
            self._send(status, payload, record)
            return

        operation = OPERATIONS.get(op.operation_id, op.operation_id)
        fake._enter(operation)
        try:
            self._answer(op, record, values, path, operation)
        finally:
            fake._leave(operation)

    def _answer(self, op: Operation, record: dict, values: dict, path: str, operation: str) -> None:
        """Answer a request that passed the spec's checks: scripted faults first, then the operation itself."""
        fake = self.fake
        failing, hang = fake._timed_fault(operation)
        wake = fake._wake
        if failing is not None:
            record["scripted"] = "outage"
            self._send(failing, twilio_error(failing), record)
            return
        action = fake._take_script(operation)
        if action is not None:
            kind, argument = action
            record["scripted"] = kind
            if kind == "drop":
                self._drop(record)
                return
            if kind == "fail":
                self._send(argument[0], argument[1], record)
                return
            hang, wake = argument, fake._wake

        account = record["account"]
        if op.operation_id == "CreateMessage":
            status, payload = fake._create(record["form"], account)
        elif op.operation_id == "CreateAccount":
            status, payload = fake._create_account(account, record["form"])
        elif op.operation_id == "FetchAccount":
            status, payload = fake._fetch_account(path, values["Sid"])
        elif op.operation_id == "UpdateAccount":
            status, payload = fake._update_account(path, values["Sid"], record["form"])
        elif op.operation_id == "ListAvailablePhoneNumberLocal":
            status, payload = fake._search(path, values["CountryCode"], record["query"])
        elif op.operation_id == "CreateIncomingPhoneNumber":
            status, payload = fake._buy(record["form"], account)
        elif op.operation_id == "ListIncomingPhoneNumber":
            status, payload = fake._list_incoming(path, record["query"], account)
        elif op.operation_id == "UpdateIncomingPhoneNumber":
            status, payload = fake._configure(
                path, values["Sid"], record["form"], account, record["authenticated_as"]
            )
        elif op.operation_id == "DeleteIncomingPhoneNumber":
            status, payload = fake._release(path, values["Sid"], account)
        elif op.operation_id == "ListMessage":
            status, payload = fake._list(path, record["query"], account)
        elif op.operation_id == "FetchMessage":
            status, payload = fake._fetch(path, values["Sid"], account)
        elif op.operation_id == "CreateCall":
            status, payload = fake._create_call(record["form"], account)
        elif op.operation_id == "FetchPhoneNumber":
            status, payload = fake._lookup(values["PhoneNumber"], record["query"])
        elif op.api in ("trusthub_v1", "messaging_v1"):
            status, payload = fake._registration(op.operation_id, values, record["form"], account, path)
        elif op.api == "events_v1":
            status, payload = fake._events(op.operation_id, record["form"], account)
        elif op.api == "numbers_v2":
            status, payload = fake._hosting(op.operation_id, values, record["form"], account, path)
        elif op.operation_id == "CreateAddress":
            status, payload = fake._create_address(record["form"], account)
        elif op.operation_id in ("ListUsageRecordThisMonth", "ListUsageRecordLastMonth"):
            period = op.operation_id.removeprefix("ListUsageRecord")
            status, payload = fake._usage_records(path, period, record["query"], account)
        else:  # an operation in the spec subset that the fake does not implement
            status, payload = 501, twilio_error(501, 20500, f"The fake does not implement {op.operation_id}")

        if hang:
            wake.wait(hang)
        self._send(status, payload, record)

    def _validate(self, op: Operation, record, query_pairs, form_pairs, raw_body, is_form, content_type):
        """Spec checks → (0, None) if fine, else (status, error) to answer; problems are recorded as violations."""
        problems = op.check_query(query_pairs)
        if raw_body and not is_form:
            if op.has_form_body:
                problems.append(f"Content-Type must be {FORM}, got {content_type!r}")
            else:
                problems.append(f"{op.operation_id} takes no request body, got {len(raw_body)} bytes")
        problems += op.check_form(form_pairs)
        if op.operation_id == "FetchPhoneNumber":
            fields = [f.strip() for f in record["query"].get("Fields", "").split(",") if f.strip()]
            unknown = [f for f in fields if f not in LOOKUP_FIELDS]
            if unknown:
                problems.append(
                    f"Unknown Lookup field(s) {unknown}; known: {', '.join(sorted(LOOKUP_FIELDS))}"
                )
        if not problems:
            return 0, None
        for problem in problems:
            self.fake._violation(record, problem)
        if op.operation_id == "CreateMessage" and not record["form"].get("To"):
            return 400, twilio_error(400, 21604)
        return 400, twilio_error(400, 20001, "; ".join(problems))
