"""An owner chooses their alerts on a phone: the page fits the screen, asks for a number before texts, saves."""

from django_tenants.utils import schema_context
from playwright.sync_api import expect

from inbox.models import NotificationPreference
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in


def test_an_owner_turns_on_reply_texts_on_a_phone(page_for, personas):
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/inbox/")
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    assert fits_the_screen(page)

    page.get_by_label("Text me when a caller replies").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Give the mobile number the texts should go to.")).to_be_visible()

    page.get_by_label("My mobile number for alerts").fill("+1 312 555 0199")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your notification choices are saved.")).to_be_visible()
    assert page.get_by_label("Text me when a caller replies").is_checked()
    screenshot(page, "inbox-notifications-phone")
    try:
        with schema_context(personas.acme.schema_name):
            saved = NotificationPreference.objects.get(user_id=personas.alice.pk)
        assert saved.reply_text and str(saved.text_to) == "+13125550199"
    finally:
        with schema_context(personas.acme.schema_name):
            NotificationPreference.objects.filter(user_id=personas.alice.pk).delete()  # committed by the server
