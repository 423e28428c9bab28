"""Where an agency's clients' money goes is decided by the Stripe account it connects, so connecting, changing or
disconnecting it is told to every admin of that agency (and its billing address) by email, with who, when, which
account and what to do if it was not them; and an admin who logged in a while ago types the password again before
going to Stripe (accounts.reauth). Against the local Stripe fake, as in test_stripe_connect."""

import json
import re
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Agency, AgencyMembership
from accounts.reauth import SESSION_KEY
from accounts.services import user_get_or_create
from accounts.throttle import login_failures_clear
from billing.models import AgencyBilling, StripeConnection
from billing.selectors import agency_time_zone
from tests.personas import PASSWORD

from .conftest import connect_agency
from .test_stripe_connect import _approve_on_stripe, _start

pytestmark = pytest.mark.django_db

HOST = "localhost"
NORTHWIND_ADMINS = {"nina@northwind.test", "nell@northwind.test", "accounts@northwind.test"}


@pytest.fixture
def admins(personas):
    """Northwind has a second admin and a billing address; Southpeak (Sara) is another agency."""
    nell = user_get_or_create(email="nell@northwind.test", password=PASSWORD, name="Nell North")
    AgencyMembership.objects.create(user=nell, agency=personas.northwind, role=AgencyMembership.Role.ADMIN)
    AgencyBilling.objects.update_or_create(
        agency=personas.northwind, defaults={"billing_email": "accounts@northwind.test"}
    )
    return nell


@pytest.fixture(autouse=True)
def _no_failed_passwords_carried_over():
    for email in ("nina@northwind.test", "sara@southpeak.test"):
        login_failures_clear(email=email, address="127.0.0.1")
    yield
    for email in ("nina@northwind.test", "sara@southpeak.test"):
        login_failures_clear(email=email, address="127.0.0.1")


def _links(body: str) -> list[str]:
    return re.findall(r"https?://\S+", body)


def _connect(browser, capture):
    with capture(execute=True):
        answer = browser.get(_approve_on_stripe(_start(browser)))
    assert answer.status_code == 302
    return answer


