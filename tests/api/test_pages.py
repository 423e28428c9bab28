"""The pages for API keys and webhooks: a client's owners on its host, an agency's admins on the agency's host;
the same 404 for anyone else who got onto the host, and a key or endpoint of someone else is not there."""

import pytest
from django_tenants.utils import schema_context

from api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from api.services import apikey_create, webhook_endpoint_create
from crm.models import Contact
from events.outbox import outbox_drain
from messaging.services import contact_opt_out

from .conftest import ACME, PLATFORM, Api

pytestmark = pytest.mark.django_db

PAGES = ["/api/keys/", "/api/webhooks/"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("host", "who"), [(ACME, "alice"), (PLATFORM, "nina")])
def test_owners_and_agency_admins_see_the_pages(web, personas, page, host, who):
    assert web(host, getattr(personas, who)).get(page).status_code == 200


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("host", "who"), [(ACME, "bob"), (ACME, "nate"), (PLATFORM, "nate")])
def test_staff_and_client_people_are_told_there_is_no_such_page(web, personas, page, host, who):
    assert web(host, getattr(personas, who)).get(page).status_code == 404


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(
    ("host", "who"),
    [
        (ACME, "dave"),
        (ACME, "erin"),
        (ACME, "sara"),
        (ACME, None),
        (PLATFORM, "alice"),
        (PLATFORM, "charlie"),
        (PLATFORM, None),
    ],
)
def test_strangers_and_anonymous_are_sent_to_log_in(web, personas, page, host, who):
    """The host logs out whoever does not belong on it (accounts.middleware), so they are asked to log in."""
    response = web(host, getattr(personas, who) if who else None).get(page)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_key_is_shown_once_and_only_its_hash_is_kept(web, personas):
    browser = web(ACME, personas.alice)
    response = browser.post("/api/keys/", {"name": "Zapier", "scope": "write"}, follow=True)
    assert response.redirect_chain == [("/api/keys/", 302)]
    raw = response.context["new_key"]
    assert raw.startswith("tb_") and raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    key = ApiKey.objects.get(name="Zapier")
    assert (key.client, key.agency, key.scope, key.created_by) == (
        personas.acme,
        None,
        "write",
        personas.alice,
    )
    assert raw not in key.secret_hash
    listing = browser.get("/api/keys/").content.decode()  # the next look, or a reload
    assert "Zapier" in listing and raw not in listing
    assert ApiKey.objects.count() == 1
    assert Api(ACME, raw).get("/api/v1/contacts/").status_code == 200


def test_a_key_needs_a_name_and_a_scope(web, personas):
    response = web(ACME, personas.alice).post("/api/keys/", {"name": " ", "scope": "admin"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "scope"}
    assert not ApiKey.objects.exists()


def test_revoking_a_key_stops_it(web, personas):
    browser = web(ACME, personas.alice)
    raw = browser.post("/api/keys/", {"name": "Zapier", "scope": "read"}, follow=True).context["new_key"]
    key = ApiKey.objects.get(name="Zapier")
    assert browser.post(f"/api/keys/{key.pk}/revoke/").status_code == 302
    assert Api(ACME, raw).get("/api/v1/contacts/").status_code == 401


def test_an_agency_admin_makes_agency_keys_on_the_agencys_host(web, personas):
    raw = (
        web(PLATFORM, personas.nina)
        .post("/api/keys/", {"name": "CRM sync", "scope": "read"}, follow=True)
        .context["new_key"]
    )
    key = ApiKey.objects.get(name="CRM sync")
    assert (key.agency, key.client) == (personas.northwind, None)
    assert Api(PLATFORM, raw).get("/api/v1/clients/").status_code == 200


@pytest.mark.parametrize(
    ("host", "owner", "who"),
    [
        (ACME, "bolt", "alice"),  # bolt's key, from acme's host: not there
        (PLATFORM, "northwind", "sara"),  # northwind's key, by southpeak's admin
        (PLATFORM, "acme", "nina"),  # a client's key is not the agency's to revoke from its own host
    ],
)
def test_someone_elses_key_cannot_be_revoked(web, personas, host, owner, who):
    target = getattr(personas, owner)
    is_agency = owner == "northwind"
    key, _ = apikey_create(
        name="Theirs",
        scope="read",
        created_by=personas.oscar,
        client=None if is_agency else target,
        agency=target if is_agency else None,
    )
    assert web(host, getattr(personas, who)).post(f"/api/keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_listing_shows_only_the_owners_keys(web, personas):
    apikey_create(name="Bolt's key", scope="read", created_by=personas.dave, client=personas.bolt)
    apikey_create(name="Agency key", scope="read", created_by=personas.nina, agency=personas.northwind)
    page = web(ACME, personas.alice).get("/api/keys/").content.decode()
    assert "Bolt's key" not in page and "Agency key" not in page


def test_adding_an_endpoint_and_seeing_its_deliveries(web, personas, receiver):
    browser = web(ACME, personas.alice)
    response = browser.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["contact.opted_out", "call.missed"]}
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.client, sorted(endpoint.events)) == (personas.acme, ["call.missed", "contact.opted_out"])
    with schema_context(personas.acme.schema_name):
        contact = Contact.objects.create(phone_number="+13125550177")
        contact_opt_out(client=personas.acme, contact=contact, source="keyword")
    outbox_drain()
    page = browser.get(response["Location"]).content.decode()
    assert endpoint.secret in page and "contact.opted_out" in page and "pending" in page


