"""Telnyx's messaging webhook: signed with Ed25519 as Telnyx signs it (the fake's key pair); a caller's STOP opts
them out, a delivery report moves the message forward (a failed one says why, opts out a caller the carrier says
texted STOP, and counts in the texting-health figures), and anything unsigned, stale or for a number we do not
serve changes nothing."""

import json
import time
import uuid

import pytest
from django_tenants.utils import schema_context

from accounts.models import Agency
from crm.models import Contact
from deliverability.models import DeliverabilityDay
from deliverability.selectors import window
from messaging.models import ConsentEvent, Message
from tests.factories import ConversationFactory, MessageFactory
from tests.telnyx_fake import FakeTelnyx

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"
PATH = "/hooks/telnyx/sms/"


@pytest.fixture
def platform(web, personas, telnyx):
    """acme's agency on Telnyx (rolled back after each test): Telnyx carries acme's number."""
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    return web("localhost")


def event(event_type: str, payload: dict) -> bytes:
    return json.dumps(
        {
            "data": {
                "record_type": "event",
                "id": str(uuid.uuid4()),
                "event_type": event_type,
                "payload": payload,
            }
        }
    ).encode()


def received(client, text: str, caller=CALLER) -> bytes:
    return event(
        "message.received",
        {
            "id": str(uuid.uuid4()),
            "from": {"phone_number": caller},
            "to": [{"phone_number": str(client.phone_number), "status": "webhook_delivered"}],
            "text": text,
        },
    )


def post(platform, body: bytes, headers: dict):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return platform.post(PATH, body, content_type="application/json", **extra)


def test_a_signed_stop_opts_the_caller_out(platform, personas, telnyx):
    body = received(personas.acme, "STOP")
    assert post(platform, body, telnyx.sign(body)).status_code == 200
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).opted_out
        assert Message.objects.filter(direction="in", body="STOP").count() == 1
    # Telnyx delivers a webhook again when unsure: the same message is not recorded twice.
    assert post(platform, body, telnyx.sign(body)).status_code == 200
    with schema_context(personas.acme.schema_name):
        assert Message.objects.filter(direction="in", body="STOP").count() == 1


@pytest.mark.parametrize("forge", ["unsigned", "other key", "changed body", "stale"])
def test_unsigned_forged_or_stale_is_403_and_changes_nothing(platform, personas, telnyx, forge):
    body = received(personas.acme, "STOP")
    headers = telnyx.sign(body)
    if forge == "unsigned":
        headers = {}
    elif forge == "other key":
        with FakeTelnyx() as other:
            headers = other.sign(body)
    elif forge == "changed body":
        body = received(personas.acme, "STOP", caller="+13125550177")
    else:
        headers = telnyx.sign(body, timestamp=int(time.time()) - 301)
    assert post(platform, body, headers).status_code == 403
    with schema_context(personas.acme.schema_name):
        assert not Contact.objects.filter(opted_out=True).exists()
        assert not Message.objects.exists()


def test_a_delivery_report_moves_the_message_forward(platform, personas, telnyx):
    with schema_context(personas.acme.schema_name):
        message = MessageFactory(
            conversation=ConversationFactory(), status="sent", provider_sid=str(uuid.uuid4())
        )
    body = event(
        "message.finalized",
        {
            "id": message.provider_sid,
            "from": {"phone_number": str(personas.acme.phone_number)},
            "to": [{"phone_number": message.to_number, "status": "delivered"}],
            "parts": 1,
        },
    )
    assert post(platform, body, telnyx.sign(body)).status_code == 200
    with schema_context(personas.acme.schema_name):
        message.refresh_from_db()
        assert message.status == "delivered"


