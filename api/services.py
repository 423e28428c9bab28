"""Writes for the API: keys, a client's pause switch, webhook endpoints and their deliveries.

Everything the API changes in a client's data goes through the core's own services (crm, inbox, messaging,
accounts); what is here is only what the API itself owns."""

import codecs
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.timezone import now

from accounts.models import Agency, Client, User
from accounts.services import client_pause, client_resume
from config import outbound
from events.bus import public_events

from .models import ApiKey, IdempotencyRecord, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

KEY_PREFIX = "tb"


# --- API keys ----------------------------------------------------------------------------------------------


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def apikey_create(
    *, name: str, scope: str, created_by: User, client: Client | None = None, agency: Agency | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret, which is never stored and so can be shown only now."""
    if (client is None) == (agency is None):
        raise ValueError("A key belongs to a client or to an agency.")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the key after what will use it, e.g. “Zapier”."})
    if scope not in ApiKey.Scope.values:
        raise ValidationError({"scope": "Choose read or write."})
    prefix = secrets.token_hex(6)
    raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        client=client,
        agency=agency,
        name=name[:80],
        prefix=prefix,
        secret_hash=secret_hash(raw),
        scope=scope,
        created_by=created_by,
    )
    return key, raw


def apikey_revoke(*, api_key: ApiKey) -> None:
    if api_key.revoked_at is None:
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now())
        api_key.revoked_at = now()
        # What subscribed with the key stops hearing events with it (Zapier can no longer unsubscribe).
        if WebhookEndpoint.objects.filter(api_key=api_key, is_active=True).update(
            is_active=False, disabled_reason="Its API key was revoked."
        ):
            _endpoint_owners_changed()


LAST_USED_EVERY = timedelta(minutes=1)


def apikey_touch(*, api_key: ApiKey) -> None:
    """Note when a key was last used, at most once a minute (not a write per request)."""
    moment = now()
    if api_key.last_used_at is None or api_key.last_used_at < moment - LAST_USED_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=moment)
        api_key.last_used_at = moment


# --- Clients (agency keys) ---------------------------------------------------------------------------------


def client_set_paused(*, client: Client, paused: bool, actor: User) -> Client:
    """Pause (no text-backs go out; the send path checks the status) or resume a client, through the same
    services as the dashboard (so it is in the agency's audit log). Asking for the state it is already in
    changes nothing; accounts.services.ClientStateError for a client that is neither live nor paused."""
    if client.status == (Client.Status.PAUSED if paused else Client.Status.LIVE):
        return client
    change = client_pause if paused else client_resume
    return change(client=client, actor=actor)


# --- Webhook endpoints -------------------------------------------------------------------------------------


def private_addresses_allowed() -> bool:
    return settings.DEBUG or getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)


def webhook_url_problem(url: str) -> str | None:
    """Why we will not send to this URL, or None. Outside development only https to public addresses: a
    webhook must never become a way to reach the platform's own network (SSRF). Checked when the endpoint is
    made, so its owner hears at once; every delivery is checked again where it connects (config.outbound)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Use an http or https URL."
    if private_addresses_allowed():
        return None
    if parts.scheme != "https":
        return "Use an https URL."
    try:
        outbound.resolve(parts.hostname, parts.port or 443, allow_private=False)
    except ValueError:  # a port that is not a number
        return "Use an http or https URL."
    except outbound.OutboundError as exc:
        return str(exc)
    return None


def webhook_endpoint_create(
    *,
    url: str,
    events: list[str],
    created_by: User,
    client: Client | None = None,
    agency: Agency | None = None,
    api_key: ApiKey | None = None,
) -> WebhookEndpoint:
    if (client is None) == (agency is None):
        raise ValueError("An endpoint belongs to a client or to an agency.")
    errors = {}
    problem = webhook_url_problem(url)
    if problem:
        errors["url"] = problem
    offered = {public.name for public in public_events()}
    unknown = [event for event in events if event not in offered]
    if not events:
        errors["events"] = "Choose at least one event."
    elif unknown:
        errors["events"] = f"No such event: {', '.join(sorted(unknown))}."
    if errors:
        raise ValidationError(errors)
    endpoint = WebhookEndpoint.objects.create(
        client=client,
        agency=agency,
        url=url,
        events=sorted(set(events)),
        secret=f"whsec_{secrets.token_hex(24)}",
        created_by=created_by,
        api_key=api_key,
    )
    _endpoint_owners_changed()
    return endpoint


def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, reason: str = "") -> None:
    reason = "" if active else reason[:200]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=active, disabled_reason=reason)
    endpoint.is_active, endpoint.disabled_reason = active, reason
    _endpoint_owners_changed()


