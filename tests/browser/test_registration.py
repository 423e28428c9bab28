"""A2P 10DLC registration in a real browser, on a phone: an agency admin fills in what carriers require for a client
and submits; the running stack asks the fake Twilio (TrustHub profiles, brand) and the page says the brand is in
review."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import Client
from deliverability.models import A2PRegistration, BusinessAddress, EventSink
from tests.browser.conftest import fits_the_screen, screenshot

from .test_login_pages import log_in, pass_two_factor


@pytest.fixture
def nina_and_acme_restored(personas, live):
    yield
    A2PRegistration.objects.filter(client=personas.acme).delete()
    # Made at Twilio (the fake, which forgets them) by the submission: the business's address and the event stream.
    BusinessAddress.objects.filter(client=personas.acme).delete()
    EventSink.objects.all().delete()
    Client.objects.filter(pk=personas.acme.pk).update(messaging_registration=Client.Registration.NOT_NEEDED)
    TOTPDevice.objects.filter(user=personas.nina).delete()
    StaticDevice.objects.filter(user=personas.nina).delete()


def test_an_admin_registers_a_client_on_a_phone(page_for, personas, nina_and_acme_restored):
    TOTPDevice.objects.filter(user=personas.nina).delete()
    page, base = page_for("localhost")
    log_in(page, base, personas.nina.email)
    pass_two_factor(page, personas.nina)
    page.goto(f"{base}/deliverability/northwind/clients/{personas.acme.pk}/registration/")
    expect(page.locator("#registration-status")).to_contain_text("Not started")
    expect(page.get_by_label("Legal business name")).to_have_value("Acme Plumbing")
    page.get_by_label("Legal business name").fill("Acme Plumbing LLC")
    page.get_by_label("Business type").select_option("Limited Liability Corporation")
    page.get_by_label("EIN").fill("12-3456789")
    page.get_by_label("Vertical").select_option("CONSTRUCTION")
    page.get_by_label("Website").fill("acme-plumbing.example")
    page.get_by_label("Street").fill("1 Main St")
    page.get_by_label("City").fill("Chicago")
    page.get_by_label("State (2 letters)").fill("IL")
    page.get_by_label("Postal code").fill("60601")
    page.get_by_label("Contact first name").fill("Alice")
    page.get_by_label("Contact last name").fill("Owner")
    page.get_by_label("Contact email").fill("alice@acme.test")
    page.get_by_label("Contact phone").fill("+13125550142")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Submit to carriers").click()
    expect(page.locator("#registration-status")).to_contain_text("Submitted: the brand is in review")
    expect(page.get_by_role("button", name="Check with Twilio now")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "registration-in-review-phone")
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert registration.brand_sid.startswith("BN") and registration.website == "https://acme-plumbing.example"
