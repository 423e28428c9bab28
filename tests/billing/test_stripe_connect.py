"""An agency admin connects the agency's own Stripe account on its Payments page (Stripe Connect, OAuth for
Standard accounts), against a fake of Stripe's HTTP API on a local port: the real stripe library makes the
requests. The state Stripe hands back is bound to the admin's session and agency and spent on first use; only
the agency's admins see or change its Stripe account; without Stripe configured, the page says so and nothing
else changes."""

import urllib.request
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import AuditEntry
from billing.models import StripeConnection

from .conftest import connect_agency, stripe_account

pytestmark = pytest.mark.django_db

HOST = "localhost"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("id"):
            self.links[attrs["id"]] = attrs["href"]


def _start(browser, slug: str = "northwind") -> str:
    """Press "Connect with Stripe": the redirect to Stripe's authorize page."""
    answer = browser.post(f"/billing/{slug}/stripe/connect/")
    assert answer.status_code == 302
    return answer["Location"]


def _approve_on_stripe(authorize_url: str, choice: str = "allow") -> str:
    """What the admin's browser does on Stripe's page: follow its link back to us (a real HTTP GET of the
    fake's page). Returns the path and query we are sent back to."""
    with urllib.request.urlopen(authorize_url) as page:  # noqa: S310 - the local fake
        parser = _Links()
        parser.feed(page.read().decode())
    back = urlsplit(parser.links[choice])
    return f"{back.path}?{back.query}"


def test_an_agency_admin_connects_its_stripe_account(web, personas, stripe_fake, settings):
    stripe_fake.next_account(id="acct_northwind0001", name="Northwind Payments", email="pay@northwind.test")
    browser = web(HOST, personas.nina)
    page = browser.get("/billing/northwind/stripe/").content.decode()
    assert "Connect with Stripe" in page

    authorize = _start(browser)
    sent = urlsplit(authorize)
    query = {k: v[0] for k, v in parse_qs(sent.query).items()}
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == f"{stripe_fake.base_url}/oauth/authorize"
    assert query["client_id"] == stripe_fake.client_id and query["scope"] == "read_write"
    assert query["redirect_uri"] == f"{settings.PUBLIC_BASE_URL}/billing/stripe/return/"
    assert len(query["state"]) >= 40

    back = browser.get(_approve_on_stripe(authorize))
    assert back.status_code == 302 and back["Location"] == "/billing/northwind/stripe/"
    connection = StripeConnection.objects.get(agency=personas.northwind)
    assert (connection.account_id, connection.account_name, connection.account_email) == (
        "acct_northwind0001",
        "Northwind Payments",
        "pay@northwind.test",
    )
    assert connection.connected_by == personas.nina and not connection.invoice_clients
    audit = AuditEntry.objects.get(agency=personas.northwind, action=AuditEntry.Action.STRIPE_CONNECT)
    assert audit.actor == personas.nina and audit.detail == "acct_northwind0001 Northwind Payments"
    token = [r for r in stripe_fake.requests if r["path"] == "/oauth/token"]
    assert len(token) == 1 and token[0]["params"]["grant_type"] == "authorization_code"

    page = browser.get("/billing/northwind/stripe/").content.decode()
    assert "Connected your Stripe account Northwind Payments." in page
    assert "acct_northwind0001" in page and "Disconnect Stripe" in page


def test_a_forged_state_is_refused_and_no_code_is_spent(web, personas, stripe_fake):
    browser = web(HOST, personas.nina)
    authorize = _start(browser)
    back = _approve_on_stripe(authorize)
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = browser.get("/billing/stripe/return/", {"code": code, "state": "forged-by-someone"})
    assert answer.status_code == 400
    assert "was not started from your Payments page" in answer.content.decode()
    assert not StripeConnection.objects.exists()
    assert not [r for r in stripe_fake.requests if r["path"] == "/oauth/token"]
    # The forged attempt spent the session's state: the real return is refused too, start again.
    assert browser.get(back).status_code == 400


