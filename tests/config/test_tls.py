"""/tls/allowed: Caddy gets a certificate only for a host the platform serves."""

import pytest
from django.utils import timezone

from accounts.models import Agency, Client

pytestmark = pytest.mark.django_db


def allowed(web, domain: str) -> int:
    return web("localhost").get("/tls/allowed", {"domain": domain}).status_code


def test_it_allows_the_platform_a_live_clients_host_and_an_agencys_own_domain_once_verified(web, personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(custom_domain="texts.northwind.test")
    assert allowed(web, "localhost") == 200
    assert allowed(web, "ACME.localhost.") == 200  # as a browser may send it
    assert allowed(web, "texts.northwind.test") == 404  # pending: it serves nothing, so no certificate either
    Agency.objects.filter(pk=personas.northwind.pk).update(custom_domain_verified_at=timezone.now())
    assert allowed(web, "texts.northwind.test") == 200


def test_it_refuses_names_it_does_not_serve(web, personas):
    assert allowed(web, "attacker.example") == 404
    assert allowed(web, "nosuchclient.localhost") == 404
    assert allowed(web, "") == 404


def test_it_refuses_a_client_that_is_not_serving_yet(web, personas):
    Client.objects.filter(pk=personas.bolt.pk).update(status=Client.Status.PROVISIONING)
    assert allowed(web, "bolt.localhost") == 404
