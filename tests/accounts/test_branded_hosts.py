"""White label all the way down: once an agency's own domain is verified, each of its clients is served at
`<client>.<agency's domain>` too, and every link, alert and hand-over leads there, so a business owner never sees
the platform's domain. The platform's `<client>.<BASE_DOMAIN>` keeps working. Only the agency's own clients,
and only once the domain is verified."""

import re

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Agency, Client
from accounts.services import client_url
from inbox import tasks
from messaging.services import inbound_receive
from tests.inbox.conftest import add_conversation
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

DOMAIN = "app.northwind.test"
BRANDED = f"acme.{DOMAIN}"


@pytest.fixture
def verified(personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain=DOMAIN, custom_domain_verified_at=timezone.now()
    )
    return personas


def _acme(personas) -> Client:
    """acme as read now (the personas' own instance keeps the agency it was built with)."""
    return Client.objects.select_related("agency").get(pk=personas.acme.pk)


def test_a_client_is_served_on_its_agencys_domain_in_its_brand(web, verified):
    personas = verified
    add_conversation(personas.acme, name="Jane Caller", texts=("Leak in the basement",))
    login = web(BRANDED).get("/accounts/login/")
    assert login.status_code == 200 and "Northwind Marketing" in login.content.decode()
    inbox = web(BRANDED, personas.bob).get("/inbox/")
    assert inbox.status_code == 200 and "Jane Caller" in inbox.content.decode()  # acme's own schema
    # The platform's host keeps working for the same client.
    assert web("acme.localhost", personas.bob).get("/inbox/").status_code == 200


def test_links_and_alerts_lead_to_the_branded_host(verified, mailoutbox):
    personas = verified
    acme = _acme(personas)
    assert client_url(acme) == f"http://{BRANDED}:8000/"
    with schema_context(acme.schema_name):
        message = inbound_receive(client=acme, sid=sid("SM"), from_number="+13125550144", body="Hi?")
    tasks.notify_reply(personas.acme.pk, message.pk)
    assert mailoutbox and all(f"http://{BRANDED}:8000/inbox/" in email.body for email in mailoutbox)
    assert not any("acme.localhost" in email.body for email in mailoutbox)


@pytest.mark.parametrize(
    "host",
    [
        f"cedar.{DOMAIN}",  # southpeak's client under northwind's domain
        f"nobody.{DOMAIN}",
        f"acme.evil.{DOMAIN}",
        f"acme.{DOMAIN}.evil.example",
    ],
)
def test_only_the_agencys_own_clients_are_served_on_its_domain(web, verified, host):
    assert web(host).get("/accounts/login/").status_code == 404
    assert web("localhost").get("/tls/allowed", {"domain": host}).status_code == 404


def test_a_domain_not_verified_yet_serves_no_client(web, personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain=DOMAIN, custom_domain_verified_at=None
    )
    assert web(BRANDED).get("/accounts/login/").status_code == 404
    assert web("localhost").get("/tls/allowed", {"domain": BRANDED}).status_code == 404
    assert client_url(_acme(personas)) == "http://acme.localhost:8000/"


def test_the_proxy_may_get_a_certificate_for_a_branded_host(web, verified):
    assert web("localhost").get("/tls/allowed", {"domain": BRANDED}).status_code == 200


def test_open_from_the_dashboard_hands_over_to_the_branded_host(web, verified):
    personas = verified
    page = web("localhost", personas.nate).post(f"/agency/clients/{personas.acme.pk}/open/")
    html = page.content.decode()
    assert f'action="http://{BRANDED}:8000/accounts/enter/"' in html
    assert f"http://{BRANDED}:8000" in page["Content-Security-Policy"]  # the form may post there
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    arriving = web(BRANDED)
    arriving.post("/accounts/enter/", {"token": token}, HTTP_ORIGIN="http://localhost:8000")
    assert arriving.get("/inbox/").status_code == 200