def test_connecting_emails_every_admin_of_that_agency_only(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks, settings
):
    stripe_fake.next_account(id="acct_notice000001", name="Northwind Payments")
    # Early morning in UTC, still the evening before in the Americas: the day the email names says which zone.
    connected_at = datetime(2026, 12, 8, 3, 30, tzinfo=UTC)
    with time_machine.travel(connected_at, tick=True):
        _connect(web(HOST, personas.nina), django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert set(mail.to) == NORTHWIND_ADMINS  # Sara (Southpeak's admin), Nate (staff) and clients: not told
    assert mail.subject == "A Stripe account was connected for Northwind Marketing"
    body = mail.body
    assert "nina@northwind.test connected a Stripe account to Northwind Marketing" in body
    assert "Northwind Payments — acct_notice000001" in body
    at = timezone.localtime(connected_at, ZoneInfo(agency_time_zone(agency=personas.northwind)))
    assert at.day != connected_at.day
    assert f"When: {at.day} {at:%B %Y}, {at:%H:%M} " in body  # in the agency's time zone, not the server's
    assert "From the address: 127.0.0.1" in body
    assert "If it was not: your clients' payments may be going to someone else." in body
    public = urlsplit(settings.PUBLIC_BASE_URL)
    links = _links(body)
    assert f"{settings.PUBLIC_BASE_URL}/billing/northwind/stripe/" in links
    assert f"{settings.PUBLIC_BASE_URL}/agency/northwind/audit/" in links
    assert {urlsplit(link).netloc for link in links} == {public.netloc}


def test_links_go_to_the_agencys_verified_domain_never_the_request_host(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks, settings
):
    Agency.objects.filter(pk=personas.northwind.pk).update(
        custom_domain="app.northwind.test", custom_domain_verified_at=timezone.now()
    )
    browser = web(HOST, personas.nina)
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.get(
            _approve_on_stripe(_start(browser)), HTTP_X_FORWARDED_HOST="evil.example", HTTP_HOST=HOST
        )
    assert answer.status_code == 302
    public = urlsplit(settings.PUBLIC_BASE_URL)
    port = f":{public.port}" if public.port else ""
    hosts = {urlsplit(link).netloc for link in _links(mailoutbox[0].body)}
    assert hosts == {f"app.northwind.test{port}"}


def test_changing_the_account_names_the_new_and_the_previous_one(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    old = connect_agency(personas.northwind, stripe_fake, name="Old Payments")
    stripe_fake.next_account(id="acct_notice000002", name="New Payments")
    _connect(web(HOST, admins), django_capture_on_commit_callbacks)

    assert StripeConnection.objects.get(agency=personas.northwind).account_id == "acct_notice000002"
    (mail,) = mailoutbox
    assert set(mail.to) == NORTHWIND_ADMINS
    assert mail.subject == "The Stripe account was changed for Northwind Marketing"
    assert "Nell North (nell@northwind.test) changed the Stripe account of Northwind Marketing" in mail.body
    assert "New:      New Payments — acct_notice000002" in mail.body
    assert f"Previous: Old Payments — {old.account_id}" in mail.body


def test_disconnecting_emails_the_admins(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    connection = connect_agency(personas.northwind, stripe_fake, name="Northwind Payments")
    connect_agency(personas.southpeak, stripe_fake)
    with django_capture_on_commit_callbacks(execute=True):
        answer = web(HOST, personas.nina).post("/billing/northwind/stripe/disconnect/")
    assert answer.status_code == 302
    (mail,) = mailoutbox
    assert set(mail.to) == NORTHWIND_ADMINS
    assert mail.subject == "The Stripe account was disconnected for Northwind Marketing"
    assert "nina@northwind.test disconnected the Stripe account of Northwind Marketing" in mail.body
    assert f"Northwind Payments — {connection.account_id}" in mail.body


def test_revoking_access_from_stripe_emails_the_admins(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks
):
    connection = connect_agency(personas.northwind, stripe_fake, name="Northwind Payments")
    event = stripe_fake.event("account.application.deauthorized", {"id": "ca_x", "object": "application"})
    event["account"] = connection.account_id
    body = json.dumps(event)
    with django_capture_on_commit_callbacks(execute=True):
        answer = web(HOST).post(
            "/hooks/stripe/",
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=stripe_fake.sign(body),
        )
    assert answer.status_code == 200
    (mail,) = mailoutbox
    assert set(mail.to) == NORTHWIND_ADMINS
    assert "was revoked from Stripe's side" in mail.body and connection.account_id in mail.body


def test_mail_trouble_does_not_undo_the_connection(
    web, personas, admins, stripe_fake, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr("billing.connect.send_mail", broken)
    _connect(web(HOST, personas.nina), django_capture_on_commit_callbacks)
    assert StripeConnection.objects.filter(agency=personas.northwind).exists()


# --- Typing the password again before connecting -----------------------------------------------------------


def _aged(browser, seconds_ago: int | None) -> None:
    session = browser.session
    if seconds_ago is None:
        session.pop(SESSION_KEY, None)
    else:
        session[SESSION_KEY] = int(time.time()) - seconds_ago
    session.save()


@pytest.mark.parametrize("seconds_ago", [16 * 60, None], ids=["logged-in-16-minutes-ago", "no-login-time"])
def test_an_old_session_types_the_password_before_going_to_stripe(web, personas, stripe_fake, seconds_ago):
    browser = web(HOST, personas.nina)
    _aged(browser, seconds_ago)
    asked = browser.post("/billing/northwind/stripe/connect/")
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Confirm it is you" in page and 'type="password"' in page
    assert not stripe_fake.requests

    wrong = browser.post("/billing/northwind/stripe/connect/", {"password": "not-it"})
    assert wrong.status_code == 400 and "That is not your password." in wrong.content.decode()

    right = browser.post("/billing/northwind/stripe/connect/", {"password": PASSWORD})
    assert right.status_code == 302
    assert right["Location"].startswith(f"{stripe_fake.base_url}/oauth/authorize?")
    # Proved just now: the next press goes straight to Stripe.
    assert _start(browser).startswith(f"{stripe_fake.base_url}/oauth/authorize?")


def test_a_recent_login_goes_straight_to_stripe(web, personas, stripe_fake, settings):
    settings.REAUTH_SECONDS = 15 * 60
    browser = web(HOST, personas.nina)
    _aged(browser, 14 * 60)
    assert _start(browser).startswith(f"{stripe_fake.base_url}/oauth/authorize?")


def test_guessing_the_password_is_throttled_like_logging_in(web, personas, stripe_fake):
    browser = web(HOST, personas.nina)
    _aged(browser, None)
    for _ in range(5):
        browser.post("/billing/northwind/stripe/connect/", {"password": "guess"})
    answer = browser.post("/billing/northwind/stripe/connect/", {"password": PASSWORD})
    assert answer.status_code == 400 and "Too many failed attempts" in answer.content.decode()
    assert not stripe_fake.requests


def test_another_agencys_admin_cannot_use_the_password_step(web, personas, stripe_fake):
    browser = web(HOST, personas.sara)
    _aged(browser, None)
    answer = browser.post("/billing/northwind/stripe/connect/", {"password": PASSWORD})
    assert answer.status_code == 404
