"""Accepting an invitation with an account one already has, and setting up an agency's own domain, as people do
it: on a phone."""

import pytest
import requests
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Agency, AuditEntry, ClientMembership, Invitation
from accounts.services import invitation_create
from accounts.throttle import login_failures_clear
from tests.browser.conftest import fits_the_screen, screenshot
from tests.personas import PASSWORD
from tests.stack import wait_until

from .test_login_pages import log_in, pass_two_factor


@pytest.fixture
def alice_invited_to_bolt(live, personas):
    """Dave invites Alice (Acme's owner) to Bolt; committed, since the stack serves the page. Undone after."""
    _, token = invitation_create(
        email=personas.alice.email, role="staff", invited_by=personas.dave, client=personas.bolt
    )
    yield token
    ClientMembership.objects.filter(user=personas.alice, client=personas.bolt).delete()
    Invitation.objects.filter(email=personas.alice.email, client=personas.bolt).delete()
    AuditEntry.objects.filter(
        action=AuditEntry.Action.INVITE, client=personas.bolt, detail__startswith=personas.alice.email
    ).delete()
    login_failures_clear(email=personas.alice.email, address="127.0.0.1")


def test_someone_with_an_account_accepts_with_their_password_on_a_phone(
    page_for, personas, alice_invited_to_bolt
):
    page, base = page_for("bolt.localhost")
    page.goto(f"{base}/accounts/invitation/{alice_invited_to_bolt}/")
    page.wait_for_url(f"{base}/accounts/invitation/")  # the token is out of the address bar (and history)
    expect(page.get_by_role("heading", name="Join Bolt Electric")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "invitation-existing-account-phone")
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("not the password")
    assert not ClientMembership.objects.filter(user=personas.alice, client=personas.bolt).exists()
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Accept the invitation").click()
    page.wait_for_url(f"{base}/inbox/")
    expect(page.get_by_text("Welcome to Bolt Electric.")).to_be_visible()
    assert ClientMembership.objects.filter(user=personas.alice, client=personas.bolt, role="staff").exists()


def served_at(live, host: str) -> int:
    """The status of the login page on this host, asked of the running web server (the browser cannot resolve
    made-up names)."""
    return requests.get(
        f"{live.base_url}/accounts/login/", headers={"Host": host}, timeout=10, allow_redirects=False
    ).status_code


@pytest.fixture
def northwind_brand_restored(live, personas):
    fields = [
        "brand_name",
        "brand_color",
        "support_email",
        "support_phone",
        "custom_domain",
        "custom_domain_token",
        "custom_domain_verified_at",
        "custom_domain_checked_at",
        "custom_domain_check_error",
    ]
    before = Agency.objects.filter(pk=personas.northwind.pk).values(*fields).get()
    yield
    Agency.objects.filter(pk=personas.northwind.pk).update(**before)
    TOTPDevice.objects.filter(user=personas.nina).delete()
    StaticDevice.objects.filter(user=personas.nina).delete()
    AuditEntry.objects.filter(agency=personas.northwind, action=AuditEntry.Action.BRAND).delete()


def test_an_admin_proves_a_new_domain_by_dns_on_a_phone(
    page_for, personas, northwind_brand_restored, live_dns, live
):
    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost")
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    page.goto(f"{base}/agency/northwind/brand/")
    page.get_by_label("Custom domain").fill("app.northwind-growth-partners.test")
    page.get_by_role("button", name="Save brand").click()
    section = page.locator(".domain-status")
    expect(section.get_by_text("Pending")).to_be_visible()
    token = Agency.objects.get(pk=personas.northwind.pk).custom_domain_token
    expect(section).to_contain_text("_textback-verification.app.northwind-growth-partners.test")
    expect(section).to_contain_text(f"textback-verification={token}")
    assert fits_the_screen(page)
    screenshot(page, "brand-domain-pending-phone")
    assert served_at(live, "app.northwind-growth-partners.test") == 404  # pending: serves nothing

    # The admin adds the record at their DNS provider and asks for a check: the worker asks DNS (tests/dns_fake.py).
    live_dns["_textback-verification.app.northwind-growth-partners.test"] = [f"textback-verification={token}"]
    page.get_by_role("button", name="Check now").click()
    wait_until(
        lambda: Agency.objects.get(pk=personas.northwind.pk).custom_domain_verified_at is not None,
        timeout=20,
        what="the worker to verify the domain",
    )
    page.reload()
    expect(page.locator(".domain-status").get_by_text("Verified")).to_be_visible()
    assert fits_the_screen(page)
    assert served_at(live, "app.northwind-growth-partners.test") == 200