def test_a_replayed_return_is_refused(web, personas, stripe_fake):
    browser = web(HOST, personas.nina)
    back = _approve_on_stripe(_start(browser))
    assert browser.get(back).status_code == 302
    replay = browser.get(back)
    assert replay.status_code == 400 and "already used" in replay.content.decode()
    assert StripeConnection.objects.count() == 1
    assert len([r for r in stripe_fake.requests if r["path"] == "/oauth/token"]) == 1


def test_a_return_in_another_persons_session_is_refused(web, personas, stripe_fake):
    back = _approve_on_stripe(_start(web(HOST, personas.nina)))
    # Sara (Southpeak's admin) is lured into opening Nina's link: her session holds no state for it.
    answer = web(HOST, personas.sara).get(back)
    assert answer.status_code == 400
    assert not StripeConnection.objects.exists()


def test_an_admin_who_lost_the_role_meanwhile_connects_nothing(web, personas, stripe_fake):
    from accounts.models import AgencyMembership

    browser = web(HOST, personas.nina)
    back = _approve_on_stripe(_start(browser))
    AgencyMembership.objects.filter(user=personas.nina, agency=personas.northwind).update(role="staff")
    assert browser.get(back).status_code == 400
    assert not StripeConnection.objects.exists()


def test_declining_on_stripe_connects_nothing_and_says_so(web, personas, stripe_fake):
    browser = web(HOST, personas.nina)
    answer = browser.get(_approve_on_stripe(_start(browser), choice="deny"))
    assert answer.status_code == 302
    page = browser.get(answer["Location"]).content.decode()
    assert "Stripe was not connected: The user denied your request." in page
    assert not StripeConnection.objects.exists()


def test_one_stripe_account_serves_one_agency(web, personas, stripe_fake):
    taken = connect_agency(personas.southpeak, stripe_fake)
    stripe_fake.next_account(id=taken.account_id)
    browser = web(HOST, personas.nina)
    answer = browser.get(_approve_on_stripe(_start(browser)))
    page = browser.get(answer["Location"]).content.decode()
    assert "already connected to another agency" in page
    assert not StripeConnection.objects.filter(agency=personas.northwind).exists()


def test_settings_are_saved_and_invoicing_starts_from_then(web, personas, stripe_fake):
    connect_agency(personas.northwind, stripe_fake, invoice_clients=False)
    browser = web(HOST, personas.nina)
    answer = browser.post(
        "/billing/northwind/stripe/",
        {"invoice_clients": "on", "pause_on_failed_payment": "on", "days_until_due": "7"},
    )
    assert answer.status_code == 302
    connection = StripeConnection.objects.get(agency=personas.northwind)
    assert connection.invoice_clients and connection.pause_on_failed_payment
    assert connection.days_until_due == 7 and connection.invoicing_since is not None
    audit = AuditEntry.objects.get(agency=personas.northwind, action=AuditEntry.Action.STRIPE_SETTINGS)
    assert audit.detail == "invoices clients, pauses on failed payments, 7 days to pay"
    bad = browser.post("/billing/northwind/stripe/", {"days_until_due": "0"})
    assert bad.status_code == 400 and "greater than or equal to 1" in bad.content.decode()


def test_disconnecting_revokes_access_and_forgets_the_account(web, personas, stripe_fake):
    connection = connect_agency(personas.northwind, stripe_fake)
    answer = web(HOST, personas.nina).post("/billing/northwind/stripe/disconnect/")
    assert answer.status_code == 302
    assert not StripeConnection.objects.exists()
    assert AuditEntry.objects.filter(
        agency=personas.northwind, action=AuditEntry.Action.STRIPE_DISCONNECT, actor=personas.nina
    ).exists()
    deauthorize = [r for r in stripe_fake.requests if r["path"] == "/oauth/deauthorize"]
    assert deauthorize[0]["params"] == {
        "stripe_user_id": connection.account_id,
        "client_id": stripe_fake.client_id,
    }


