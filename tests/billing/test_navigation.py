"""Agency people reach reports and billing from every page of the agency's host."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/reports/", "/billing/"])
def test_the_agency_host_links_its_clients_reports_and_billing(web, personas, path):
    html = web("localhost", personas.nina).get(path).content.decode()
    nav = html.split('<nav class="shell-nav" aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/"' in nav and 'href="/reports/"' in nav and 'href="/billing/"' in nav


def test_the_login_page_shows_no_navigation(web, personas):
    assert 'aria-label="Main"' not in web("localhost").get("/accounts/login/").content.decode()
