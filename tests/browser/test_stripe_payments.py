"""The agency's Payments page in a real browser, on a phone and a desktop: the admin connects the agency's
Stripe account through Stripe's authorize page (the fake Stripe's, over HTTP: the running stack's exchange of
the code goes there too), chooses to invoice clients and to pause on failed payments; and the client's inbox
on a phone says why its text-backs are paused when an invoice is unpaid."""

from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import Client
from billing.models import ClientInvoice, ClientStripeCustomer, Statement, StripeConnection, StripeEvent
from tests.browser.conftest import DESKTOP, PHONE, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in, pass_two_factor


def _clear() -> None:
    ClientInvoice.objects.all().delete()
    Statement.objects.filter(kind=Statement.Kind.CLIENT, month=date(2026, 11, 1)).delete()
    for model in (ClientStripeCustomer, StripeEvent, StripeConnection):
        model.objects.all().delete()


@pytest.fixture
def stripe_clean(live, _fake_stripe_server, personas):
    """Committed rows the stack's server must see, removed again; the fake Stripe clean. Nina (an agency admin)
    sets up her second factor at login, and loses it again afterwards."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _fake_stripe_server.reset()
    _clear()
    TOTPDevice.objects.filter(user=personas.nina).delete()
    yield _fake_stripe_server
    _clear()
    TOTPDevice.objects.filter(user=personas.nina).delete()
    StaticDevice.objects.filter(user=personas.nina).delete()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_an_agency_admin_connects_stripe_and_chooses_to_invoice_clients(
    page_for, personas, stripe_clean, device
):
    stripe_clean.next_account(
        id=f"acct_browser_{device}", name="Northwind Payments", email="pay@northwind.test"
    )
    page, base = page_for("localhost", PHONE if device == "phone" else DESKTOP)
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    page.get_by_role("heading", name="Clients").wait_for()
    page.goto(f"{base}/billing/northwind/stripe/")
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, f"stripe-payments-connect-{device}")

    page.get_by_role("button", name="Connect with Stripe").click()
    expect(page.get_by_role("heading", name="Connect your Stripe account")).to_be_visible()  # Stripe's page
    page.get_by_role("link", name="Connect my Stripe account").click()
    page.wait_for_url(f"{base}/billing/northwind/stripe/")
    expect(page.get_by_text("Connected your Stripe account Northwind Payments.")).to_be_visible()
    expect(page.locator("#stripe-account")).to_contain_text(f"acct_browser_{device}")

    page.get_by_label("Send each client's monthly statement as a Stripe invoice").check()
    page.get_by_label("Pause a client's text-backs when its card payment fails").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved your Stripe choices.")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, f"stripe-payments-{device}")
    connection = StripeConnection.objects.get(agency=personas.northwind)
    assert connection.invoice_clients and connection.pause_on_failed_payment

    page.get_by_role("button", name="Disconnect Stripe").click()
    expect(page.get_by_role("button", name="Connect with Stripe")).to_be_visible()
    assert not StripeConnection.objects.exists()
    assert stripe_clean.deauthorized == [f"acct_browser_{device}"]


def test_a_client_owner_sees_why_text_backs_are_paused_on_a_phone(page_for, personas, stripe_clean):
    statement = Statement.objects.create(
        kind=Statement.Kind.CLIENT,
        agency=personas.northwind,
        client=personas.acme,
        month=date(2026, 11, 1),
        lines=[{"description": "Monthly service", "quantity": 1, "unit_price": "99.00", "amount": "99.00"}],
        total="99.00",
    )
    ClientInvoice.objects.create(
        statement=statement,
        agency=personas.northwind,
        client=personas.acme,
        account_id="acct_browser",
        invoice_id="in_browser",
        status=ClientInvoice.Status.PAYMENT_FAILED,
        hosted_invoice_url=f"{stripe_clean.base_url}/hosted/in_browser",
        paused_client=True,
    )
    Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.PAUSED)
    try:
        page, base = page_for("acme.localhost")
        log_in(page, base, personas.alice.email)
        banner = page.locator("#payment-pause")
        expect(banner).to_contain_text("its invoice for November 2026 from Northwind Marketing is unpaid")
        expect(banner.get_by_role("link", name="Pay it by card")).to_have_attribute(
            "href", f"{stripe_clean.base_url}/hosted/in_browser"
        )
        assert fits_the_screen(page)
        screenshot(page, "stripe-payment-paused-inbox-phone")
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(status=Client.Status.LIVE)


def test_an_admin_who_logged_in_a_while_ago_types_the_password_before_stripe(
    page_for, personas, stripe_clean
):
    """accounts.reauth on a phone: the session's login is made 20 minutes old; Connect asks for the password,
    a wrong one says so, the right one goes on to Stripe's page."""
    import time

    from django.contrib.sessions.backends.db import SessionStore

    from accounts.reauth import SESSION_KEY
    from tests.personas import PASSWORD

    page, base = page_for("localhost", PHONE)
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    page.get_by_role("heading", name="Clients").wait_for()
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(session_key=cookie["value"])
    session[SESSION_KEY] = int(time.time()) - 20 * 60
    session.save()

    page.goto(f"{base}/billing/northwind/stripe/")
    page.get_by_role("button", name="Connect with Stripe").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Continue to Stripe").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not your password.")
    assert fits_the_screen(page)
    screenshot(page, "stripe-reauth-phone")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Continue to Stripe").click()
    expect(page.get_by_role("heading", name="Connect your Stripe account")).to_be_visible()  # Stripe's page
