"""Texting from the number callers dial, in a real browser on a phone and on a desktop: the owner of a business in
carrier-forwarding mode goes from its settings to the hosting page, orders hosting of its own number, places the
verification call and sees the code, and once Twilio (the fake, driven here as the carriers would) completes the
order the page says texts now go from that number."""

import pytest
from playwright.sync_api import expect

from accounts.models import Client
from deliverability.models import BusinessAddress, EventSink, HostedNumberOrder
from tests.browser.conftest import DESKTOP, PHONE, fits_the_screen, screenshot

from .test_login_pages import log_in

OWN = "+13125550142"


@pytest.fixture
def acme_in_carrier_mode(personas, live):
    Client.objects.filter(pk=personas.acme.pk).update(call_mode=Client.CallMode.CARRIER)
    yield
    HostedNumberOrder.objects.filter(client=personas.acme).delete()
    BusinessAddress.objects.filter(client=personas.acme).delete()
    EventSink.objects.all().delete()
    Client.objects.filter(pk=personas.acme.pk).update(
        call_mode=Client.CallMode.FORWARD, hosted_sms_number=None
    )


@pytest.mark.parametrize("device", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_owner_hosts_the_business_number_for_texting(
    page_for, personas, acme_in_carrier_mode, _fake_twilio_server, device
):
    fake = _fake_twilio_server
    name = "phone" if device is PHONE else "desktop"
    page, base = page_for("acme.localhost", device)
    log_in(page, base, personas.alice.email)
    page.goto(f"{base}/settings/")
    section = page.locator("#texting-number")
    expect(section).to_contain_text("the Textback number")
    section.get_by_role("link", name="Text from the business's own number").click()

    expect(page.get_by_role("heading", name="Order hosting")).to_be_visible()
    expect(page.get_by_label("The business's own number")).to_have_value(OWN)  # its forward-to, prefilled
    page.get_by_label("Who signs for the business").fill("Alice Owner")
    page.get_by_label("Their email").fill("alice@acme.test")
    page.get_by_label("Their phone").fill("(312) 555-0199")
    page.get_by_label("Street address").fill("1 Main St")
    page.get_by_label("City").fill("Chicago")
    page.get_by_label("State (2 letters)").fill("IL")
    page.get_by_label("ZIP code").fill("60601")
    assert fits_the_screen(page)
    screenshot(page, f"hosting-order-{name}")
    page.get_by_role("button", name="Order hosting").click()

    expect(page.locator("#hosting-status")).to_have_text("Received: ownership to verify")
    expect(page.locator("#hosting-next")).to_contain_text("Next, for the owner")
    page.get_by_role("button", name="Place the verification call").click()
    order = HostedNumberOrder.objects.get(client=personas.acme)
    expect(page.locator("#hosting-code")).to_have_text(order.verification_code)
    expect(page.locator("#hosting-next")).to_contain_text(f"Answer Twilio's call at {OWN}")
    assert fits_the_screen(page)
    screenshot(page, f"hosting-verify-{name}")

    fake.answer_verification(order.order_sid, order.verification_code)
    page.get_by_role("button", name="Check with Twilio now").click()
    expect(page.locator("#hosting-next")).to_contain_text("signs the letter of authorisation")
    fake.sign_loa(order.order_sid)
    fake.set_hosted_order_status(order.order_sid, "completed")
    page.get_by_role("button", name="Check with Twilio now").click()
    expect(page.locator("#hosting-status")).to_have_text("Completed: texts go from this number")
    expect(page.locator("#hosting-sender")).to_contain_text(
        f"Texts go from {OWN} (the business's own number)"
    )
    assert fits_the_screen(page)
    screenshot(page, f"hosting-completed-{name}")
    assert str(Client.objects.get(pk=personas.acme.pk).hosted_sms_number) == OWN
