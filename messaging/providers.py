"""The SMS provider: one small interface, a Twilio implementation and a console one for development.

Every failure comes out as ProviderError, which says what the sender must do next:
- permanent: retrying cannot help (opted out, not a mobile number, bad request);
- ambiguous: the request may have reached the provider, so the message may exist; reconcile before resending;
- otherwise transient: nothing was created; retry with backoff.
"""

import functools
import logging
import os
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
import requests.adapters
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client as TwilioClient

log = logging.getLogger(__name__)

# Twilio error codes after which the same send can never succeed.
OPTED_OUT_CODES = frozenset({21610})
UNREACHABLE_CODES = frozenset({21211, 21612, 21614, 30005, 30006})
LANDLINE_CODES = frozenset({21614, 30006})
# 4xx answers that still mean "try again later" (21611: the sending number's queue is full).
RETRY_LATER_CODES = frozenset({20429, 21611})


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        permanent: bool = False,
        ambiguous: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.status = status
        self.permanent = permanent
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str
    segments: int | None = None


class Provider:
    name = "abstract"

    def send(
        self,
        *,
        from_number: str,
        to_number: str,
        body: str,
        status_callback: str,
        media_urls: tuple = (),
        key: str = "",
    ) -> SentMessage:
        """Send a text; `media_urls` (public URLs the provider fetches) make it an MMS. `key` is the same for every
        attempt at one text: a provider that takes an idempotency key is given it, so that an attempt whose answer
        was lost, sent again, is not a second text."""
        raise NotImplementedError

    # What a permanent error code says about the caller (each provider its own codes).
    def opted_out(self, code: int | None) -> bool:
        return code in OPTED_OUT_CODES

    def landline(self, code: int | None) -> bool:
        return code in LANDLINE_CODES

    def unreachable(self, code: int | None) -> bool:
        return code in UNREACHABLE_CODES

    def find_sent(
        self, *, from_number: str, to_number: str, body: str, since: datetime
    ) -> SentMessage | None:
        """A message with this body already accepted by the provider since `since`, if there is one."""
        raise NotImplementedError

    def line_type(self, number: str) -> str | None:
        """ "mobile", "landline", "voip", "other", or None when the provider cannot tell."""
        raise NotImplementedError

    def call(
        self, *, from_number: str, to_number: str, twiml: str = "", url: str = "", status_callback: str = ""
    ) -> str:
        """Place a phone call that plays `twiml` (or asks `url` what to do) when answered; returns its sid."""
        raise NotImplementedError


class ConsoleProvider(Provider):
    """Development and demo: logs each text; the Message row keeps it visible in the app."""

    name = "console"

    def send(self, *, from_number, to_number, body, status_callback, media_urls=(), key=""):
        sid = "CN" + uuid.uuid4().hex
        log.info("console SMS %s → %s: %s", from_number, to_number, body)
        return SentMessage(sid=sid, status="sent")

    def find_sent(self, *, from_number, to_number, body, since):
        return None  # a console send never has an unknown outcome

    def line_type(self, number):
        return None

    def call(self, *, from_number, to_number, twiml="", url="", status_callback=""):
        log.info("console call %s → %s: %s", from_number, to_number, twiml or url)
        return "CA" + uuid.uuid4().hex


class SharedHttpClient(TwilioHttpClient):
    """twilio-python's HTTP client, safe to share between the sender's threads. Its own request() keeps each
    answer on the client object (`_test_only_last_response`) and returns it from there: with one client shared
    by 32 threads, a thread could return another's answer (another text's sid, recorded against this text) or
    None. Here each request keeps its answer to itself; the kept-alive session underneath is requests' (its
    connection pool is thread-safe). It also skips what twilio-python built for its tests on every request."""

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        if timeout is None:
            timeout = self.timeout
        elif timeout <= 0:
            raise ValueError(timeout)
        session = self.session
        assert session is not None  # made with pool_connections (the default): one kept-alive session
        kwargs = {"method": method.upper(), "url": url, "params": params, "headers": headers, "auth": auth}
        json_body = bool(headers) and headers.get("Content-Type") in (
            "application/json",
            "application/scim+json",
        )
        kwargs["json" if json_body else "data"] = data
        self.log_request(kwargs)
        prepared = session.prepare_request(requests.Request(hooks=self.request_hooks, **kwargs))
        environment = session.merge_environment_settings(prepared.url, self.proxy, None, None, None)
        response = session.send(prepared, allow_redirects=allow_redirects, timeout=timeout, **environment)
        self.log_response(response.status_code, response)
        return Response(int(response.status_code), response.text, response.headers)


class OriginRewritingHttpClient(SharedHttpClient):
    """Sends every request to TWILIO_API_BASE_URL's origin with the path unchanged (api.twilio.com,
    lookups.twilio.com … all land there): how tests and benchmarks put a fake Twilio at the HTTP boundary."""

    def __init__(self, origin: str, **kwargs):
        super().__init__(**kwargs)
        parts = urlsplit(origin)
        self.scheme, self.netloc = parts.scheme, parts.netloc

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return super().request(method, url, *args, **kwargs)


