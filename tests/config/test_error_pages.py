"""The 403, 404 and 500 pages: styled like the rest of the app on every host, in the host's brand where there
is one; the 500 page renders without the database (which may be what failed)."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _production_error_pages(settings):
    settings.DEBUG = False  # with DEBUG on, Django shows its technical 404 page instead of ours


def test_a_missing_page_on_a_clients_host_wears_the_agencys_brand(web, personas):
    response = web("acme.localhost", personas.alice).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html and "css/app.css" in html
    assert "Northwind Marketing" in html and 'href="/">Back to Acme Plumbing</a>' in html


def test_a_missing_page_on_the_agency_host_and_an_unknown_host_is_the_same_page(web, personas):
    for host in ("localhost", "nobody.example.com"):
        response = web(host).get("/no-such-page/")
        assert response.status_code == 404, host
        assert "<h1>Page not found</h1>" in response.content.decode(), host


def test_a_refusal_says_why_on_a_styled_page(web, personas):
    response = web("localhost", personas.nate).get(f"/agency/clients/{personas.acme.pk}/offboard/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "You can&#x27;t do that here" in html or "You can't do that here" in html
    assert "Only the agency&#x27;s admins may do this." in html and "css/app.css" in html


def test_the_500_page_needs_no_database(django_assert_num_queries):
    request = RequestFactory().get("/", HTTP_HOST="acme.localhost")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and "css/app.css" in html
