"""Call back from the inbox: the button rings the staff member's own mobile from the business's number (Twilio's
Calls API, on the fake), then connects them to the caller with the business's number as caller ID; the thread
shows who called back, how it went and for how long. Webhooks signed as Twilio signs them."""

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from inbox.models import NotificationPreference
from telephony.models import Callback
from tests.inbox.conftest import add_conversation
from tests.webhooks import post_signed, sid

pytestmark = pytest.mark.django_db

CALLER = "+13125550166"
ALICE_MOBILE = "+13125550198"
HOST = "acme.localhost"


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture
def conversation(personas):
    return add_conversation(personas.acme, name="Jane Doe", number=CALLER)


def _mobile(client, user, number=ALICE_MOBILE, confirmed=True):
    with schema_context(client.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=user.pk, defaults={"text_to": number, "text_to_confirmed": number if confirmed else ""}
        )


def _callbacks(client) -> list[Callback]:
    with schema_context(client.schema_name):
        return list(Callback.objects.all())


def _leg_params(call, **extra) -> dict:
    return {
        "AccountSid": settings.TWILIO_ACCOUNT_SID,
        "CallSid": call["sid"],
        "From": call["from"],
        "To": call["to"],
        "Direction": "outbound-api",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_call_back_rings_my_phone_then_the_caller_from_the_business_number(
    web, platform, personas, twilio, conversation
):
    _mobile(personas.acme, personas.alice)
    owner = web(HOST, personas.alice)
    response = owner.post(f"/inbox/{conversation.pk}/call/", follow=True)
    assert "Ringing your phone" in response.content.decode()
    [call] = twilio.calls
    assert (call["to"], call["from"]) == (ALICE_MOBILE, str(personas.acme.phone_number))
    assert parse_qs(urlsplit(call["params"]["Url"]).query)["c"] == ["acme"]
    [callback] = _callbacks(personas.acme)
    assert (callback.call_sid, callback.status, callback.placed_by_id) == (
        call["sid"],
        "ringing_staff",
        personas.alice.pk,
    )

    # Alice picks up: Twilio asks what to do, and we dial the caller showing the business's number.
    connect = post_signed(platform, _path(call["params"]["Url"]), _leg_params(call, CallStatus="in-progress"))
    dial = ET.fromstring(connect.content).find("Dial")
    assert dial.get("callerId") == str(personas.acme.phone_number) and dial.find("Number").text == CALLER
    done = post_signed(
        platform,
        _path(dial.get("action")),
        _leg_params(call, DialCallStatus="completed", DialCallDuration="95", DialCallSid=sid("CA")),
    )
    assert ET.fromstring(done.content).find("Hangup") is not None
    post_signed(platform, _path(call["params"]["StatusCallback"]), _leg_params(call, CallStatus="completed"))

    [callback] = _callbacks(personas.acme)
    assert (callback.status, callback.duration_seconds) == ("talked", 95) and callback.ended_at
    page = owner.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Called back by Alice · Talked · 95 s" in page


@pytest.mark.parametrize(
    ("leg_status", "dial_status", "shown"),
    [
        ("in-progress", "no-answer", "The caller did not answer"),
        ("in-progress", "busy", "The caller&#x27;s line was busy"),
        ("no-answer", None, "Your phone did not answer"),
    ],
)
def test_the_thread_says_how_a_call_back_went(
    web, platform, personas, twilio, conversation, leg_status, dial_status, shown
):
    _mobile(personas.acme, personas.alice)
    owner = web(HOST, personas.alice)
    owner.post(f"/inbox/{conversation.pk}/call/")
    [call] = twilio.calls
    if dial_status:
        connect = post_signed(
            platform, _path(call["params"]["Url"]), _leg_params(call, CallStatus=leg_status)
        )
        action = ET.fromstring(connect.content).find("Dial").get("action")
        post_signed(platform, _path(action), _leg_params(call, DialCallStatus=dial_status))
    post_signed(platform, _path(call["params"]["StatusCallback"]), _leg_params(call, CallStatus=leg_status))
    assert shown in owner.get(f"/inbox/{conversation.pk}/").content.decode()
    assert _callbacks(personas.acme)[0].duration_seconds is None


def test_without_a_confirmed_mobile_nothing_is_rung_and_i_am_told_why(web, personas, twilio, conversation):
    _mobile(personas.acme, personas.alice, confirmed=False)
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/", follow=True)
    assert "Confirm your mobile number in Inbox → Notifications first" in response.content.decode()
    assert twilio.calls == [] and _callbacks(personas.acme) == []


def test_twilio_refusing_the_call_is_said_and_recorded(web, personas, twilio, conversation):
    _mobile(personas.acme, personas.alice)
    twilio.fail_next(500, operation="call")
    response = web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/", follow=True)
    assert "Twilio could not place the call" in response.content.decode()
    assert [c.status for c in _callbacks(personas.acme)] == ["failed"]


def test_another_clients_people_cannot_call_back_this_caller(web, personas, twilio, conversation):
    _mobile(personas.acme, personas.alice)
    assert web("bolt.localhost", personas.dave).post(f"/inbox/{conversation.pk}/call/").status_code == 404
    assert web(HOST, personas.dave).post(f"/inbox/{conversation.pk}/call/").status_code == 302  # to log in
    assert twilio.calls == [] and _callbacks(personas.acme) == []


def test_call_back_webhooks_must_be_signed_and_name_a_call_back(
    platform, personas, twilio, conversation, web
):
    _mobile(personas.acme, personas.alice)
    web(HOST, personas.alice).post(f"/inbox/{conversation.pk}/call/")
    [call] = twilio.calls
    url = _path(call["params"]["Url"])
    assert platform.post(url, _leg_params(call)).status_code == 403
    assert post_signed(platform, url.replace("cb=", "cb=9"), _leg_params(call)).status_code == 404
    # Named at another client: its schema has no such call back.
    assert post_signed(platform, url.replace("c=acme", "c=bolt"), _leg_params(call)).status_code == 404
