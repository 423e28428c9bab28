"""The report's estimate needs an average job value (and, for replies, a conversion rate): its hint leads the
owner to the field in the client's settings, and the values saved there are what the report multiplies by."""

from playwright.sync_api import expect

from accounts.models import Client
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in


def test_the_reports_hint_leads_the_owner_to_set_an_average_job_value(page_for, personas, live):
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None)
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.alice.email)
    try:
        page.goto(f"{base}/reports/")
        page.get_by_role("link", name="Set an average job value", exact=True).click()
        field = page.get_by_label("Average job value (US $)")
        expect(field).to_be_visible()
        expect(field).to_be_editable()
        assert fits_the_screen(page)
        field.fill("320")
        page.get_by_label("Replies that become a job (%)").fill("20")
        page.get_by_role("button", name="Save settings").click()
        expect(page.get_by_text("Settings saved.")).to_be_visible()
        page.goto(f"{base}/reports/")
        expect(page.get_by_text("× $320.00 average job value")).to_be_visible()
        expect(page.get_by_text("× 20% conversion × $320.00")).to_be_visible()
        screenshot(page, "report-estimate-phone")
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None, reply_conversion_rate=None)


def test_client_staff_see_the_average_job_value_read_only(page_for, personas, live):
    Client.objects.filter(pk=personas.acme.pk).update(average_job_value="150.00")
    page, base = page_for("acme.localhost")
    log_in(page, base, personas.bob.email)
    try:
        page.goto(f"{base}/settings/")
        field = page.get_by_label("Average job value (US $)")
        expect(field).to_have_value("150.00")
        expect(field).to_be_disabled()
    finally:
        Client.objects.filter(pk=personas.acme.pk).update(average_job_value=None)
