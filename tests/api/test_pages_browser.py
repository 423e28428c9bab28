"""The key and webhook pages in a real browser on a phone: an owner makes a key, sees it once, revokes it; adds
an endpoint and reads its deliveries. Nothing scrolls sideways."""

from api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from tests.browser.conftest import chromium, fits_the_screen, page_for, screenshot  # noqa: F401
from tests.browser.test_login_pages import log_in


def test_an_owner_makes_a_key_and_an_endpoint_on_a_phone(page_for, personas, receiver):  # noqa: F811
    page, base = page_for("acme.localhost")
    try:
        log_in(page, base, personas.alice.email)
        page.goto(f"{base}/api/keys/")
        page.get_by_label("Name").fill("Zapier")
        page.get_by_label("Read and write").check()
        page.get_by_role("button", name="Make key").click()
        secret = page.locator("#new-key").inner_text()
        assert secret.startswith("tb_")
        assert fits_the_screen(page)
        screenshot(page, "api-keys-phone")
        page.reload()  # a reload is a new GET: the key is not shown again
        assert page.locator("#new-key").count() == 0
        page.get_by_role("button", name="Revoke").click()
        assert page.get_by_text("is revoked").is_visible()

        page.goto(f"{base}/api/webhooks/")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("A caller opted out").check()
        page.get_by_role("button", name="Add endpoint").click()
        assert page.get_by_text("Signing secret", exact=True).is_visible()
        assert fits_the_screen(page)
        screenshot(page, "api-webhook-phone")
    finally:
        WebhookDelivery.objects.filter(client=personas.acme).delete()
        WebhookEndpoint.objects.filter(client=personas.acme).delete()
        ApiKey.objects.filter(client=personas.acme).delete()
