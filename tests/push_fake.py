"""A fake of the browsers' push services (FCM, Mozilla's autopush, Apple's), at their HTTP boundary: it takes a
push as RFC 8030 describes (a POST to the subscription's endpoint), checks its VAPID signature (RFC 8292) as a
real service does before accepting it, and keeps it for the test. `Device` plays a browser: it owns the key pair a
subscription is made with, so a test can decrypt (RFC 8291, aes128gcm) exactly what the phone would show.

A token can be told to answer 410 (the person revoked the permission; the subscription is gone) or 500.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Delivery:
    token: str
    headers: dict[str, str]
    body: bytes
    vapid_key: str  # the sender's public key, as the Authorization header's k=
    claims: dict

    def open(self, device: Device) -> dict:
        """What the browser's service worker gets: the payload decrypted with the device's keys, as JSON."""
        return json.loads(device.decrypt(self.body))


@dataclass
class Device:
    """A browser that subscribed: its P-256 key pair and auth secret, and its endpoint on the fake."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    def subscription(self) -> dict:
        """What PushSubscription.toJSON() gives the page's script."""
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")


class PushRefused(Exception):
    pass


def verify_vapid(authorization: str, audience: str) -> tuple[str, dict]:
    """Check `Authorization: vapid t=<JWT>,k=<key>` as a push service does: an ES256 JWT signed by k, for this
    service (aud), not expired, with a contact (sub). Returns (k, claims); PushRefused says what is wrong."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise PushRefused("not a vapid authorization")
    parts = dict(item.split("=", 1) for item in params.split(","))
    token, key = parts.get("t", ""), parts.get("k", "")
    try:
        header_b64, claims_b64, signature_b64 = token.split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        raw = unb64url(signature_b64)
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(signature, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature) as exc:
        raise PushRefused(f"bad signature: {exc!r}") from None
    header, claims = json.loads(unb64url(header_b64)), json.loads(unb64url(claims_b64))
    if header.get("alg") != "ES256":
        raise PushRefused("not ES256")
    if claims.get("aud") != audience:
        raise PushRefused(f"aud {claims.get('aud')!r} is not {audience!r}")
    if not claims.get("exp") or claims["exp"] < time.time() or claims["exp"] > time.time() + 24 * 3600:
        raise PushRefused("exp missing, past, or more than 24 hours ahead")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise PushRefused("sub is not a mailto: or https: contact")
    return key, claims


class FakePushService:
    def __init__(self):
        self.deliveries: list[Delivery] = []
        self.refusals: list[str] = []
        self.answers: dict[str, int] = {}  # token → status to answer instead of 201
        self._tokens = count(1)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def device(self) -> Device:
        return Device(endpoint=f"{self.base_url}/push/v1/tok{next(self._tokens)}")

    def answer(self, device: Device, status: int) -> None:
        self.answers[device.token] = status

    def delivered_to(self, device: Device) -> list[Delivery]:
        return [d for d in self.deliveries if d.token == device.token]

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.refusals.clear()
            self.answers.clear()

    def start(self) -> FakePushService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.path.rsplit("/", 1)[1]
                status, reason = 201, ""
                try:
                    if self.headers.get("Content-Encoding") != "aes128gcm":
                        raise PushRefused("Content-Encoding is not aes128gcm")
                    if not self.headers.get("TTL", "").isdigit():
                        raise PushRefused("no TTL")
                    key, claims = verify_vapid(self.headers.get("Authorization", ""), service.base_url)
                except PushRefused as exc:
                    status, reason = 401, str(exc)
                    with service._lock:
                        service.refusals.append(reason)
                else:
                    status = service.answers.get(token, 201)
                    if status == 201:
                        with service._lock:
                            service.deliveries.append(Delivery(token, dict(self.headers), body, key, claims))
                self.send_response(status)
                self.send_header("Content-Length", str(len(reason)))
                self.end_headers()
                self.wfile.write(reason.encode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