# --- REST hooks (Zapier, Make) -----------------------------------------------------------------------------


def hook_subscribe(
    *,
    api_key: ApiKey,
    target_url: str,
    event: str,
    client: Client | None = None,
    agency: Agency | None = None,
) -> tuple[WebhookEndpoint, bool]:
    """A REST hook: an endpoint for one event of a client (on its host) or of an agency (on the agency's host:
    it hears every one of the agency's clients), remembered with the key that subscribed it, delivered and
    signed like any other. Subscribing the same URL to the same event again finds the first subscription
    (turned back on): those tools retry, and must not get each event twice. Returns it and whether it is new;
    django ValidationError for a URL or event we will not take."""
    owner = Q(client=client) if client is not None else Q(agency=agency, client__isnull=True)
    existing = WebhookEndpoint.objects.filter(
        owner, api_key__isnull=False, url=target_url, events=[event]
    ).first()
    if existing is not None:
        if not existing.is_active:
            webhook_endpoint_set_active(endpoint=existing, active=True)
        return existing, False
    endpoint = webhook_endpoint_create(
        url=target_url,
        events=[event],
        created_by=api_key.created_by,
        client=client,
        agency=None if client is not None else agency,
        api_key=api_key,
    )
    return endpoint, True


def hook_test_send(*, endpoint: WebhookEndpoint, client: Client, event: str, data: dict) -> WebhookDelivery:
    """A test delivery of a sample event to one endpoint, signed and logged like a real one."""
    [delivery] = webhook_event_emit(client=client, event=event, data=data, endpoints=[endpoint])
    return delivery


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()
    _endpoint_owners_changed()


# Every event of every client asks "does anyone want this?", and the answer is nearly always no: the clients
# and agencies with an active endpoint are kept in the cache, stamped with a version that each change to an
# endpoint moves on once it commits. A list computed while a change was committing carries the old version
# and is never believed, so an endpoint is heard from as soon as it exists.
_OWNERS_KEY = "api:endpoint-owners"
_OWNERS_VERSION_KEY = "api:endpoint-owners-version"


def _platform_cache():
    return caches["platform"]


def _endpoint_owners_changed() -> None:
    def bump():
        try:
            _platform_cache().incr(_OWNERS_VERSION_KEY)
        except ValueError:  # no version yet (or the cache was emptied)
            _platform_cache().set(_OWNERS_VERSION_KEY, 1, timeout=None)

    bump()  # this transaction's own events see the change at once,
    transaction.on_commit(bump)  # and a list computed by others while it committed is not believed


def endpoint_owners_forget() -> None:
    """Drop the cached owners (tests, which make endpoints without these services and roll them back)."""
    _platform_cache().delete_many([_OWNERS_KEY, _OWNERS_VERSION_KEY])


