"""The key and webhook pages in a real browser on a phone: an owner makes a key, sees it once, revokes it; adds
an endpoint and reads its deliveries. Nothing scrolls sideways."""

import json
from concurrent.futures import ThreadPoolExecutor

import requests

from api.models import ApiKey, WebhookDelivery, WebhookEndpoint
from api.services import apikey_create
from tests.browser.conftest import CHROMIUM_ARGS, PHONE, fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.stack import wait_until

from .test_webhooks import verify


def in_a_browser(drive):
    """Run `drive(page)` in a fresh Chromium on a phone, in a thread of its own: a sync Playwright cannot start
    in a thread where another (tests/browser's, kept for the session) is running."""

    def run():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(**PHONE)
                context.set_default_timeout(10_000)
                return drive(context.new_page())
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


def test_an_owner_makes_a_key_and_an_endpoint_on_a_phone(live, personas, receiver):
    base = f"http://acme.localhost:{live.base_url.rsplit(':', 1)[1]}"

    def drive(page):
        log_in(page, base, personas.alice.email)
        page.goto(f"{base}/api/keys/")
        page.get_by_label("Name").fill("Zapier")
        page.get_by_label("Read and write").check()
        page.get_by_role("button", name="Make key").click()
        secret = page.locator("#new-key").inner_text()
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
        return secret

    try:
        secret = in_a_browser(drive)
        assert secret.startswith("tb_")
        key = ApiKey.objects.get(client=personas.acme)
        assert (key.name, key.scope, key.revoked_at is not None) == ("Zapier", "write", True)
        assert WebhookEndpoint.objects.get(client=personas.acme).events == ["contact.opted_out"]
    finally:
        WebhookDelivery.objects.filter(client=personas.acme).delete()
        WebhookEndpoint.objects.filter(client=personas.acme).delete()
        ApiKey.objects.filter(client=personas.acme).delete()


def test_zapier_subscribes_and_the_owner_sends_it_a_test_from_a_phone(live, personas, receiver):
    """The whole REST hook on the running stack: Zapier subscribes through gunicorn with a key, the owner opens
    "Connect Zapier / Make" on a phone and sends a test, and the Celery worker delivers it signed."""
    port = live.base_url.rsplit(":", 1)[1]
    base = f"http://acme.localhost:{port}"
    _, raw = apikey_create(name="Zapier", scope="write", created_by=personas.alice, client=personas.acme)
    try:
        response = requests.post(
            f"{live.base_url}/api/v1/hooks/",
            json={"target_url": receiver.url, "event": "call.missed"},
            headers={"Authorization": f"Bearer {raw}", "Host": f"acme.localhost:{port}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        hook = response.json()

        def drive(page):
            log_in(page, base, personas.alice.email)
            page.goto(f"{base}/api/connect/")
            assert page.get_by_text(f"{base}/api/v1/hooks/samples/call.missed/").is_visible()
            assert fits_the_screen(page)
            screenshot(page, "api-connect-phone")
            page.get_by_role("button", name="Send a test").click()
            assert page.get_by_text("A sample call.missed is on its way").is_visible()
            assert fits_the_screen(page)

        in_a_browser(drive)
        wait_until(lambda: len(receiver.requests) >= 1, timeout=20, what="the test at the hook's URL")
        [(headers, body)] = receiver.requests
        assert verify(hook["secret"], headers, body)
        assert json.loads(body)["data"]["call"]["caller_name"] == "Jane Sample"
    finally:
        WebhookDelivery.objects.filter(client=personas.acme).delete()
        WebhookEndpoint.objects.filter(client=personas.acme).delete()
        ApiKey.objects.filter(client=personas.acme).delete()
