"""Password resets: whoever asks for one decides the host it is asked on and the Host header it is asked with. The
link in the email must still point to a host we trust, and an operator's reset happens on the platform host only:
a client's or an agency's host is a page an agency brands, and an agency's own domain is one it controls."""

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Agency
from tests.personas import PASSWORD

from .account_steps import link_in

pytestmark = pytest.mark.django_db


def test_a_forged_host_header_does_not_choose_where_the_link_points(web, personas):
    # The platform host, with a port of the attacker's choosing in the Host header.
    response = web("localhost:6666").post("/accounts/password/reset/", {"email": personas.nina.email})
    assert response.status_code == 302
    (message,) = mail.outbox
    assert ":6666" not in message.body
    assert link_in(message, "/accounts/password/reset/").startswith(
        "http://localhost:8000/accounts/password/reset/"
    )


def test_a_client_host_never_offers_an_operator_a_reset(web, personas):
    response = web("acme.localhost").post("/accounts/password/reset/", {"email": personas.oscar.email})
    assert response["Location"] == "/accounts/password/reset/sent/"  # the answer anyone gets
    assert not mail.outbox


def test_an_agency_domain_never_offers_an_operator_a_reset(web, personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain="app.northwind.test", custom_domain_verified_at=timezone.now()
    )
    response = web("app.northwind.test").post("/accounts/password/reset/", {"email": personas.oscar.email})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert not mail.outbox
    # Nor does it let an operator log in: the agency decides where its domain points.
    login = web("app.northwind.test").post(
        "/accounts/login/", {"username": personas.oscar.email, "password": PASSWORD}
    )
    assert login.status_code == 200 and "_auth_user_id" not in login.client.session


def test_an_operator_resets_on_the_platform_host(web, personas):
    web("localhost").post("/accounts/password/reset/", {"email": personas.oscar.email})
    (message,) = mail.outbox
    assert message.to == [personas.oscar.email]
    assert link_in(message, "/accounts/password/reset/").startswith("http://localhost:8000/")


def test_a_reset_on_a_verified_agency_domain_links_there_for_its_own_people(web, personas):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain="app.northwind.test", custom_domain_verified_at=timezone.now()
    )
    web("app.northwind.test").post("/accounts/password/reset/", {"email": personas.nate.email})
    (message,) = mail.outbox
    assert link_in(message, "/accounts/password/reset/").startswith("http://app.northwind.test:8000/")
