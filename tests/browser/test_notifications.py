"""An owner chooses their alerts on a phone: the page fits the screen, asks for a number before texts, saves, and
texts start only once the number is confirmed with the code we text it."""

import re

from django_tenants.utils import schema_context
from playwright.sync_api import expect

from inbox.models import NotificationPreference
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in


def test_an_owner_turns_on_reply_texts_on_a_phone(page_for, personas, _fake_twilio_server):
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
    expect(page.get_by_text("Texts start once you confirm your mobile")).to_be_visible()
    assert page.get_by_label("Text me when a caller replies").is_checked()
    expect(page.get_by_text("Not confirmed yet")).to_be_visible()
    try:
        page.get_by_role("button", name="Text me a code").click()
        expect(page.get_by_text("We texted a code to")).to_be_visible()
        [text] = _fake_twilio_server.messages_to("+13125550199")
        page.get_by_label("The code we texted you").fill(re.search(r"\b(\d{6})\b", text["body"]).group(1))
        page.get_by_role("button", name="Confirm").click()
        expect(page.get_by_text("Confirmed: alerts will be texted to")).to_be_visible()
        assert fits_the_screen(page)
        screenshot(page, "inbox-notifications-phone")
        with schema_context(personas.acme.schema_name):
            saved = NotificationPreference.objects.get(user_id=personas.alice.pk)
        assert saved.reply_text and str(saved.text_to) == "+13125550199" and saved.text_to_is_confirmed
    finally:
        with schema_context(personas.acme.schema_name):
            NotificationPreference.objects.filter(
                user_id=personas.alice.pk
            ).delete()  # committed by the server