# Connections kept open to Twilio per process: more than the sender's threads (--concurrency, 32 by default).
HTTP_POOL_SIZE = 64

LINE_TYPES = {"mobile": "mobile", "landline": "landline", "fixedVoip": "voip", "nonFixedVoip": "voip"}


def twilio_client(account_sid: str | None = None, auth_token: str | None = None) -> TwilioClient:
    """twilio-python's client for our account (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_TIMEOUT_SECONDS), or
    for an agency's own or sub- account when its credentials are given (messaging.twilio_accounts), sending to
    TWILIO_API_BASE_URL instead of Twilio when that is set. Sending texts (TwilioProvider) and buying numbers
    (telephony.numbers) both use it."""
    api_base_url, timeout = settings.TWILIO_API_BASE_URL, settings.TWILIO_TIMEOUT_SECONDS
    http_client = (
        OriginRewritingHttpClient(api_base_url, timeout=timeout)
        if api_base_url
        else SharedHttpClient(timeout=timeout)
    )
    # requests reads the environment (proxies, CA bundle, ~/.netrc) again for every request, about a
    # millisecond of each text-back's worker time. Unless a proxy is set (whose no_proxy rules are per URL), the
    # CA bundle it would find is read once, here, and it is told not to look again.
    # One kept-alive session for the process, shared by the sender's threads: sized so that every thread keeps
    # its connection (urllib3's default of 10 would open and throw away a connection per send above that).
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=HTTP_POOL_SIZE)
    http_client.session.mount("https://", adapter)
    http_client.session.mount("http://", adapter)
    if not urllib.request.getproxies():
        http_client.session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        http_client.session.trust_env = False
    return TwilioClient(
        account_sid or settings.TWILIO_ACCOUNT_SID,
        auth_token or settings.TWILIO_AUTH_TOKEN,
        http_client=http_client,
    )


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, client: TwilioClient):
        self.client = client

    def send(self, *, from_number, to_number, body, status_callback, media_urls=(), key=""):
        extra = {"media_url": list(media_urls)} if media_urls else {}
        try:
            message = self.client.messages.create(
                to=to_number, from_=from_number, body=body, status_callback=status_callback, **extra
            )
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.ConnectTimeout as exc:  # never connected: nothing was sent
            raise ProviderError(f"could not connect: {exc}") from exc
        except requests.RequestException as exc:  # the request may have left: outcome unknown
            raise ProviderError(f"no answer from Twilio: {exc}", ambiguous=True) from exc
        segments = int(message.num_segments) if message.num_segments else None
        return SentMessage(sid=message.sid, status=message.status, segments=segments)

    def find_sent(self, *, from_number, to_number, body, since):
        try:
            # No date filter: Twilio leaves date_sent empty while a message is still queued, and a queued
            # message is exactly the one a resend would duplicate. The list is newest first.
            candidates = self.client.messages.list(to=to_number, from_=from_number, limit=20)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.RequestException as exc:
            raise ProviderError(f"could not list messages: {exc}", ambiguous=True) from exc
        for message in candidates:
            created = message.date_created or message.date_sent
            if message.body == body and (created is None or created >= since - timedelta(minutes=1)):
                return SentMessage(sid=message.sid, status=message.status)
        return None

    def line_type(self, number):
        try:
            result = self.client.lookups.v2.phone_numbers(number).fetch(fields="line_type_intelligence")
        except (TwilioRestException, requests.RequestException) as exc:
            log.warning("line type lookup for %s failed: %s", number, exc)
            return None
        kind = (result.line_type_intelligence or {}).get("type")
        return LINE_TYPES.get(kind, "other") if kind else None

    def call(self, *, from_number, to_number, twiml="", url="", status_callback=""):
        options: dict[str, str] = {"twiml": twiml} if twiml else {"url": url, "method": "POST"}
        if status_callback:
            options.update(status_callback=status_callback, status_callback_method="POST")
        try:
            call = self.client.calls.create(to=to_number, from_=from_number, **options)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except requests.RequestException as exc:
            # Never retried blindly: a call that did leave would ring the phone twice.
            raise ProviderError(f"no answer from Twilio: {exc}", ambiguous=True) from exc
        return call.sid


def _classify(exc: TwilioRestException) -> ProviderError:
    status, code = exc.status, exc.code
    message = f"Twilio {status} {code or ''}: {exc.msg}".strip()
    if status == 429 or status >= 500 or code in RETRY_LATER_CODES:
        return ProviderError(message, code=code, status=status)
    return ProviderError(message, code=code, status=status, permanent=True)


@functools.cache
def get_provider() -> Provider:
    if settings.TELEPHONY_PROVIDER == "twilio":
        return TwilioProvider(twilio_client())
    return ConsoleProvider()


def status_callback_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/hooks/twilio/sms/status/"
