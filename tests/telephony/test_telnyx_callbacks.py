"""Outbound calls on Telnyx: a Telnyx agency's call back from the inbox and its URGENT call are placed through
Telnyx's TeXML Calls API (the fake, at HTTP), never through Twilio, and every leg calls back on Telnyx's door,
signed with Ed25519 as the fake signs it."""

import json
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs

import pytest
from django_tenants.utils import schema_context

from accounts.models import Agency, Client
from config.celery_app import app as celery_app
from inbox import tasks
from inbox.models import NotificationPreference
from messaging.models import Message
from telephony.models import Callback
from tests.inbox.conftest import add_conversation
from tests.webhooks import post_signed

pytestmark = pytest.mark.django_db

CALLER = "+13125550166"
ALICE_MOBILE = "+13125550198"
HOST = "acme.localhost"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def platform(web, personas, telnyx):
    """acme's agency (northwind, bolt's too) on Telnyx, rolled back after each test; cedar's stays on the
    platform's carrier."""
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    return web("localhost")


@pytest.fixture
def conversation(personas):
    return add_conversation(personas.acme, name="Jane Doe", number=CALLER)


def _mobile(client, user, number=ALICE_MOBILE):
    with schema_context(client.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=user.pk, defaults={"text_to": number, "text_to_confirmed": number}
        )


def _callbacks(client) -> list[Callback]:
    with schema_context(client.schema_name):
        return list(Callback.objects.all())


def _meta(headers: dict) -> dict:
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


def leg(platform, telnyx, call, url, **params):
    """Telnyx calling back `url` about this call's leg, signed."""
    path, body, headers = telnyx.leg(call, url, **params)
    return platform.generic("POST", path, body, content_type=FORM, **_meta(headers))


def test_call_back_on_telnyx_rings_my_phone_then_the_caller_from_the_business_number(
    web, platform, personas, telnyx, twilio, conversation
):
    _mobile(personas.acme, personas.alice)
    owner = web(HOST, personas.alice)
    assert "Ringing your phone" in owner.post(f"/inbox/{conversation.pk}/call/", follow=True).content.decode()
    assert twilio.calls == []  # not through Twilio
    [call] = telnyx.calls
    params = call["params"]
    assert (params["To"], params["From"]) == (ALICE_MOBILE, str(personas.acme.phone_number))
    assert params["Url"].startswith("http://localhost:8000/hooks/telnyx/voice/callback/connect/?c=acme&cb=")
    assert params["StatusCallback"].startswith("http://localhost:8000/hooks/telnyx/voice/callback/status/")
    [callback] = _callbacks(personas.acme)
    assert (callback.call_sid, callback.status) == (call["call_sid"], "ringing_staff")

    # Alice picks up: Telnyx asks what to do, and we dial the caller showing the business's number.
    connect = leg(platform, telnyx, call, params["Url"], CallStatus="in-progress")
    assert connect.status_code == 200
    dial = ET.fromstring(connect.content).find("Dial")
    assert dial.get("callerId") == str(personas.acme.phone_number) and dial.find("Number").text == CALLER
    assert dial.get("action").startswith("http://localhost:8000/hooks/telnyx/voice/callback/done/")
    done = leg(platform, telnyx, call, dial.get("action"), DialCallStatus="completed", DialCallDuration="95")
    assert ET.fromstring(done.content).find("Hangup") is not None
    assert leg(platform, telnyx, call, params["StatusCallback"], CallStatus="completed").status_code == 200

    [callback] = _callbacks(personas.acme)
    assert (callback.status, callback.duration_seconds) == ("talked", 95) and callback.ended_at
    assert "Called back by Alice · Talked · 95 s" in owner.get(f"/inbox/{conversation.pk}/").content.decode()


def test_my_phone_not_answering_a_telnyx_call_back_is_said(web, platform, personas, telnyx, conversation):
    _mobile(personas.acme, personas.alice)
    owner = web(HOST, personas.alice)
    owner.post(f"/inbox/{conversation.pk}/call/")
    [call] = telnyx.calls
    leg(platform, telnyx, call, call["params"]["StatusCallback"], CallStatus="no-answer")
    assert "Your phone did not answer" in owner.get(f"/inbox/{conversation.pk}/").content.decode()
    assert [c.status for c in _callbacks(personas.acme)] == ["staff_missed"]


