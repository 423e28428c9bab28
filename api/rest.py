"""What every endpoint shares: API-key authentication, scopes, per-key rate limits, one error shape, cursor
pagination and Idempotency-Key handling. Configured on the API's own base class, not in REST_FRAMEWORK, so
nothing else in the project changes behaviour."""

import hashlib
import hmac
import json
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.timezone import now
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.serializers import as_serializer_error
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.viewsets import GenericViewSet

from accounts.models import AgencyMembership, Client, ClientMembership
from accounts.selectors import agency_role, request_client

from .models import ApiKey, IdempotencyRecord
from .services import KEY_PREFIX, apikey_touch, secret_hash

# --- Authentication ----------------------------------------------------------------------------------------


def apikey_find(*, raw: str) -> ApiKey | None:
    """The key this secret belongs to, or None. Constant-time on the secret."""
    scheme, _, rest = raw.partition("_")
    prefix, _, _secret = rest.partition("_")
    if scheme != KEY_PREFIX or not prefix or len(prefix) > 16:
        return None
    key = ApiKey.objects.select_related("client", "agency", "created_by").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash.encode(), secret_hash(raw).encode()):
        return None
    return key


def key_fits_host(key: ApiKey, request) -> bool:
    """A client's key works on its client's host; an agency's on its own host (the platform host or its own
    domain) and on the hosts of its clients."""
    client = request_client(request)
    if client is not None:
        return key.client_id == client.pk or (key.agency_id is not None and key.agency_id == client.agency_id)
    agency = getattr(request, "agency", None)
    return key.agency_id is not None and (agency is None or agency.pk == key.agency_id)


# The roles whose holder may write through the API, as in the app: a client's owners and staff, its agency's
# people (client_role "agency"), and for an agency's own key (clients, pause, resume) the agency's admins.
_CLIENT_WRITERS = {"agency", ClientMembership.Role.OWNER, ClientMembership.Role.STAFF}


def key_creator_still_may(key: ApiKey) -> bool:
    """A key acts as the person who made it, with no more than they may do now: once they have left the client
    or agency it stops working, and a write key stops when they may only read (an owner made read-only
    staff, an agency admin made staff). Checked on every request, so a change of role applies at once."""
    user = key.created_by
    if user is None or not user.is_active:
        return False
    if key.client_id is not None:
        # The client's own people first (one statement for them, on every request), then its agency's.
        role = (
            ClientMembership.objects.filter(user=user, client_id=key.client_id)
            .values_list("role", flat=True)
            .first()
        )
        if role is None and (
            user.is_superuser
            or AgencyMembership.objects.filter(user=user, agency_id=key.client.agency_id).exists()
        ):
            role = "agency"
        return role is not None and (not key.may_write or role in _CLIENT_WRITERS)
    role = agency_role(user, key.agency)
    return role is not None and (not key.may_write or role == AgencyMembership.Role.ADMIN)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer tb_…``. No header: 401. Unknown or revoked key: 401. A key of another client
    or agency: 404, exactly as if the API were not there for it."""

    def authenticate(self, request):
        header = get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise exceptions.AuthenticationFailed("Send the API key as “Authorization: Bearer <key>”.")
        key = apikey_find(raw=token)
        if key is None:
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        if not key.is_active:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if not key_fits_host(key, request):
            raise exceptions.NotFound()
        if not key_creator_still_may(key):
            raise exceptions.AuthenticationFailed(
                "The person who made this API key no longer has access, or may no longer do what the key "
                "does; make a new key."
            )
        apikey_touch(api_key=key)
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.rest.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key made on the API keys page."}


class KeyScope(BasePermission):
    message = "This API key is read-only; make a key with the write scope to change anything."

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        return request.method in SAFE_METHODS or key.may_write


class AgencyKeyOnly(BasePermission):
    message = "Only an agency's API key can do this."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey) and request.auth.agency_id is not None


# --- Rate limits -------------------------------------------------------------------------------------------


def _throttle_cache():
    """The Redis cache without the per-schema key prefix the default one adds: an agency's key is one key
    however many of its clients' hosts it is used on, so it gets one budget."""
    default = settings.CACHES["default"]
    return RedisCache(default["LOCATION"], {"KEY_PREFIX": f"{default.get('KEY_PREFIX', '')}-api-throttle"})


