"""Logging in and landing, as people do it: in a browser, mostly on a phone."""

from tests.browser.conftest import DESKTOP, fits_the_screen, screenshot
from tests.personas import PASSWORD


def log_in(page, base: str, email: str, password: str = PASSWORD):
    page.goto(f"{base}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_owner_logs_in_on_a_phone_and_lands_in_their_businesss_inbox(page_for, personas):
    page, base = page_for("acme.localhost")
    page.goto(f"{base}/")
    assert page.get_by_role("heading", name="Log in to Acme Plumbing").is_visible()
    assert page.locator(".brand").inner_text() == "Northwind Marketing"  # the agency's brand, not ours
    assert fits_the_screen(page)
    screenshot(page, "login-phone")
    log_in(page, base, personas.alice.email)
    assert page.url == f"{base}/inbox/"
    assert page.locator(".client-name").inner_text() == "Acme Plumbing"
    assert page.get_by_text("alice@acme.test").is_visible()
    assert fits_the_screen(page)
    screenshot(page, "client-home-phone")


def test_a_stranger_is_told_only_that_the_login_failed(page_for, personas):
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.erin.email)  # Cedar Roofing's owner, on Acme's host
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct email and password")
    assert page.url.startswith(f"{base}/accounts/login/")


def test_an_agency_admin_sees_their_clients(page_for, personas):
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nina.email)
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 2
    assert "Acme Plumbing" in rows.nth(0).inner_text() and "Bolt Electric" in rows.nth(1).inner_text()
    screenshot(page, "agency-home-desktop")
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("heading", name="Log in").is_visible()


def test_the_agency_home_reads_well_on_a_phone(page_for, personas):
    page, base = page_for("localhost")
    log_in(page, base, personas.nina.email)
    assert page.get_by_text("acme.localhost").is_visible()
    assert fits_the_screen(page)
    screenshot(page, "agency-home-phone")
