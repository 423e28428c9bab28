"""Staff on their phones: the inbox installs as an app, and each person gets web push notifications on each
device where they turned them on (missed call, reply, reply waiting too long); tapping one opens the thread.

The push services are faked at their HTTP boundary (tests/push_fake.py): a push is accepted only with a valid
VAPID signature, and each test decrypts what the phone would show with the device's own keys."""

import io

import pytest
from django_tenants.utils import schema_context
from PIL import Image

from inbox import notifications, push, tasks
from inbox.models import NotificationPreference, PushSubscription
from messaging.services import inbound_receive
from tests.push_fake import FakePushService
from tests.webhooks import call_params, post_signed, sid

pytestmark = pytest.mark.django_db

HOST = "acme.localhost"
CALLER = "+13125550166"
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"


@pytest.fixture(scope="session")
def _push_server():
    service = FakePushService().start()
    yield service
    service.stop()


@pytest.fixture
def pushes(_push_server):
    _push_server.reset()
    return _push_server


def _subscribe(client, user, device, agent=PHONE) -> PushSubscription:
    with schema_context(client.schema_name):
        return push.subscription_save(user_id=user.pk, data=device.subscription(), user_agent=agent)


def _choose(client, user, **choices):
    with schema_context(client.schema_name):
        NotificationPreference.objects.update_or_create(user_id=user.pk, defaults=choices)


def _reply(client, body="Water everywhere, can you come now?", caller=CALLER):
    with schema_context(client.schema_name):
        return inbound_receive(client=client, sid=sid("SM"), from_number=caller, body=body)


def _post_json(http, url, data, **headers):
    import json

    return http.post(url, data=json.dumps(data), content_type="application/json", **headers)


# --- Alerts reach the devices ------------------------------------------------------------------------------


def test_a_missed_call_pushes_to_every_device_of_each_person_who_wants_it_and_tapping_opens_the_thread(
    web, personas, pushes, mailoutbox, eager_tasks, twilio, django_capture_on_commit_callbacks
):
    alice_phone, alice_laptop, bob_phone = pushes.device(), pushes.device(), pushes.device()
    _subscribe(personas.acme, personas.alice, alice_phone)
    _subscribe(
        personas.acme,
        personas.alice,
        alice_laptop,
        agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Firefox/133.0",
    )
    _subscribe(personas.acme, personas.bob, bob_phone)
    _choose(personas.acme, personas.bob, missed_call_push=False)

    params = call_params(personas.acme, CALLER, CallerName="JANE DOE")
    platform = web("localhost")
    with django_capture_on_commit_callbacks(execute=True):
        post_signed(platform, "/hooks/twilio/voice/incoming/", params)
        post_signed(platform, "/hooks/twilio/voice/dial-complete/", {**params, "DialCallStatus": "no-answer"})

    assert pushes.refusals == []
    assert pushes.delivered_to(bob_phone) == []  # he turned missed-call pushes off; his email still goes
    assert "bob@acme.test" in [a for m in mailoutbox for a in m.to]
    with schema_context(personas.acme.schema_name):
        from messaging.models import Conversation

        thread = Conversation.objects.get(contact__phone_number=CALLER)
    for device in (alice_phone, alice_laptop):
        [delivery] = pushes.delivered_to(device)
        shown = delivery.open(device)
        assert shown["title"] == "Missed call from JANE DOE at Acme Plumbing"
        assert "We texted them back" in shown["body"]
        assert shown["path"] == f"/inbox/{thread.pk}/"
        assert delivery.vapid_key == push.public_key()  # signed by us, as the browser subscribed with
        assert delivery.headers["Urgency"] == "high" and int(delivery.headers["TTL"]) > 0


def test_a_reply_pushes_its_words_and_the_thread_to_open(personas, pushes):
    phone = pushes.device()
    _subscribe(personas.acme, personas.bob, phone)
    message = _reply(personas.acme)
    assert tasks.notify_reply(personas.acme.pk, message.pk) == 2
    shown = pushes.delivered_to(phone)[0].open(phone)
    assert shown["body"] == "Water everywhere, can you come now?"
    assert shown["path"] == f"/inbox/{message.conversation_id}/"
    # A task run twice pushes once.
    assert tasks.notify_reply(personas.acme.pk, message.pk) == 0
    assert len(pushes.delivered_to(phone)) == 1