class PerKeyThrottle(SimpleRateThrottle):
    """API_RATE_LIMIT requests per key (e.g. "600/minute"), counted in Redis; 429 with Retry-After."""

    scope = "api_key"
    cache = _throttle_cache()

    def get_rate(self) -> str:
        return getattr(settings, "API_RATE_LIMIT", "600/minute")

    def get_cache_key(self, request, view) -> str | None:
        key = request.auth
        return f"api-throttle-{key.pk}" if isinstance(key, ApiKey) else None


# --- Errors ------------------------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "That cannot be done in the current state."


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used for a different request; use a new key for a new request."
    )


def api_exception_handler(exc, context):
    """Every error as {"error": {"code", "message", "fields"}}; "fields" maps a field to its messages."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()  # the same words for a missing row and another client's one
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = {}
    if isinstance(exc, exceptions.ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        fields = {
            name: errors if isinstance(errors, list | dict) else [errors] for name, errors in data.items()
        }
        general = fields.pop("non_field_errors", None)
        message = str(general[0]) if general else "Some fields are not valid: " + ", ".join(fields) + "."
        if general and len(general) > 1:
            fields["non_field_errors"] = general
        code = "invalid"
    else:
        message = str(response.data.get("detail", exc)) if isinstance(response.data, dict) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else None
        code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


# --- Pagination --------------------------------------------------------------------------------------------


class Cursor(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")


# --- Idempotency -------------------------------------------------------------------------------------------

IDEMPOTENCY_KEPT = timedelta(hours=24)


def _fingerprint(request) -> str:
    canon = json.dumps(
        [request.method, request.get_host(), request.path, request.data], sort_keys=True, default=str
    )
    return hashlib.sha256(canon.encode()).hexdigest()


def idempotent(handler):
    """A create that honours ``Idempotency-Key``: the same key with the same request answers what the first
    answered and writes nothing; the same key with another request is refused (422). The record and the
    create commit together, so a concurrent repeat waits on the unique index and then replays."""

    @wraps(handler)
    def wrapper(self, request, *args, **kwargs):
        idempotency_key = request.headers.get("Idempotency-Key", "").strip()
        if not idempotency_key:
            return handler(self, request, *args, **kwargs)
        if len(idempotency_key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": ["Use at most 255 characters."]})
        fingerprint = _fingerprint(request)
        with transaction.atomic():
            IdempotencyRecord.objects.filter(
                api_key=request.auth, idempotency_key=idempotency_key, created_at__lt=now() - IDEMPOTENCY_KEPT
            ).delete()
            record, created = IdempotencyRecord.objects.get_or_create(
                api_key=request.auth, idempotency_key=idempotency_key, defaults={"fingerprint": fingerprint}
            )
            if not created:
                if record.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Response(
                    record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"}
                )
            response = handler(self, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)  # nothing was made: the same key may be used again
                return response
            record.status_code = response.status_code
            record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            record.save(update_fields=["status_code", "response_body"])
            return response

    return wrapper


# --- The base of every endpoint ----------------------------------------------------------------------------


class ApiViewSet(GenericViewSet):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [KeyScope]
    throttle_classes = [PerKeyThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    pagination_class = Cursor
    schema = AutoSchema()

    def get_exception_handler(self):
        return api_exception_handler

    @property
    def client(self) -> Client:
        return request_client(self.request)


class Router(SimpleRouter):
    """SimpleRouter, with DELETE on a collection routed to the viewset's `unsubscribe` where it has one: REST
    hooks' `DELETE /api/v1/hooks/` with the target URL (viewsets without it answer 405 as before)."""

    routes = [
        SimpleRouter.routes[0]._replace(mapping={**SimpleRouter.routes[0].mapping, "delete": "unsubscribe"}),
        *SimpleRouter.routes[1:],
    ]