@pytest.mark.parametrize("who", ["nate", "sara", "alice", "charlie"])
def test_only_the_agencys_admins_reach_its_stripe_account(web, personas, stripe_fake, who):
    """Staff, another agency's admin, a client owner and a stranger: the same 404 as a missing agency, and
    nothing changes."""
    connect_agency(personas.northwind, stripe_fake)
    browser = web(HOST, getattr(personas, who))
    for answer in (
        browser.get("/billing/northwind/stripe/"),
        browser.post("/billing/northwind/stripe/connect/"),
        browser.post("/billing/northwind/stripe/", {"invoice_clients": ""}),
        browser.post("/billing/northwind/stripe/disconnect/"),
    ):
        # Agency people: 404. People of no agency are not let onto the agency host at all: sent to log in.
        assert answer.status_code == 404 or (
            who in ("alice", "charlie") and answer["Location"].startswith("/accounts/login/")
        )
    assert StripeConnection.objects.get(agency=personas.northwind).invoice_clients
    assert not [r for r in stripe_fake.requests if r["path"].startswith("/oauth/de")]


def test_the_other_agencys_admin_sees_only_its_own(web, personas, stripe_fake):
    connect_agency(personas.northwind, stripe_fake)
    page = web(HOST, personas.sara).get("/billing/southpeak/stripe/").content.decode()
    assert "Connect with Stripe" in page and "Northwind" not in page


def test_the_page_is_on_the_agency_host_only(web, personas, stripe_fake):
    assert web("acme.localhost", personas.nina).get("/billing/northwind/stripe/").status_code == 404


def test_without_stripe_connect_configured_the_page_says_so(web, personas, settings):
    settings.STRIPE_CONNECT_CLIENT_ID = ""
    browser = web(HOST, personas.nina)
    page = browser.get("/billing/northwind/stripe/").content.decode()
    assert "not set up on this platform" in page and "Connect with Stripe" not in page
    assert browser.post("/billing/northwind/stripe/connect/").status_code == 404


def test_the_agency_dashboard_links_admins_to_payments(web, personas, stripe_fake):
    assert "/billing/northwind/stripe/" in web(HOST, personas.nina).get("/").content.decode()
    assert "/billing/northwind/stripe/" not in web(HOST, personas.nate).get("/").content.decode()


def test_a_code_stripe_does_not_know_is_refused_in_stripes_words(web, personas, stripe_fake):
    stripe_account(stripe_fake)
    browser = web(HOST, personas.nina)
    authorize = _start(browser)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    answer = browser.get("/billing/stripe/return/", {"code": "ac_made_up", "state": state})
    page = browser.get(answer["Location"]).content.decode()
    assert "Stripe was not connected: Authorization code does not exist: ac_made_up" in page
    assert not StripeConnection.objects.exists()


def test_on_the_agencys_own_domain_connecting_starts_on_the_platform_host(
    web, personas, stripe_fake, settings
):
    """Stripe sends the admin back to the one redirect address registered with it, on the platform host, where
    the admin's session is: the agency's own domain links there instead of starting a round trip that would
    come back to a session without its state."""
    from django.utils import timezone

    from accounts.models import Agency

    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain="app.northwind.test", custom_domain_verified_at=timezone.now()
    )
    browser = web("app.northwind.test", personas.nina)
    page = browser.get("/billing/northwind/stripe/").content.decode()
    assert f'href="{settings.PUBLIC_BASE_URL}/billing/northwind/stripe/"' in page
    assert "Connect with Stripe" not in page
    answer = browser.post("/billing/northwind/stripe/connect/")
    assert answer.status_code == 302 and answer["Location"] == "/billing/northwind/stripe/"
    assert not stripe_fake.requests
