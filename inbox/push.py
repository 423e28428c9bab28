"""Web push: alerts on the devices where a person turned notifications on (the inbox installed as an app on a
phone, or a desktop browser), beside email and texts (inbox.notifications).

The browser subscribes with our VAPID public key and hands us its push service's endpoint and two keys; each
alert is encrypted to those keys (RFC 8291, aes128gcm, by pywebpush) and posted to the endpoint with a VAPID
signature (RFC 8292, py-vapid), through the one guarded door for outbound HTTP (config.outbound). The endpoint
came from a browser, so it is accepted only on the browsers' own push services (WEB_PUSH_SERVICE_HOSTS).

A push carries the alert's words and the path of the thread on the client's own host: the service worker
(templates/inbox/sw.js) shows it, and a tap opens that path on the origin it was installed from, so a push can
never send anyone to another site.
"""

import base64
import binascii
import json
import logging
import time
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from py_vapid import Vapid02, b64urlencode
from pywebpush import WebPusher

from config import outbound

from .models import PushSubscription

log = logging.getLogger(__name__)

# A push service keeps an alert this long for a phone that is off; after that it is stale news.
TTL_SECONDS = 12 * 3600


class PushError(Exception):
    """Why a browser's subscription was refused, in words for the person (shown by push.js)."""


def enabled() -> bool:
    return bool(settings.WEB_PUSH_VAPID_PRIVATE_KEY)


def _vapid() -> Vapid02:
    return Vapid02.from_string(settings.WEB_PUSH_VAPID_PRIVATE_KEY)


def public_key() -> str:
    """The application server key browsers subscribe with: our public key as an uncompressed point, base64url."""
    from cryptography.hazmat.primitives import serialization

    point = _vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(point)


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _endpoint_problem(endpoint: str) -> str | None:
    parts = urlsplit(endpoint)
    private_ok = settings.WEB_PUSH_ALLOW_PRIVATE_ADDRESSES
    if parts.scheme != "https" and not (private_ok and parts.scheme == "http"):
        return "the push service's address must be https"
    host = (parts.hostname or "").lower()
    allowed = any(host == h or host.endswith(f".{h}") for h in settings.WEB_PUSH_SERVICE_HOSTS)
    if not allowed:
        return f"{host or 'that address'} is not a browser's push service we send to"
    return None


def subscription_from_browser(data: object) -> dict[str, str]:
    """The endpoint and keys of a PushSubscription.toJSON() from a browser, checked; PushError says what is wrong."""
    if not isinstance(data, dict):
        raise PushError("Send the browser's subscription as JSON.")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > 1000:
        raise PushError("The subscription has no endpoint.")
    problem = _endpoint_problem(endpoint)
    if problem:
        raise PushError(f"This browser's subscription cannot be used: {problem}.")
    if (
        not isinstance(keys, dict)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        raise PushError("The subscription has no keys.")
    try:
        point = _b64url_decode(keys["p256dh"])
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        auth = _b64url_decode(keys["auth"])
    except (ValueError, binascii.Error):
        raise PushError("The subscription's keys are not a browser's push keys.") from None
    if len(auth) != 16:
        raise PushError("The subscription's keys are not a browser's push keys.")
    return {"endpoint": endpoint, "p256dh": keys["p256dh"], "auth": keys["auth"]}


def device_name(user_agent: str) -> str:
    """A name a person recognises their device by, from its browser's User-Agent: "Chrome on Android"."""
    agent = user_agent or ""
    system = next(
        (
            name
            for needle, name in (
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Android", "Android"),
                ("Windows", "Windows"),
                ("Mac OS X", "Mac"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if needle in agent
        ),
        "",
    )
    browser = next(
        (
            name
            for needle, name in (
                ("Edg/", "Edge"),
                ("SamsungBrowser", "Samsung Internet"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Safari/", "Safari"),
            )
            if needle in agent
        ),
        "A browser",
    )
    return f"{browser} on {system}" if system else browser


def subscription_save(*, user_id: int, data: object, user_agent: str = "") -> PushSubscription:
    """Keep a browser's subscription for this person (in the client's schema). The same endpoint again updates
    its keys; an endpoint another person had (a shared computer) becomes this person's."""
    fields = subscription_from_browser(data)
    defaults = {"user_id": user_id, "p256dh": fields["p256dh"], "auth": fields["auth"]}
    defaults["device"] = device_name(user_agent)[:80]
    try:
        with transaction.atomic():
            subscription, _ = PushSubscription.objects.update_or_create(
                endpoint=fields["endpoint"], defaults=defaults
            )
    except IntegrityError:  # the same browser subscribing twice at once: the other request kept it
        subscription = PushSubscription.objects.get(endpoint=fields["endpoint"])
    return subscription


def push_send(subscription: PushSubscription, *, title: str, body: str, path: str, tag: str) -> bool:
    """Post one alert to one device. True when the push service took it; a subscription it says is gone (404,
    410) is deleted; anything else is logged and the alert's other channels stand."""
    payload = json.dumps({"title": title, "body": body, "path": path, "tag": tag}).encode()
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    encrypted = WebPusher(info).encode(payload, content_encoding="aes128gcm")
    parts = urlsplit(subscription.endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "exp": int(time.time()) + 12 * 3600,
        "sub": settings.WEB_PUSH_SUBJECT,
    }
    headers = {
        **_vapid().sign(claims),
        "TTL": str(TTL_SECONDS),
        "Urgency": "high",
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
    }
    private_ok = settings.WEB_PUSH_ALLOW_PRIVATE_ADDRESSES
    try:
        answer = outbound.request(
            "POST",
            subscription.endpoint,
            body=encrypted["body"],
            headers=headers,
            schemes=("https", "http") if private_ok else ("https",),
            allow_private=private_ok,
            deadline=10.0,
            max_bytes=4096,
        )
    except outbound.OutboundError as exc:
        log.warning("push to %s failed: %s", subscription.device or "a device", exc)
        return False
    if answer.status in (404, 410):
        log.info("push subscription %s is gone (%s): forgetting it", subscription.pk, answer.status)
        subscription.delete()
        return False
    if not 200 <= answer.status < 300:
        log.warning("push service answered %s for subscription %s", answer.status, subscription.pk)
        return False
    PushSubscription.objects.filter(pk=subscription.pk).update(last_pushed_at=timezone.now())
    return True
