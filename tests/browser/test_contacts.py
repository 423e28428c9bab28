"""The contacts pages in a real browser on a phone: find a caller, open them, block them, read their history."""

from datetime import timedelta

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.crm.conftest import Maker


def _callers(personas):
    acme = Maker(personas.acme)
    pat = acme.contact("+13125550177", name="Pat Jones", email="pat@example.com", tags=["vip", "repeat"])
    acme.call(pat, ago=timedelta(days=2), missed_reason="no-answer")
    acme.text(
        pat,
        "Hi, this is Acme Plumbing. Sorry we missed your call! How can we help?",
        ago=timedelta(days=2) - timedelta(seconds=30),
    )
    acme.text(
        pat,
        "My kitchen sink is leaking, can someone come today?",
        inbound=True,
        ago=timedelta(days=2) - timedelta(minutes=3),
    )
    acme.outcome(pat, ago=timedelta(days=1), value="380.00")
    acme.call(pat, ago=timedelta(hours=3), outcome="answered", duration_seconds=184)
    others = [
        ("+13125550178", "Sam's Supply Co", ["vendor"], True, False),
        ("+17735550199", "", [], False, True),
        ("+13125550143", "Dana Whitfield", ["repeat"], False, False),
    ]
    for number, name, tags, blocked, opted_out in others:
        contact = acme.contact(number, name=name, tags=tags, is_blocked=blocked, opted_out=opted_out)
        acme.call(contact, ago=timedelta(hours=len(name) + 1))
    return acme, pat


def test_staff_find_a_caller_block_them_and_read_their_history_on_a_phone(page_for, personas):
    acme, pat = _callers(personas)
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/contacts/")
    expect(page.get_by_role("heading", name="Contacts")).to_be_visible()
    expect(page.locator(".crm-row")).to_have_count(4)
    assert fits_the_screen(page)
    screenshot(page, "contacts-list-phone")

    page.get_by_label("Search").fill("pat jones")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".crm-row")).to_have_count(1)
    page.get_by_role("link", name="Pat Jones").click()
    expect(page.get_by_role("heading", name="Pat Jones")).to_be_visible()

    page.get_by_role("button", name="Block").click()
    expect(page.get_by_text("Blocked: no text-backs will go to this number.")).to_be_visible()
    expect(page.get_by_role("button", name="Unblock")).to_be_visible()
    assert acme.get(pat.pk).is_blocked

    timeline = page.locator(".crm-event strong")
    assert timeline.all_inner_texts() == [
        "Answered call",
        "Won",
        "Text from the caller",
        "Text-back sent",
        "Missed call",
    ]
    expect(page.get_by_text("My kitchen sink is leaking")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "contact-detail-phone")


def test_the_contact_page_reads_well_on_a_desktop(page_for, personas):
    _, pat = _callers(personas)
    page, base = page_for("acme.localhost", DESKTOP)
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/contacts/{pat.pk}/")
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "contact-detail-desktop")
    page.goto(f"{base}/contacts/")
    screenshot(page, "contacts-list-desktop")


def test_staff_record_a_new_contacts_consent_on_a_phone(page_for, personas):
    """A contact who never called or texted (imported, or added by the API) can be texted first only once staff
    record that they asked; the contact page offers it, and the history shows it."""
    lead = Maker(personas.acme).contact("+13125550166", name="Lee Lead")
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/contacts/{lead.pk}/")
    expect(page.get_by_text("can be texted first only once they have asked")).to_be_visible()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Tick the box to confirm the caller asked to be texted again.")).to_be_visible()
    page.get_by_label("The caller asked us to text them again").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.get_by_text("Consent recorded: you may text this number.")).to_be_visible()
    expect(page.locator(".crm-consent").get_by_text("Opted in")).to_be_visible()
    expect(page.get_by_role("button", name="Record consent")).to_have_count(0)
    assert fits_the_screen(page)
    screenshot(page, "contact-consent-phone")
