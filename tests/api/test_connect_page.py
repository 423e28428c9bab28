"""The "Connect Zapier / Make" page: a client's owners see what to paste into those tools and the hooks they
subscribed, and send any of them a signed test delivery; nobody else sees it or reaches another's hooks."""

import json

import pytest

from api.models import WebhookDelivery, WebhookEndpoint
from api.services import webhook_delivery_attempt, webhook_endpoint_create

from .conftest import ACME, BOLT, PLATFORM, Api
from .test_webhooks import verify

pytestmark = pytest.mark.django_db


def hook_of(personas, receiver, make_key, owner="acme", event="call.missed") -> WebhookEndpoint:
    """A hook as Zapier subscribes it, through the API with the client's key."""
    host = {"acme": ACME, "bolt": BOLT}[owner]
    response = Api(host, make_key(owner)).post("/api/v1/hooks/", {"target_url": receiver.url, "event": event})
    assert response.status_code == 201
    return WebhookEndpoint.objects.get(pk=response.json()["id"])


def test_the_page_shows_the_values_to_paste_and_the_subscribed_hooks(web, personas, receiver, make_key):
    hook = hook_of(personas, receiver, make_key)
    page_made = webhook_endpoint_create(
        url="http://127.0.0.1:9/page-made",
        events=["call.missed"],
        created_by=personas.alice,
        client=personas.acme,
    )
    response = web(ACME, personas.alice).get("/api/connect/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "http://acme.localhost/api/v1/" in page
    assert "POST http://acme.localhost/api/v1/hooks/" in page
    assert "DELETE http://acme.localhost/api/v1/hooks/{id}/" in page
    assert "http://acme.localhost/api/v1/hooks/samples/call.missed/" in page
    assert "POST http://acme.localhost/api/v1/outcomes/" in page
    assert hook.url in page and "acme test key" in page
    assert page_made.url not in page  # the webhooks page lists those


def test_a_test_delivery_reaches_the_hook_signed(web, personas, receiver, make_key):
    hook = hook_of(personas, receiver, make_key)
    response = web(ACME, personas.alice).post(f"/api/webhooks/{hook.pk}/test/", {"event": "call.missed"})
    assert response.status_code == 302
    delivery = WebhookDelivery.objects.get(endpoint=hook)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    [(headers, body)] = receiver.requests
    assert verify(hook.secret, headers, body)
    sent = json.loads(body)
    assert sent["type"] == "call.missed" and sent["data"]["call"]["caller_name"] == "Jane Sample"
    page = web(ACME, personas.alice).get(response["Location"]).content.decode()
    assert "delivered" in page


def test_a_test_of_an_event_the_hook_does_not_take_sends_nothing(web, personas, receiver, make_key):
    hook = hook_of(personas, receiver, make_key)
    web(ACME, personas.alice).post(f"/api/webhooks/{hook.pk}/test/", {"event": "message.received"})
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(("host", "who"), [(ACME, "bob"), (ACME, "nate"), (PLATFORM, "nate")])
def test_staff_are_told_there_is_no_such_page(web, personas, host, who):
    assert web(host, getattr(personas, who)).get("/api/connect/").status_code == 404


def test_strangers_are_sent_to_log_in(web, personas):
    response = web(ACME, personas.dave).get("/api/connect/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_another_clients_hook_cannot_be_tested_or_seen(web, personas, receiver, make_key):
    bolts = hook_of(personas, receiver, make_key, owner="bolt")
    browser = web(ACME, personas.alice)
    assert bolts.url not in browser.get("/api/connect/").content.decode()
    assert browser.post(f"/api/webhooks/{bolts.pk}/test/", {"event": "call.missed"}).status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_an_agency_admin_connects_all_clients_on_the_agencys_host(web, personas, receiver, make_key):
    response = Api(PLATFORM, make_key("northwind")).post(
        "/api/v1/hooks/", {"target_url": receiver.url, "event": "call.missed"}
    )
    hook = WebhookEndpoint.objects.get(pk=response.json()["id"])
    browser = web(PLATFORM, personas.nina)
    page = browser.get("/api/connect/").content.decode()
    assert "every client of Northwind Marketing" in page
    assert "POST http://localhost/api/v1/hooks/" in page and hook.url in page
    assert "outcomes/" not in page  # actions act for one client: on its host
    assert browser.post(f"/api/webhooks/{hook.pk}/test/", {"event": "call.missed"}).status_code == 302
    delivery = WebhookDelivery.objects.get(endpoint=hook)
    assert delivery.client_id == min(personas.acme.pk, personas.bolt.pk)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == "delivered"
    # Another agency's admin cannot send it a test.
    assert web(PLATFORM, personas.sara).post(f"/api/webhooks/{hook.pk}/test/").status_code == 404
    assert WebhookDelivery.objects.count() == 1
