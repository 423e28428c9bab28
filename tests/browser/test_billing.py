"""Billing pages in a real browser on a phone: the agency's usage table and an owner's statement fit the screen
and read as a list of labelled figures."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import (
    AgencyBilling,
    ClientInvoice,
    ClientPrice,
    MonthlyUsage,
    Plan,
    Statement,
    UsageEvent,
    UsageWarning,
)
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in


def _clear() -> None:
    for model in (
        ClientInvoice,
        UsageWarning,
        UsageEvent,
        MonthlyUsage,
        Statement,
        ClientPrice,
        AgencyBilling,
    ):
        model.objects.all().delete()


@pytest.fixture
def priced(personas, live):
    """Committed (the stack's server must see it), and removed again; usage the stack tests left is cleared
    first."""
    _clear()
    plan = Plan.objects.create(
        name="Browser plan", monthly_price=Decimal("49.00"), included_segments_per_client=100
    )
    AgencyBilling.objects.create(agency=personas.northwind, plan=plan, time_zone="America/Chicago")
    ClientPrice.objects.create(
        client=personas.acme,
        monthly_price=Decimal("99.00"),
        included_segments=150,
        price_per_segment=Decimal("0.0300"),
        owner_sees_statement=True,
    )
    yield
    _clear()
    plan.delete()


def test_an_owner_reads_their_statement_on_a_phone(page_for, personas, priced):
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/billing/")
    expect(
        page.get_by_role("heading", name="Northwind Marketing statement for Acme Plumbing")
    ).to_be_visible()
    expect(page.get_by_text("Monthly service")).to_be_visible()
    expect(page.get_by_text("SMS segments above the 150 included (0 used)")).to_be_visible()
    assert page.locator(".billing-total").inner_text() == "99.00"
    assert fits_the_screen(page)
    screenshot(page, "billing-owner-statement-phone")


def test_agency_staff_read_usage_per_client_on_a_phone(page_for, personas, priced):
    page, base = page_for("localhost")
    log_in(page, base, personas.nate.email)
    page.goto(f"{base}/billing/")
    expect(page.get_by_role("heading", name="Usage and billing")).to_be_visible()
    rows = page.locator("table.billing-usage tbody tr")
    expect(rows).to_have_count(2)
    assert "Acme Plumbing" in rows.nth(0).inner_text()
    assert fits_the_screen(page)
    screenshot(page, "billing-agency-usage-phone")


def test_an_owner_whose_agency_shares_no_statement_is_told_so(page_for, personas, live):
    _clear()  # no price for Acme: its agency shares nothing with the owner
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/billing/")
    expect(page.get_by_role("heading", name="Billing")).to_be_visible()
    expect(
        page.get_by_text("Northwind Marketing has not shared Acme Plumbing's statements here")
    ).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "billing-owner-not-shared-phone")
