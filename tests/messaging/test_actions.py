"""Keywords that act: a caller texting BOOK or SCHEDULE gets the booking page as a short link; URGENT or EMERGENCY
alerts the on-call person at once, whatever the hours (a text, and a call if the business wants). Per client, on
top of STOP/HELP/START, through the signed webhook, the send path and Twilio faked at HTTP; the thread shows which
rule fired."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client
from config.celery_app import app as celery_app
from inbox import tasks
from inbox.models import NotificationPreference
from messaging.models import Message, OutboundSend, TrackedLink
from messaging.services import send_deliver
from tests.webhooks import post_signed, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550166"
BOB_MOBILE = "+13125550177"
BOOKING = "https://book.example.com/acme"
SUNDAY_11PM = datetime(2026, 6, 14, 23, 0, tzinfo=ZoneInfo("America/Chicago"))  # acme is closed
LINK = re.compile(r"http://localhost:8000/l/([A-Za-z0-9]{10})")
HOST = "acme.localhost"


@pytest.fixture
def platform(web):
    return web("localhost")


@pytest.fixture
def eager_alerts(monkeypatch):
    """Alert tasks run at once, in this process; escalations are left queued (nothing here is about them)."""
    monkeypatch.setattr(tasks.escalate_reply, "apply_async", lambda *a, **kw: None)
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def _set(client: Client, **fields) -> Client:
    Client.objects.filter(pk=client.pk).update(**fields)
    client.refresh_from_db()
    return client


def _text(platform, client, body, caller=CALLER, **extra):
    params = sms_params(client, caller, body, **extra)
    response = post_signed(platform, "/hooks/twilio/sms/incoming/", params)
    assert response.status_code == 200
    return params


def _inbound(client, params) -> Message:
    with schema_context(client.schema_name):
        return Message.objects.get(provider_sid=params["MessageSid"])


def _deliver_all(client) -> None:
    for send in OutboundSend.objects.filter(client=client, state=OutboundSend.State.PENDING):
        send_deliver(send_id=send.pk)


def _bob_on_call(acme: Client) -> Client:
    with schema_context(acme.schema_name):
        NotificationPreference.objects.update_or_create(
            user_id=acme.oncall_user_id or 0,
            defaults={"text_to": BOB_MOBILE, "text_to_confirmed": BOB_MOBILE},
        )
    return acme


# --- BOOK / SCHEDULE ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["BOOK", "book", " Book! ", "Schedule.", "ＳＣＨＥＤＵＬＥ"])
def test_book_answers_with_a_short_link_to_the_booking_page(
    platform, personas, twilio, body, django_capture_on_commit_callbacks
):
    acme = _set(personas.acme, booking_url=BOOKING)
    with django_capture_on_commit_callbacks(execute=True):
        params = _text(platform, acme, body)
    _deliver_all(acme)
    [sent] = twilio.messages_to(CALLER)
    assert sent["from"] == str(acme.phone_number) and BOOKING not in sent["body"]
    code = LINK.search(sent["body"])[1]
    assert platform.get(f"/l/{code}")["Location"] == BOOKING
    link = TrackedLink.objects.get(code=code)
    with schema_context(acme.schema_name):
        reply = Message.objects.get(pk=link.message_id)
    assert (reply.kind, reply.provider_sid) == (Message.Kind.AUTO_REPLY, sent["sid"])
    inbound = _inbound(acme, params)
    assert (inbound.action, inbound.action_note) == ("book", "Sent the booking link.")


@pytest.mark.parametrize("body", ["Can I book for Tuesday?", "book me in", "bookings", "schedule please"])
def test_a_keyword_inside_a_sentence_is_an_ordinary_reply(platform, personas, twilio, body):
    acme = _set(personas.acme, booking_url=BOOKING)
    params = _text(platform, acme, body)
    _deliver_all(acme)
    assert twilio.messages_to(CALLER) == []
    assert _inbound(acme, params).action == ""


def test_a_client_that_switched_book_off_answers_nothing(platform, personas, twilio):
    acme = _set(personas.acme, booking_url=BOOKING, book_keywords=False)
    params = _text(platform, acme, "BOOK")
    _deliver_all(acme)
    assert twilio.messages_to(CALLER) == [] and _inbound(acme, params).action == ""


def test_without_a_booking_page_book_sends_nothing_and_the_thread_says_why(web, platform, personas, twilio):
    acme = _set(personas.acme, booking_url="")
    params = _text(platform, acme, "BOOK")
    _deliver_all(acme)
    assert twilio.messages_to(CALLER) == []
    inbound = _inbound(acme, params)
    assert inbound.action == "book"
    page = web(HOST, personas.alice).get(f"/inbox/{inbound.conversation_id}/").content.decode()
    assert "Rule fired: BOOK / SCHEDULE" in page and "No booking page is set" in page


def test_an_opted_out_caller_texting_book_gets_nothing(platform, personas, twilio):
    acme = _set(personas.acme, booking_url=BOOKING)
    _text(platform, acme, "STOP")
    _deliver_all(acme)  # the STOP confirmation
    params = _text(platform, acme, "BOOK")
    _deliver_all(acme)
    assert [m["body"] for m in twilio.messages_to(CALLER)] == [
        "Acme Plumbing: you're unsubscribed and will get no more texts from us. Reply START to resubscribe."
    ]
    assert "opted out" in _inbound(acme, params).action_note


def test_stop_is_never_shadowed_by_a_rule(platform, personas, twilio):
    acme = _set(personas.acme, booking_url=BOOKING)
    params = _text(platform, acme, "stop")
    assert _inbound(acme, params).action == ""


# --- URGENT / EMERGENCY ---------------------------------------------------------------------------------------


def test_urgent_after_hours_texts_and_rings_the_on_call_person_at_once(
    web, platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _bob_on_call(_set(personas.acme, oncall_user=personas.bob, oncall_call=True))
    with time_machine.travel(SUNDAY_11PM), django_capture_on_commit_callbacks(execute=True):
        params = _text(platform, acme, "Emergency!")
    [alert] = twilio.messages_to(BOB_MOBILE)
    assert alert["from"] == str(acme.phone_number)
    assert "URGENT" in alert["body"] and CALLER in alert["body"]
    [call] = twilio.calls
    assert (call["to"], call["from"]) == (BOB_MOBILE, str(acme.phone_number))
    assert "<Say>Urgent text for Acme Plumbing" in call["params"]["Twiml"]
    assert any(m.subject.startswith("URGENT:") and m.to == ["bob@acme.test"] for m in mailoutbox)
    inbound = _inbound(acme, params)
    assert inbound.action == "urgent"
    assert inbound.action_note == "Alerted the on-call person: Bob (emailed, texted, rang)."
    page = web(HOST, personas.alice).get(f"/inbox/{inbound.conversation_id}/").content.decode()
    assert "Rule fired: URGENT / EMERGENCY" in page and "texted, rang" in page


def test_urgent_rings_only_when_the_client_wants_a_call(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _bob_on_call(_set(personas.acme, oncall_user=personas.bob, oncall_call=False))
    with django_capture_on_commit_callbacks(execute=True):
        _text(platform, acme, "URGENT")
    assert len(twilio.messages_to(BOB_MOBILE)) == 1 and twilio.calls == []


def test_urgent_with_nobody_on_call_alerts_the_owners(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _set(personas.acme, oncall_user=None)
    with django_capture_on_commit_callbacks(execute=True):
        params = _text(platform, acme, "urgent")
    urgent = [m for m in mailoutbox if m.subject.startswith("URGENT:")]
    assert [m.to for m in urgent] == [["alice@acme.test"]]
    assert _inbound(acme, params).action_note.startswith("No on-call person set; alerted the owners: ")
    assert twilio.calls == []


def test_a_repeated_webhook_or_task_alerts_once(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _bob_on_call(_set(personas.acme, oncall_user=personas.bob, oncall_call=True))
    with django_capture_on_commit_callbacks(execute=True):
        params = _text(platform, acme, "URGENT")
        post_signed(platform, "/hooks/twilio/sms/incoming/", params)  # Twilio's retry
    tasks.notify_urgent(acme.pk, _inbound(acme, params).pk)
    assert len(twilio.messages_to(BOB_MOBILE)) == 1 and len(twilio.calls) == 1


def test_a_client_that_switched_urgent_off_alerts_nobody_specially(
    platform, personas, twilio, mailoutbox, eager_alerts, django_capture_on_commit_callbacks
):
    acme = _bob_on_call(_set(personas.acme, oncall_user=personas.bob, urgent_keywords=False))
    with django_capture_on_commit_callbacks(execute=True):
        params = _text(platform, acme, "URGENT")
    assert not any(m.subject.startswith("URGENT:") for m in mailoutbox)
    assert twilio.calls == [] and _inbound(acme, params).action == ""


def test_another_clients_people_never_see_the_thread(web, platform, personas, twilio):
    acme = _set(personas.acme, booking_url=BOOKING)
    inbound = _inbound(acme, _text(platform, acme, "BOOK"))
    for response in (
        # Sent to log in as one of acme's people; at bolt, no such thread.
        web(HOST, personas.dave).get(f"/inbox/{inbound.conversation_id}/"),
        web("bolt.localhost", personas.dave).get(f"/inbox/{inbound.conversation_id}/"),
    ):
        assert response.status_code in (302, 404)
        assert "Rule fired" not in response.content.decode()
