"""One door for outbound HTTP (config.outbound): an agency or client gives us a URL (a webhook endpoint, a logo),
and we must never be made to call into our own network with it. The attacker controls the URL and its DNS:
they answer a public address when we check and a private one when we connect (rebinding), redirect to the
cloud's metadata service, or name an address that only looks public. These tests run with
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and DEBUG off, as production does."""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django_tenants.utils import schema_context

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import webhook_delivery_attempt, webhook_url_problem
from config import outbound
from crm.models import Contact
from events.outbox import outbox_drain
from messaging.services import contact_opt_out

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"  # what the attacker's name answers when we check it
NAME = "hooks.attacker.test"


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.fixture
def internal():
    """Something on our own network that must never be reached: a TCP listener counting connections."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


def _rebinding_dns(monkeypatch, *, first: str, then: tuple[str, int], connected: list, names: list):
    """NAME answers `first`, then `then` on every later lookup; a lookup of an address literal (a client
    connecting to an address it already has) is recorded and sent nowhere (nothing listens on port 9)."""
    answers = iter([first])

    def getaddrinfo(host, port, *args, **kwargs):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            names.append(host)
            address, answer_port = (next(answers), port) if len(names) == 1 else then
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, answer_port))]
        connected.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 9))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _opt_out_event(personas) -> WebhookDelivery:
    with schema_context(personas.acme.schema_name):
        contact = Contact.objects.create(phone_number="+13125550177")
        contact_opt_out(client=personas.acme, contact=contact, source="keyword", keyword="STOP")
    outbox_drain()  # a worker writes the delivery from the outbox
    return WebhookDelivery.objects.get()


def test_a_webhook_name_rebound_to_our_network_after_the_check_is_not_connected_to(
    personas, internal, monkeypatch
):
    port, accepted = internal
    WebhookEndpoint.objects.create(
        client=personas.acme,
        url=f"https://{NAME}/hooks",
        events=["contact.opted_out"],
        secret="whsec_x",
        created_by=personas.alice,
    )
    names, connected = [], []
    _rebinding_dns(monkeypatch, first=PUBLIC, then=("127.0.0.1", port), connected=connected, names=names)

    delivery = _opt_out_event(personas)
    assert webhook_delivery_attempt(delivery_id=delivery.pk).startswith(
        "retry"
    )  # the public address was dead
    assert accepted == []  # nothing of ours was reached
    assert names == [NAME]  # resolved once, and the checked address is the one connected to
    assert connected == [PUBLIC]


def test_a_webhook_name_that_answers_private_at_delivery_is_refused_for_good(personas, internal, monkeypatch):
    port, accepted = internal
    WebhookEndpoint.objects.create(
        client=personas.acme,
        url=f"https://{NAME}/hooks",
        events=["contact.opted_out"],
        secret="whsec_x",
        created_by=personas.alice,
    )
    names, connected = [], []
    _rebinding_dns(monkeypatch, first="127.0.0.1", then=("127.0.0.1", port), connected=connected, names=names)

    delivery = _opt_out_event(personas)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "gave up"
    delivery.refresh_from_db()
    assert "is not a public address" in delivery.error
    assert accepted == [] and connected == []


class _Redirector(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/iam/security-credentials/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET  # noqa: N815 - http.server's name

    def log_message(self, *args):
        pass


def test_a_redirect_to_the_metadata_service_is_not_followed(monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    asked = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host == NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (PUBLIC, port))]
        if host == PUBLIC:  # the public address is, for this test, the redirector on this machine
            return real("127.0.0.1", server.server_port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        answer = outbound.request("GET", f"http://{NAME}/logo.png", schemes=("http",))
    finally:
        server.shutdown()
        server.server_close()
    assert answer.is_redirect and answer.status == 302
    assert "169.254.169.254" not in asked  # never looked up, never connected to


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata service: "global" to Python, ours in fact
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
        "fd00:ec2::254",
    ],
)
def test_no_address_of_ours_passes_for_public(address, monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    assert "is not a public address" in (webhook_url_problem(f"https://{NAME}/hooks") or "")
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("POST", f"https://{NAME}/hooks", body=b"{}")


def test_the_logo_fetch_goes_through_the_same_door(web, personas, monkeypatch):
    """The brand page's logo URL, rebound to an internal address after the check, is refused in the same words."""
    from tests.agency.test_brand import set_brand

    names, connected = [], []
    _rebinding_dns(monkeypatch, first="10.0.0.5", then=("10.0.0.5", 80), connected=connected, names=names)
    response = set_brand(web, personas, logo_url=f"https://{NAME}/logo.png")
    assert response.status_code == 400 and f"{NAME} is not a public address" in response.content.decode()
    assert connected == []