def test_telnyx_refusing_the_call_is_said_and_recorded(web, platform, personas, telnyx, conversation):
    _mobile(personas.acme, personas.alice)
    telnyx.fail_next(503)
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/", follow=True)
    assert "Telnyx could not place the call" in response.content.decode()
    assert [c.status for c in _callbacks(personas.acme)] == ["failed"]


def test_without_a_texml_application_no_call_is_placed(
    web, platform, personas, telnyx, conversation, settings
):
    from messaging.carriers import telnyx_provider

    settings.TELNYX_TEXML_APP_ID = ""
    telnyx_provider.cache_clear()
    _mobile(personas.acme, personas.alice)
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/", follow=True)
    assert "Telnyx could not place the call" in response.content.decode()
    assert telnyx.calls == []
    telnyx_provider.cache_clear()


def test_another_clients_people_cannot_call_back_a_telnyx_clients_caller(
    web, platform, personas, telnyx, conversation
):
    _mobile(personas.acme, personas.alice)
    assert web("bolt.localhost", personas.dave).post(f"/inbox/{conversation.pk}/call/").status_code == 404
    assert web(HOST, personas.dave).post(f"/inbox/{conversation.pk}/call/").status_code == 302  # to log in
    assert telnyx.calls == [] and _callbacks(personas.acme) == []


def test_telnyx_call_back_legs_must_be_signed_and_name_a_call_back_of_that_client(
    web, platform, personas, telnyx, conversation
):
    _mobile(personas.acme, personas.alice)
    web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/")
    [call] = telnyx.calls
    url = call["params"]["Url"]
    path, body, _headers = telnyx.leg(call, url)
    assert platform.generic("POST", path, body, content_type=FORM).status_code == 403  # unsigned
    fields = {name: values[0] for name, values in parse_qs(body.decode()).items()}
    assert post_signed(platform, path, fields).status_code == 403  # Twilio's signature proves nothing here
    assert leg(platform, telnyx, call, url.replace("cb=", "cb=9")).status_code == 404
    # bolt is on Telnyx too, but its schema has no such call back; cedar's number Telnyx does not carry.
    assert leg(platform, telnyx, call, url.replace("c=acme", "c=bolt")).status_code == 404
    assert leg(platform, telnyx, call, url.replace("c=acme", "c=cedar")).status_code == 404
    assert [c.status for c in _callbacks(personas.acme)] == ["ringing_staff"]


# --- The URGENT call --------------------------------------------------------------------------------------------


@pytest.fixture
def eager_alerts(monkeypatch):
    """Alert tasks run at once, in this process; escalations are left queued."""
    monkeypatch.setattr(tasks.escalate_reply, "apply_async", lambda *a, **kw: None)
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_urgent_on_telnyx_texts_and_rings_the_on_call_person_through_telnyx(
    platform, personas, telnyx, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    Client.objects.filter(pk=personas.acme.pk).update(oncall_user=personas.bob, oncall_call=True)
    _mobile(personas.acme, personas.bob, number="+13125550177")
    payload = {
        "id": str(uuid.uuid4()),
        "from": {"phone_number": CALLER},
        "to": [{"phone_number": str(personas.acme.phone_number)}],
        "text": "URGENT",
    }
    body = json.dumps({"data": {"event_type": "message.received", "payload": payload}}).encode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = platform.post(
            "/hooks/telnyx/sms/", body, content_type="application/json", **_meta(telnyx.sign(body))
        )
    assert answer.status_code == 200
    [alert] = [m for m in telnyx.messages if m["to"][0]["phone_number"] == "+13125550177"]
    assert "URGENT" in alert["text"]
    # A text to staff has no delivery report of ours: Telnyx is sent no (empty) webhook_url for it.
    [sent] = [r for r in telnyx.requests if r["path"] == "/v2/messages"]
    assert "webhook_url" not in json.loads(sent["body"])
    [call] = telnyx.calls
    assert (call["to"], call["from"]) == ("+13125550177", str(personas.acme.phone_number))
    assert "<Say>Urgent text for Acme Plumbing" in call["params"]["Texml"]
    assert twilio.calls == [] and twilio.messages_to("+13125550177") == []
    with schema_context(personas.acme.schema_name):
        inbound = Message.objects.get(provider_sid=payload["id"])
    assert inbound.action_note == "Alerted the on-call person: Bob (emailed, texted, rang)."
