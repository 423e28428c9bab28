"""A staff member turns on notifications on their phone: the inbox's service worker registers for the whole
client host, the browser subscribes with our VAPID key, the subscription is stored for them, and an alert then
reaches that device through the push service.

Headless Chromium cannot reach a real push service from here, so the browser's PushManager is replaced by a stand-in
that returns a subscription on the tests' fake push service (tests/push_fake.py); everything else (permission,
service worker, the page's script, the server) is the real thing."""

import json

from django_tenants.utils import schema_context
from playwright.sync_api import expect

from inbox import push, tasks
from inbox.models import PushSubscription
from messaging.services import inbound_receive
from tests.browser.conftest import fits_the_screen, screenshot
from tests.browser.test_login_pages import log_in
from tests.push_fake import FakePushService
from tests.webhooks import sid

STAND_IN = """
(() => {
  const json = %s;
  // The browser keeps a subscription across page loads: so does the stand-in.
  const subscription = () => ({
    endpoint: json.endpoint,
    toJSON: () => json,
    unsubscribe: () => { localStorage.removeItem("subscribed"); return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function (options) {
    window.__applicationServerKey = Array.from(new Uint8Array(options.applicationServerKey));
    localStorage.setItem("subscribed", "1");
    return Promise.resolve(subscription());
  };
  PushManager.prototype.getSubscription = function () {
    return Promise.resolve(localStorage.getItem("subscribed") ? subscription() : null);
  };
})();
"""


def test_a_staff_member_turns_on_notifications_on_a_phone_and_gets_a_reply_alert(page_for, personas):
    service = FakePushService().start()
    device = service.device()
    page, base = page_for("acme.localhost")
    page.context.grant_permissions(["notifications"], origin=base)
    page.context.add_init_script(STAND_IN % json.dumps(device.subscription()))
    try:
        log_in(page, base, personas.bob.email)
        page.goto(f"{base}/inbox/notifications/")
        page.get_by_role("button", name="Turn on notifications on this device").click()
        expect(page.get_by_role("status")).to_contain_text("Notifications are on for this device")
        scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r && r.scope)")
        assert scope == f"{base}/"
        key = bytes(page.evaluate("window.__applicationServerKey"))
        assert push.public_key() == push.b64urlencode(key)
        with schema_context(personas.acme.schema_name):
            [saved] = PushSubscription.objects.filter(user_id=personas.bob.pk)
        assert saved.endpoint == device.endpoint

        page.reload()
        expect(page.get_by_role("button", name="Turn them off on this device")).to_be_visible()
        expect(page.get_by_role("button", name="Turn on notifications on this device")).to_be_hidden()
        expect(page.get_by_text("Chrome on Linux")).to_be_visible()  # the list of their devices
        assert fits_the_screen(page)
        page.evaluate(
            "window.scrollTo(0, 0)"
        )  # the reload kept the scroll: the sticky bar would sit mid-shot
        screenshot(page, "inbox-notifications-devices-phone")

        with schema_context(personas.acme.schema_name):
            message = inbound_receive(
                client=personas.acme, sid=sid("SM"), from_number="+13125550177", body="Is today possible?"
            )
        tasks.notify_reply(personas.acme.pk, message.pk)
        [delivery] = service.delivered_to(device)
        assert delivery.open(device)["path"] == f"/inbox/{message.conversation_id}/"

        page.get_by_role("button", name="Turn them off on this device").click()
        expect(page.get_by_role("status")).to_contain_text("Notifications are off for this device")
        with schema_context(personas.acme.schema_name):
            assert not PushSubscription.objects.filter(user_id=personas.bob.pk).exists()
    finally:
        service.stop()
        with schema_context(personas.acme.schema_name):
            PushSubscription.objects.all().delete()  # committed by the server
