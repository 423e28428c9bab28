"""Which host serves what: the platform, a client's own host, an agency's domain, and nothing else."""

import pytest
from django.utils import timezone

from accounts.models import Agency, Client
from accounts.services import client_create

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_of_the_platform_to_the_login_page(web, personas):
    response = web("localhost").get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_it_serves_a_clients_login_page_on_its_host(web, personas):
    response = web("acme.localhost").get("/accounts/login/")
    assert response.status_code == 200
    assert "Log in to Acme Plumbing" in response.content.decode()
    # White-label: the page carries the agency's brand, never the platform's.
    assert "Northwind Marketing" in response.content.decode()
    assert "Textback" not in response.content.decode()


@pytest.mark.parametrize("host", ["nobody.localhost", "example.com", "acme.localhost.evil.com"])
def test_it_answers_404_for_an_unknown_host(web, personas, host):
    assert web(host).get("/accounts/login/").status_code == 404


def test_it_answers_404_for_a_client_still_provisioning(web, personas):
    client_create(
        agency=personas.northwind,
        slug="halfway",
        name="Halfway Co",
        timezone_name="UTC",
        phone_number="+13125550177",
        forward_to="+13125550178",
    )
    assert Client.objects.get(slug="halfway").status == Client.Status.PROVISIONING
    assert web("halfway.localhost").get("/accounts/login/").status_code == 404


def test_it_serves_the_agency_dashboard_on_the_agencys_own_domain(web, personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain="app.northwind.test", custom_domain_verified_at=timezone.now()
    )
    response = web("app.northwind.test", personas.nina).get("/")
    assert response.status_code == 200
    assert "Acme Plumbing" in response.content.decode()


def test_it_answers_health_on_every_host(web, personas):
    # What /healthz itself reports is tests/config/test_health.py's.
    for host in ("localhost", "acme.localhost"):
        response = web(host).get("/healthz/web")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
