"""The page behind login on each kind of host: who sees it, and who is turned away."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["alice", "bob", "nina", "nate", "oscar"])
def test_members_and_their_agency_see_the_client_home(web, personas, who):
    response = web("acme.localhost", getattr(personas, who)).get("/")
    assert response.status_code == 200
    assert "<h1>Acme Plumbing</h1>" in response.content.decode()


@pytest.mark.parametrize("who", ["dave", "erin", "sara", "charlie"])
def test_a_session_from_elsewhere_is_logged_out_on_another_clients_host(web, personas, who):
    response = web("acme.localhost", getattr(personas, who)).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_agency_home_lists_only_the_agencys_own_clients(web, personas):
    northwind = web("localhost", personas.nina).get("/").content.decode()
    assert "Acme Plumbing" in northwind and "Bolt Electric" in northwind
    assert "Cedar Roofing" not in northwind
    southpeak = web("localhost", personas.sara).get("/").content.decode()
    assert "Cedar Roofing" in southpeak
    assert "Acme Plumbing" not in southpeak and "Bolt Electric" not in southpeak


def test_the_agency_home_links_each_client_to_its_own_host(web, personas):
    html = web("localhost", personas.nina).get("/").content.decode()
    assert 'href="http://acme.localhost:8000/"' in html


@pytest.mark.parametrize("who", ["alice", "charlie"])
def test_people_without_an_agency_cannot_use_the_platform_host(web, personas, who):
    response = web("localhost", getattr(personas, who)).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_only_operators_reach_the_django_admin(web, personas):
    assert web("localhost", personas.oscar).get("/admin/").status_code == 200
    response = web("localhost", personas.nina).get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_client_hosts_serve_the_clients_admin_not_the_operators(web, personas):
    browser = web("acme.localhost", personas.oscar)
    html = browser.get("/admin/").content.decode()
    assert "Acme Plumbing: settings" in html
    assert "/admin/accounts/user/" not in html and "/admin/accounts/agency/" not in html
    assert browser.get("/admin/accounts/user/").status_code == 404