def client_has_webhook_endpoints(*, client: Client) -> bool:
    """Whether the client or its agency has an active endpoint, mostly from the cache (one round trip)."""
    try:
        found = _platform_cache().get_many([_OWNERS_KEY, _OWNERS_VERSION_KEY])
        version = found.get(_OWNERS_VERSION_KEY, 0)
        cached = found.get(_OWNERS_KEY)
        if cached is None or cached[0] != version:
            owners = WebhookEndpoint.objects.filter(is_active=True).values_list("client_id", "agency_id")
            cached = (version, {("client", c) if c else ("agency", a) for c, a in owners})
            _platform_cache().set(_OWNERS_KEY, cached, timeout=3600)
    except Exception:  # the cache is Redis: without it, ask the database every time
        log.warning("endpoint owners not cached; asking the database")
        return True
    return ("client", client.pk) in cached[1] or ("agency", client.agency_id) in cached[1]


# --- Events and deliveries ---------------------------------------------------------------------------------

# After a failed attempt the next waits 1, 2, 4 … minutes; a delivery is given up a day after its event.
FIRST_RETRY = timedelta(minutes=1)
GIVE_UP_AFTER = timedelta(days=1)
# A claimed attempt whose worker died is tried again after this (longer than the request timeout).
ATTEMPT_LEASE = timedelta(minutes=2)
REQUEST_TIMEOUT = (3.05, 10)
REQUEST_DEADLINE = 15.0  # the whole attempt, however slowly the receiver trickles its answer
RESPONSE_KEPT = 2000


def webhook_endpoints_for(*, client: Client, event: str) -> list[WebhookEndpoint]:
    """The active endpoints of the client and of its agency that want this event."""
    if not client_has_webhook_endpoints(client=client):
        return []
    return list(
        WebhookEndpoint.objects.filter(is_active=True, events__contains=[event]).filter(
            Q(client_id=client.pk) | Q(agency_id=client.agency_id)
        )
    )


def webhook_envelope(*, client: Client, event: str, data: dict, moment: datetime) -> dict:
    """What a delivery's body holds besides its event id (api.payloads describes it in the schema)."""
    return {
        "type": event,
        "created_at": moment.isoformat(),
        "client": {"id": client.pk, "slug": client.slug, "name": client.name},
        "data": data,
    }