def test_a_number_we_do_not_serve_is_404_and_a_broken_body_400(platform, personas, telnyx):
    body = event(
        "message.received",
        {"id": "x", "from": {"phone_number": CALLER}, "to": [{"phone_number": "+19995550100"}], "text": "hi"},
    )
    assert post(platform, body, telnyx.sign(body)).status_code == 404
    broken = b'{"data": {}}'
    assert post(platform, broken, telnyx.sign(broken)).status_code == 400
    other = event("number_order.complete", {"id": "x"})
    assert post(platform, other, telnyx.sign(other)).status_code == 200


def test_telnyx_cannot_speak_for_a_number_twilio_carries(web, personas, telnyx):
    """bolt's agency is northwind (on Telnyx here), cedar's is southpeak, still on the platform's carrier."""
    body = received(personas.cedar, "STOP")
    assert post(web("localhost"), body, telnyx.sign(body)).status_code == 404
    with schema_context(personas.cedar.schema_name):
        assert not Contact.objects.filter(opted_out=True).exists()


def _sent_text(client, to=CALLER) -> Message:
    with schema_context(client.schema_name):
        return MessageFactory(
            conversation=ConversationFactory(contact__phone_number=to),
            direction="out",
            to_number=to,
            status="sent",
            provider_sid=str(uuid.uuid4()),
        )


def _failed(client, message, code: int, status="delivery_failed") -> bytes:
    return event(
        "message.finalized",
        {
            "id": message.provider_sid,
            "from": {"phone_number": str(client.phone_number)},
            "to": [{"phone_number": message.to_number, "status": status}],
            "errors": [{"code": str(code), "title": "Failed", "detail": ""}],
        },
    )


def test_a_failed_delivery_because_the_caller_texted_stop_at_the_carrier_opts_them_out(
    platform, personas, telnyx
):
    message = _sent_text(personas.acme)
    body = _failed(personas.acme, message, 40300)
    assert post(platform, body, telnyx.sign(body)).status_code == 200
    with schema_context(personas.acme.schema_name):
        message.refresh_from_db()
        assert (message.status, message.error_code) == ("undelivered", 40300)
        assert message.error_message == "The caller texted STOP to this number (40300)"
        assert Contact.objects.get(phone_number=CALLER).opted_out
        consent = ConsentEvent.objects.get()
        assert (consent.source, consent.keyword) == ("provider", "40300")
    # Telnyx sending it again opts nobody out twice.
    assert post(platform, body, telnyx.sign(body)).status_code == 200
    with schema_context(personas.acme.schema_name):
        assert ConsentEvent.objects.count() == 1


def test_a_landline_report_marks_the_caller_unreachable_not_opted_out(platform, personas, telnyx):
    message = _sent_text(personas.acme)
    body = _failed(personas.acme, message, 40001)
    post(platform, body, telnyx.sign(body))
    with schema_context(personas.acme.schema_name):
        contact = Contact.objects.get(phone_number=CALLER)
        assert (contact.unreachable, contact.line_type, contact.opted_out) == (True, "landline", False)


def test_telnyxs_spam_and_unregistered_failures_count_in_the_same_health_figures(platform, personas, telnyx):
    DeliverabilityDay.objects.filter(client=personas.acme).delete()  # the running stack's tests commit theirs
    spam = _sent_text(personas.acme, "+13125550131")
    blocked = _sent_text(personas.acme, "+13125550132")
    unregistered = _sent_text(personas.acme, "+13125550133")
    other = _sent_text(personas.acme, "+13125550134")
    for message, code in ((spam, 40002), (blocked, 40003), (unregistered, 40010), (other, 40008)):
        body = _failed(personas.acme, message, code)
        assert post(platform, body, telnyx.sign(body)).status_code == 200
    today = DeliverabilityDay.objects.get(client=personas.acme, date=window()[1])
    assert (today.filtered, today.unregistered, today.undelivered) == (2, 1, 1)
    with schema_context(personas.acme.schema_name):
        unregistered.refresh_from_db()
    assert unregistered.error_message == "Blocked: the number is not registered for A2P 10DLC texting (40010)"