def test_escalations_are_pushed_to_owners_by_default_and_to_staff_only_if_they_choose(personas, pushes):
    alice_phone, bob_phone = pushes.device(), pushes.device()
    _subscribe(personas.acme, personas.alice, alice_phone)
    _subscribe(personas.acme, personas.bob, bob_phone)
    _choose(personas.acme, personas.bob, escalation_email=False)  # and escalation_push stays off
    message = _reply(personas.acme)
    with schema_context(personas.acme.schema_name):
        assert notifications.escalate_reply(client=personas.acme, message=message) == 1
    assert len(pushes.delivered_to(alice_phone)) == 1
    assert "Waiting" in pushes.delivered_to(alice_phone)[0].open(alice_phone)["body"]
    assert pushes.delivered_to(bob_phone) == []


def test_a_device_the_push_service_says_is_gone_is_forgotten_and_the_email_still_goes(
    personas, pushes, mailoutbox
):
    gone, kept = pushes.device(), pushes.device()
    _subscribe(personas.acme, personas.alice, gone)
    _subscribe(personas.acme, personas.alice, kept)
    pushes.answer(gone, 410)
    tasks.notify_reply(personas.acme.pk, _reply(personas.acme).pk)
    with schema_context(personas.acme.schema_name):
        assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]
    assert len(pushes.delivered_to(kept)) == 1
    assert "alice@acme.test" in [a for m in mailoutbox for a in m.to]


def test_a_push_service_failing_costs_nothing_but_that_push(personas, pushes, mailoutbox):
    broken = pushes.device()
    _subscribe(personas.acme, personas.alice, broken)
    pushes.answer(broken, 500)
    assert tasks.notify_reply(personas.acme.pk, _reply(personas.acme).pk) == 2
    with schema_context(personas.acme.schema_name):
        assert PushSubscription.objects.filter(endpoint=broken.endpoint).exists()  # a 500 is not "gone"
    assert len(mailoutbox) == 2


def test_a_device_subscribed_at_one_client_never_gets_another_clients_alerts(web, personas, pushes, settings):
    # dave owns bolt; a device he turned on at acme (were he also acme's) lives in acme's schema only.
    phone = pushes.device()
    _subscribe(personas.acme, personas.alice, phone)
    with schema_context(personas.bolt.schema_name):
        assert not PushSubscription.objects.exists()
        message = inbound_receive(client=personas.bolt, sid=sid("SM"), from_number=CALLER, body="Hello?")
    tasks.notify_reply(personas.bolt.pk, message.pk)
    assert pushes.delivered_to(phone) == []


# --- Turning it on and off from the browser ----------------------------------------------------------------


def test_a_person_turns_notifications_on_for_a_device_and_off_again(web, personas, pushes):
    device = pushes.device()
    http = web(HOST, personas.bob)
    answer = _post_json(http, "/inbox/notifications/devices/", device.subscription(), HTTP_USER_AGENT=PHONE)
    assert answer.status_code == 201
    assert answer.json()["device"] == "Chrome on Android"
    # The same browser again (keys refreshed) is the same device, not a second one.
    again = _post_json(http, "/inbox/notifications/devices/", device.subscription(), HTTP_USER_AGENT=PHONE)
    assert again.status_code == 201
    with schema_context(personas.acme.schema_name):
        assert PushSubscription.objects.filter(user_id=personas.bob.pk).count() == 1
    page = http.get("/inbox/notifications/").content.decode()
    assert "Chrome on Android" in page and "Turn on notifications on this device" in page

    assert _post_json(http, "/inbox/notifications/devices/", {"forget": device.endpoint}).status_code == 204
    with schema_context(personas.acme.schema_name):
        assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: {**s, "endpoint": "https://169.254.169.254/latest/meta-data"}, "push service we send to"),
        (lambda s: {**s, "endpoint": "https://evil.example/collect"}, "push service we send to"),
        (lambda s: {**s, "keys": {"p256dh": "bm90LWEta2V5", "auth": s["keys"]["auth"]}}, "push keys"),
        (lambda s: {**s, "keys": {"p256dh": s["keys"]["p256dh"], "auth": "c2hvcnQ"}}, "push keys"),
        (lambda s: {**s, "keys": None}, "no keys"),
        (lambda s: ["not", "a", "subscription"], "as JSON"),
    ],
)
def test_a_subscription_that_is_not_a_browsers_is_refused_with_its_reason(
    web, personas, pushes, change, reason
):
    http = web(HOST, personas.bob)
    answer = _post_json(http, "/inbox/notifications/devices/", change(pushes.device().subscription()))
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    with schema_context(personas.acme.schema_name):
        assert not PushSubscription.objects.exists()