def test_an_endpoint_needs_a_url_and_an_event(web, personas):
    response = web(ACME, personas.alice).post("/api/webhooks/", {"url": "not a url"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"url", "events"}


def test_in_production_a_private_url_is_refused_with_a_reason(web, personas, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    response = web(ACME, personas.alice).post(
        "/api/webhooks/", {"url": "https://127.0.0.1:8000/x", "events": ["call.missed"]}
    )
    assert response.status_code == 400
    assert "private or local" in response.context["form"].errors["url"][0]
    assert not WebhookEndpoint.objects.exists()


def test_replaying_a_delivery_from_the_page(web, personas, receiver):
    endpoint = webhook_endpoint_create(
        url=receiver.url, events=["contact.opted_out"], created_by=personas.alice, client=personas.acme
    )
    with schema_context(personas.acme.schema_name):
        contact_opt_out(
            client=personas.acme,
            contact=Contact.objects.create(phone_number="+13125550177"),
            source="keyword",
        )
    outbox_drain()
    delivery = WebhookDelivery.objects.get()
    response = web(ACME, personas.alice).post(f"/api/webhooks/deliveries/{delivery.pk}/replay/")
    assert response.status_code == 302
    replay = endpoint.deliveries.exclude(pk=delivery.pk).get()
    assert (replay.replay_of_id, replay.event_id, replay.state) == (delivery.pk, delivery.event_id, "pending")


def test_someone_elses_endpoint_and_deliveries_are_not_there(web, personas, receiver):
    bolts = webhook_endpoint_create(
        url=receiver.url, events=["contact.opted_out"], created_by=personas.dave, client=personas.bolt
    )
    with schema_context(personas.bolt.schema_name):
        contact_opt_out(
            client=personas.bolt,
            contact=Contact.objects.create(phone_number="+12025550177"),
            source="keyword",
        )
    outbox_drain()
    delivery = WebhookDelivery.objects.get()
    browser = web(ACME, personas.alice)
    assert browser.get(f"/api/webhooks/{bolts.pk}/").status_code == 404
    assert browser.post(f"/api/webhooks/{bolts.pk}/toggle/").status_code == 404
    assert browser.post(f"/api/webhooks/{bolts.pk}/delete/").status_code == 404
    assert browser.post(f"/api/webhooks/deliveries/{delivery.pk}/replay/").status_code == 404
    assert web(PLATFORM, personas.sara).get(f"/api/webhooks/{bolts.pk}/").status_code == 404
    assert WebhookDelivery.objects.count() == 1
    assert WebhookEndpoint.objects.get(pk=bolts.pk).is_active


def test_turning_off_and_deleting(web, personas, receiver):
    endpoint = webhook_endpoint_create(
        url=receiver.url, events=["call.missed"], created_by=personas.alice, client=personas.acme
    )
    browser = web(ACME, personas.alice)
    browser.post(f"/api/webhooks/{endpoint.pk}/toggle/")
    assert not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active
    browser.post(f"/api/webhooks/{endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


def test_an_endpoints_page_on_the_clients_host_never_names_the_platform(web, personas, receiver):
    """Agencies resell this under their own brand: the signing instructions name neutral headers."""
    endpoint = webhook_endpoint_create(
        url=receiver.url, events=["call.missed"], created_by=personas.alice, client=personas.acme
    )
    page = web(ACME, personas.alice).get(f"/api/webhooks/{endpoint.pk}/").content.decode()
    assert "Webhook-Signature" in page
    assert "textback" not in page.replace(receiver.url, "").lower()  # the test receiver's own URL says it
