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


def pass_two_factor(page, user):
    """Agency admins set up an authenticator on their first login: read the key off the page, as the app would."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    assert page.get_by_role("heading", name="Set up two-factor login").is_visible()
    page.locator(".totp-secret").wait_for()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    page.get_by_label("Six-digit code").fill(f"{code:06d}")
    page.get_by_role("button", name="Turn on and log in").click()
    # The recovery codes are shown once, then the admin goes on to where they were going.
    page.get_by_role("heading", name="Recovery codes").wait_for()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="I have saved them, continue").click()


def test_an_agency_admin_sees_their_clients(page_for, personas):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 2
    assert "Acme Plumbing" in rows.nth(0).inner_text() and "Bolt Electric" in rows.nth(1).inner_text()
    screenshot(page, "agency-home-desktop")
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("heading", name="Log in").is_visible()
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
    assert page.locator(".recovery-codes li").count() == 10
    assert fits_the_screen(page)
    screenshot(page, "two-factor-recovery-codes-phone")
    page.reload()
    assert page.locator(".recovery-codes li").count() == 0  # shown once
    assert page.get_by_text("You have 10 recovery codes left.").is_visible()
    TOTPDevice.objects.filter(user=personas.nina).delete()
    StaticDevice.objects.filter(user=personas.nina).delete()


def test_the_agency_home_reads_well_on_a_phone(page_for, personas):
    page, base = page_for("localhost")
    log_in(page, base, personas.nate.email)  # agency staff: no second factor
    assert page.get_by_text("acme.localhost").is_visible()
    assert fits_the_screen(page)
    screenshot(page, "agency-home-phone")