def test_a_body_that_is_not_json_is_a_400(web, personas):
    answer = web(HOST, personas.bob).post(
        "/inbox/notifications/devices/", "{oops", content_type="application/json"
    )
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]


def test_agency_staff_get_no_pushes_and_strangers_must_log_in(web, personas, pushes):
    subscription = pushes.device().subscription()
    answer = _post_json(web(HOST, personas.nate), "/inbox/notifications/devices/", subscription)
    assert answer.status_code == 403 and "business's own people" in answer.json()["error"]
    assert _post_json(web(HOST), "/inbox/notifications/devices/", subscription).status_code == 302
    # Another client's owner is not let in on acme's host at all.
    assert _post_json(
        web(HOST, personas.dave), "/inbox/notifications/devices/", subscription
    ).status_code in (
        302,
        403,
        404,
    )
    with schema_context(personas.acme.schema_name):
        assert not PushSubscription.objects.exists()


def test_read_only_staff_may_turn_on_their_own_notifications(web, personas, reader, pushes):
    answer = _post_json(web(HOST, reader), "/inbox/notifications/devices/", pushes.device().subscription())
    assert answer.status_code == 201


def test_a_person_removes_only_their_own_devices(web, personas, pushes):
    alices = _subscribe(personas.acme, personas.alice, pushes.device())
    bobs = _subscribe(personas.acme, personas.bob, pushes.device())
    http = web(HOST, personas.bob)
    assert http.post(f"/inbox/notifications/devices/{alices.pk}/delete/").status_code == 404
    assert "Alice" not in http.get("/inbox/notifications/").content.decode()
    assert http.post(f"/inbox/notifications/devices/{bobs.pk}/delete/").status_code == 302
    with schema_context(personas.acme.schema_name):
        assert list(PushSubscription.objects.values_list("pk", flat=True)) == [alices.pk]


def test_without_a_vapid_key_the_page_offers_no_devices_and_the_endpoint_says_why(
    web, personas, pushes, settings
):
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = ""
    http = web(HOST, personas.bob)
    assert "Turn on notifications" not in http.get("/inbox/notifications/").content.decode()
    answer = _post_json(http, "/inbox/notifications/devices/", pushes.device().subscription())
    assert answer.status_code == 409 and "not set up" in answer.json()["error"]


def test_the_push_choices_are_saved_with_the_rest(web, personas):
    http = web(HOST, personas.bob)
    answer = http.post(
        "/inbox/notifications/",
        {"missed_call_email": "on", "reply_email": "on", "reply_push": "on", "escalation_push": "on"},
    )
    assert answer.status_code == 302
    with schema_context(personas.acme.schema_name):
        saved = NotificationPreference.objects.get(user_id=personas.bob.pk)
    assert (saved.missed_call_push, saved.reply_push, saved.escalation_push) == (False, True, True)


# --- The app itself ------------------------------------------------------------------------------------------


def test_the_inbox_installs_as_an_app_in_the_agencys_brand(web, personas):
    http = web(HOST)
    manifest = http.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["name"] == "Acme Plumbing · Northwind Marketing"
    assert (data["start_url"], data["scope"], data["display"]) == ("/inbox/", "/", "standalone")
    assert data["theme_color"] == personas.northwind.brand_color
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in data["icons"]:
        image = Image.open(io.BytesIO(http.get(icon["src"]).content))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
    page = web(HOST, personas.bob).get("/inbox/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page


def test_the_service_worker_is_served_from_the_root_of_a_client_host_only(web, personas):
    worker = web(HOST).get("/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    assert "showNotification" in worker.content.decode()
    assert web("localhost").get("/sw.js").status_code == 404
    assert web("localhost").get("/manifest.webmanifest").status_code == 404
    assert web(HOST).get("/brand/app-icon-64.png").status_code == 404
