"""Middleware that belongs to no app."""

import ipaddress
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse

FORWARDED_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_FORWARDED",
)


class TrustedProxyMiddleware:
    """Believe X-Forwarded-For and X-Forwarded-Proto only from the proxy in front of us (TRUSTED_PROXIES).

    From the proxy, REMOTE_ADDR becomes the client's address: the right-most X-Forwarded-For entry that is not
    itself a trusted proxy (entries to its left are whatever the client chose to send). From anyone else the
    forwarding headers are dropped, so a client cannot pick the address its failed logins count against, nor
    claim https (SECURE_PROXY_SSL_HEADER) over plain http."""

    def __init__(self, get_response):
        self.get_response = get_response

    @cached_property
    def networks(self) -> list | None:
        if "*" in settings.TRUSTED_PROXIES:
            return None  # every sender
        try:
            return [ipaddress.ip_network(value.strip(), strict=False) for value in settings.TRUSTED_PROXIES]
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"FORWARDED_ALLOW_IPS holds something that is not an address: {exc}"
            ) from None

    def trusted(self, address: str) -> bool:
        if self.networks is None:
            return True
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(parsed in network for network in self.networks)

    def __call__(self, request):
        meta = request.META
        if settings.TRUSTED_PROXIES and self.trusted(meta.get("REMOTE_ADDR", "")):
            hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
            for hop in reversed(hops):
                if not self.trusted(hop):
                    if _is_address(hop):  # our proxy wrote it; anything else leaves the proxy's own address
                        meta["REMOTE_ADDR"] = hop
                    break
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class RejectNulInQueryMiddleware:
    """A query string holding a NUL character is a 400 with the reason.

    PostgreSQL cannot store or compare text containing NUL, and psycopg refuses to send it: a search for it
    would be a 500. Forms and the API's serializers already refuse NUL in what they read (Django's and DRF's
    CharField validators); query strings reach filters and searches without them, so they are checked here."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "%00" in request.META.get("QUERY_STRING", "") and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return HttpResponse(
                "Query parameters can't contain NUL characters.", status=400, content_type="text/plain"
            )
        return self.get_response(request)


class RequestBodyLimitMiddleware:
    """A request body larger than REQUEST_BODY_MAX_BYTES is a 413, refused on its Content-Length before any of
    it is read. The reverse proxy refuses the same (deploy/Caddyfile: request_body max_size), but `./run demo` and
    any deployment without it have only this: the staff reply's photo and the contacts' CSV import check their
    own sizes only once Django has stored the whole upload. A view with a tighter limit keeps its own (the
    intake page: INTAKE_MAX_REQUEST_BYTES)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH", "")
        if length.isdigit() and int(length) > settings.REQUEST_BODY_MAX_BYTES:
            limit = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
            return HttpResponse(
                f"The request is too large: at most {limit} MiB.", status=413, content_type="text/plain"
            )
        return self.get_response(request)
