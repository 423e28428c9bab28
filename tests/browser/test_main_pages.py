"""Every main page, as the person who uses it, on a desktop and on a phone, with a client's 90 days of demo
history behind it (seed_demo's plumber): each is checked by axe-core for serious and critical accessibility
problems and photographed. `./run screenshots` runs these (and the other browser tests) with SCREENSHOTS_DIR
set to docs/screenshots/, which is how the screenshots there are made."""

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from accounts.models import Client
from agency.management.commands._demo_history import PLUMBING, billing_add, history_add, statements_add
from billing.models import AgencyBilling, ClientPrice, Plan, Statement
from crm.models import Contact
from messaging.models import Conversation
from reports.models import DailyRollup, FirstStaffReply, MonthlyRollup
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import DESKTOP, PHONE, screenshot
from tests.browser.test_login_pages import log_in, pass_two_factor

DEVICES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture
def history(live, personas):
    """Acme with the demo plumber's history, its agency with a plan and Acme's statements; all removed after
    (the callers' rows by the live fixture)."""
    acme = Client.objects.get(pk=personas.acme.pk)
    billing_add(agency=personas.northwind, prices={acme: PLUMBING.price})
    history_add(client=acme, trade=PLUMBING, owner_id=personas.alice.pk)
    statements_add(agency=personas.northwind)
    with schema_context(acme.schema_name):
        ids = {
            "conversation": Conversation.objects.filter(messages__kind="reply").latest("last_activity_at").pk,
            "contact": Contact.objects.exclude(name="").filter(outcomes__kind="won").first().pk,
        }
    connection.set_schema_to_public()
    yield ids
    Statement.objects.filter(agency=personas.northwind).delete()
    ClientPrice.objects.filter(client__agency=personas.northwind).delete()
    AgencyBilling.objects.filter(agency=personas.northwind).delete()
    Plan.objects.filter(agencies__isnull=True).delete()
    for model in (DailyRollup, MonthlyRollup, FirstStaffReply):
        model.objects.filter(client=acme).delete()
    Client.objects.filter(pk=acme.pk).update(industry="", average_job_value=None)


def _check(page, name: str, device: str, found: dict[str, list[dict]]) -> None:
    """Photograph the page as it is and keep what axe finds on it under its name."""
    screenshot(page, f"{name}-{device}")
    if violations := axe_violations(page):
        found[name] = violations


def _visit(page, base: str, pages: list[tuple[str, str]], device: str, found: dict[str, list[dict]]) -> None:
    """Each (name, path): load it and check it."""
    for name, path in pages:
        response = page.goto(f"{base}{path}")
        assert response.ok, f"{name}: {response.status} at {path}"
        _check(page, name, device, found)


def _log_in_and_visit(page_for, host: str, device: str, person, pages: list[tuple[str, str]]):
    """The host's login page, then the person's pages; the page (still logged in) and what axe found."""
    page, base = page_for(host, DEVICES[device])
    found = {}
    _visit(page, base, [(f"login-{'client' if host != 'localhost' else 'agency'}", "/")], device, found)
    log_in(page, base, person.email)
    _visit(page, base, pages, device, found)
    return page, base, found


@pytest.mark.parametrize("device", DEVICES)
def test_an_owners_pages(page_for, personas, history, device):
    _, _, found = _log_in_and_visit(
        page_for,
        "acme.localhost",
        device,
        personas.alice,
        [
            ("inbox-list", "/inbox/"),
            ("inbox-thread", f"/inbox/{history['conversation']}/"),
            ("inbox-canned", "/inbox/canned/"),
            ("inbox-notifications", "/inbox/notifications/"),
            ("contacts-list", "/contacts/"),
            ("contact-detail", f"/contacts/{history['contact']}/"),
            ("reports-client", "/reports/"),
            ("settings", "/settings/"),
            ("team-client", "/team/"),
            ("billing-owner-statement", "/billing/"),
        ],
    )
    assert not found, "\n" + describe(found)


@pytest.mark.parametrize("device", DEVICES)
def test_agency_staff_pages(page_for, personas, history, device):
    page, base, found = _log_in_and_visit(
        page_for,
        "localhost",
        device,
        personas.nate,
        [
            ("agency-dashboard", "/"),
            ("agency-pause-confirm", f"/agency/clients/{personas.acme.pk}/pause/"),
            ("reports-agency", "/reports/"),
            ("billing-agency", "/billing/"),
        ],
    )
    # What staff may not do is refused on a page of the app's own (403).
    page.goto(f"{base}/agency/clients/{personas.acme.pk}/offboard/")
    expect(page.get_by_role("heading", name="You can't do that here")).to_be_visible()
    _check(page, "error-403", device, found)
    assert not found, "\n" + describe(found)


def test_an_agency_admins_pages(page_for, personas, history):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost", DESKTOP)
    log_in(page, base, personas.nina.email)
    try:
        pass_two_factor(page, personas.nina)
        expect(page.get_by_role("heading", name="Clients")).to_be_visible()
        found = {}
        _visit(
            page,
            base,
            [
                ("agency-team", "/agency/northwind/team/"),
                ("agency-brand", "/agency/northwind/brand/"),
                ("agency-audit", "/agency/northwind/audit/"),
                ("agency-offboard", f"/agency/clients/{personas.bolt.pk}/offboard/"),
                ("onboarding-start", "/agency/northwind/onboarding/new/"),
            ],
            "desktop",
            found,
        )
    finally:
        TOTPDevice.objects.filter(user=personas.nina).delete()
    assert not found, "\n" + describe(found)
