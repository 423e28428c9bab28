"""Logging in and landing, as people do it: in a browser, mostly on a phone."""

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, fits_the_screen, screenshot
from tests.personas import PASSWORD


def log_in(page, base: str, email: str, password: str = PASSWORD, *, succeeds: bool = True):
    """Log in from the host's front page, and wait for the answer: a test that moves on while the login is still
    on its way can cut it off before the session cookie arrives."""
    page.goto(f"{base}/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if succeeds:
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    else:
        page.get_by_role("alert").wait_for()


def test_an_owner_logs_in_on_a_phone_and_lands_in_their_businesss_inbox(page_for, personas):
    page, base = page_for("acme.localhost")
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Log in to Acme Plumbing")).to_be_visible()
    assert page.locator(".brand").inner_text() == "Northwind Marketing"  # the agency's brand, not ours
    assert fits_the_screen(page)
    screenshot(page, "login-phone")
    log_in(page, base, personas.alice.email)
    page.wait_for_url(f"{base}/inbox/")
    assert page.locator(".client-name").inner_text() == "Acme Plumbing"
    expect(page.locator(".account summary")).to_have_accessible_name("alice@acme.test")
    assert fits_the_screen(page)
    screenshot(page, "client-home-phone")


def test_a_stranger_is_told_only_that_the_login_failed(page_for, personas):
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.erin.email, succeeds=False)  # Cedar Roofing's owner, on Acme's host
    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct email and password")
    assert page.url.startswith(f"{base}/accounts/login/")


def pass_two_factor(page, user):
    """Agency admins set up an authenticator on their first login: read the key off the page, as the app would."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    expect(page.get_by_role("heading", name="Set up two-factor login")).to_be_visible()
    page.locator(".totp-secret").wait_for()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Six-digit code").fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on and log in").click()
    # The recovery codes are shown once, then the admin goes on to where they were going.
    page.get_by_role("heading", name="Recovery codes").wait_for()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have saved them, continue").click()


def test_an_agency_admin_sees_their_clients(page_for, personas):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)  # waits for the dashboard: the click above only starts the navigation
    assert "Acme Plumbing" in rows.nth(0).inner_text() and "Bolt Electric" in rows.nth(1).inner_text()
    screenshot(page, "agency-home-desktop")
    page.locator(".account summary").click()  # the account menu, at the foot of the side navigation
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    TOTPDevice.objects.filter(user=personas.nina).delete()


def test_an_admin_is_shown_recovery_codes_once_on_a_phone(page_for, personas):
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost")
    log_in(page, base, personas.nina.email)
    page.get_by_role("heading", name="Set up two-factor login").wait_for()
    screenshot(page, "two-factor-setup-phone")
    device = TOTPDevice.objects.get(user=personas.nina, confirmed=False)
    from django_otp.oath import TOTP

    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Six-digit code").fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on and log in").click()
    page.get_by_role("heading", name="Recovery codes").wait_for()
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    assert fits_the_screen(page)
    screenshot(page, "two-factor-recovery-codes-phone")
    page.reload()
    expect(page.locator(".recovery-codes li")).to_have_count(0)  # shown once
    expect(page.get_by_text("You have 10 recovery codes left.")).to_be_visible()
    TOTPDevice.objects.filter(user=personas.nina).delete()
    StaticDevice.objects.filter(user=personas.nina).delete()


def test_the_agency_home_reads_well_on_a_phone(page_for, personas):
    page, base = page_for("localhost")
    log_in(page, base, personas.nate.email)  # agency staff: no second factor
    expect(page.get_by_text("acme.localhost")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "agency-home-phone")