def webhook_event_emit(
    *, client: Client, event: str, data: dict, endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the client or its agency that wants this event; each is sent when
    the transaction that recorded the event commits. Call from inside that transaction."""
    if endpoints is None:
        endpoints = webhook_endpoints_for(client=client, event=event)
    if not endpoints:
        return []
    moment = now()
    payload = webhook_envelope(client=client, event=event, data=data, moment=moment)
    deliveries = []
    event_id = None
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            endpoint=endpoint,
            client_id=client.pk,
            event=event,
            payload=payload,
            next_attempt_at=moment,
            created_at=moment,
        )
        if event_id is None:
            event_id = delivery.event_id
        delivery.event_id = event_id
        deliveries.append(delivery)
    WebhookDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(lambda: webhook_deliveries_dispatch(ids=[d.pk for d in deliveries]))
    return deliveries


def webhook_deliveries_dispatch(*, ids: list[int]) -> None:
    """Hand deliveries to the broker. A broker that is down is logged: the sweep sends them later."""
    from .tasks import deliver_webhook  # here, not at the top: the task module imports this one

    for delivery_id in ids:
        try:
            deliver_webhook.apply_async((delivery_id,), retry=False)
        except Exception as exc:  # kombu raises many kinds; any of them means "not queued"
            log.warning("could not queue webhook delivery %s (%s); the sweep will", delivery_id, exc)
            return


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(
        {"id": str(delivery.event_id), **delivery.payload}, separators=(",", ":"), sort_keys=True
    ).encode()


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex, as the Webhook-Signature header carries it."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt; None when it is not due, done, or another worker has it."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(pk=delivery_id, state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now())
            .first()
        )
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.last_attempt_at = now()
        delivery.next_attempt_at = now() + ATTEMPT_LEASE
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
        return delivery


def webhook_delivery_attempt(*, delivery_id: int) -> str:
    """Send one delivery, once, and record how it went: the body of the task. Returns what happened."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "not due"
    endpoint = delivery.endpoint
    status_code, response_body, error, permanent = None, "", "", False
    if not endpoint.is_active:
        error, permanent = "The endpoint is disabled.", True
    else:
        body = webhook_body(delivery)
        timestamp = str(int(now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Webhooks/1",  # no platform name: agencies resell this under their own brand
            "Webhook-Event": delivery.event,
            "Webhook-Delivery": str(delivery.pk),
            "Webhook-Timestamp": timestamp,
            "Webhook-Signature": webhook_signature(secret=endpoint.secret, timestamp=timestamp, body=body),
        }
        private = private_addresses_allowed()
        try:
            # Through the one door: resolved once, refused at connect time if private, no redirects followed.
            answer = outbound.request(
                "POST",
                endpoint.url,
                body=body,
                headers=headers,
                schemes=("http", "https") if private else ("https",),
                allow_private=private,
                connect_timeout=REQUEST_TIMEOUT[0],
                read_timeout=REQUEST_TIMEOUT[1],
                deadline=REQUEST_DEADLINE,
                max_bytes=RESPONSE_KEPT * 2,
            )
        except outbound.OutboundRefused as exc:
            error, permanent = str(exc)[:255], True
        except outbound.OutboundError as exc:
            error = str(exc)[:255]
        else:
            status_code = answer.status
            charset = _charset(answer.headers.get("Content-Type", ""))
            response_body = answer.body.decode(charset, errors="replace")[:RESPONSE_KEPT]
            # REST hooks' convention: 410 Gone means "unsubscribe me", so there is nothing to retry.
            permanent = endpoint.is_hook and status_code == 410
    outcome = _record_attempt(
        delivery, status_code=status_code, response_body=response_body, error=error, permanent=permanent
    )
    if outcome == "gave up" and endpoint.is_hook and endpoint.is_active:
        # A REST hook whose target is gone stops here; Zapier and Make subscribe again when it comes back.
        why = "Its target answered 410 Gone." if status_code == 410 else "Its deliveries failed for a day."
        webhook_endpoint_set_active(endpoint=endpoint, active=False, reason=why)
    return outcome


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                return codecs.lookup(value.strip('"')).name
            except LookupError:
                break
    return "utf-8"


def _record_attempt(
    delivery: WebhookDelivery, *, status_code: int | None, response_body: str, error: str, permanent: bool
) -> str:
    moment = now()
    fields = {"status_code": status_code, "response_body": response_body, "error": error}
    if status_code is not None and 200 <= status_code < 300:
        fields.update(state=WebhookDelivery.State.SUCCEEDED, next_attempt_at=moment)
        outcome = "delivered"
    else:
        wait = FIRST_RETRY * (2 ** (delivery.attempts - 1))
        if permanent or moment + wait > delivery.created_at + GIVE_UP_AFTER:
            fields.update(state=WebhookDelivery.State.FAILED, next_attempt_at=moment)
            outcome = "gave up"
        else:
            fields.update(next_attempt_at=moment + wait)
            outcome = f"retry in {int(wait.total_seconds())} s"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return outcome


def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an event again, as a new delivery of the same event id (receivers can tell it is a repeat)."""
    replay = WebhookDelivery.objects.create(
        endpoint=delivery.endpoint,
        client_id=delivery.client_id,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
    )
    transaction.on_commit(lambda: webhook_deliveries_dispatch(ids=[replay.pk]))
    return replay


def idempotency_records_prune() -> int:
    """Forget answers older than a day: a retry that late is a new request."""
    return IdempotencyRecord.objects.filter(created_at__lt=now() - timedelta(days=1)).delete()[0]


def webhook_sweep_due(*, limit: int = 500) -> int:
    """Queue the deliveries that are due (retries, and any the broker lost). The claim keeps a delivery
    queued twice from being sent twice."""
    ids = list(
        WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING, next_attempt_at__lte=now())
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    webhook_deliveries_dispatch(ids=ids)
    return len(ids)
