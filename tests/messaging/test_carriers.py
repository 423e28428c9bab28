"""The text-back end to end, for each carrier from one parametrised suite: a missed call through the carrier's
signed voice webhooks, the text through its API (faked at HTTP), the caller's STOP and HELP through its signed
messaging webhook, and the faults (the carrier down, an answer lost) that must neither lose a text nor send it
twice. Twilio and Telnyx differ only in the `Carrier` adapters below; the app's path above the provider
interface is the same."""

import json
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import Agency
from crm.models import Contact
from messaging.models import Message, OutboundSend
from messaging.services import send_deliver
from tests.webhooks import call_params, post_signed, sms_params

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"


class TwilioCarrier:
    name = "twilio"
    opted_out_code = 21610

    def __init__(self, fake, platform):
        self.fake, self.platform = fake, platform

    def voice(self, path: str, params: dict):
        return post_signed(self.platform, f"/hooks/twilio/{path}", params)

    def sms(self, client, caller: str, body: str):
        return post_signed(self.platform, "/hooks/twilio/sms/incoming/", sms_params(client, caller, body))

    def texts(self) -> list[tuple[str, str]]:
        return [(m["params"]["To"], m["params"]["Body"]) for m in self.fake.messages]

    def fail_next(self):
        self.fake.fail_next(503)

    def lose_next_answer(self):
        self.fake.hang_next(2.5)  # created at Twilio, answered after our 1 s timeout

    def reject(self, number: str, code: int):
        self.fake.reject(number, code)


class TelnyxCarrier:
    name = "telnyx"
    opted_out_code = 40300

    def __init__(self, fake, platform):
        self.fake, self.platform = fake, platform

    def _post(self, path: str, body: bytes, content_type: str):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in self.fake.sign(body).items()}
        return self.platform.generic("POST", path, body, content_type=content_type, **extra)

    def voice(self, path: str, params: dict):
        body = urlencode(params).encode()
        return self._post(f"/hooks/telnyx/{path}", body, "application/x-www-form-urlencoded")

    def sms(self, client, caller: str, body: str):
        event = {
            "data": {
                "event_type": "message.received",
                "payload": {
                    "id": str(uuid.uuid4()),
                    "from": {"phone_number": caller},
                    "to": [{"phone_number": str(client.phone_number)}],
                    "text": body,
                },
            }
        }
        return self._post("/hooks/telnyx/sms/", json.dumps(event).encode(), "application/json")

    def texts(self) -> list[tuple[str, str]]:
        return [(m["to"][0]["phone_number"], m["text"]) for m in self.fake.messages]

    def fail_next(self):
        self.fake.fail_next(503)

    def lose_next_answer(self):
        self.fake.drop_next()  # made at Telnyx, the connection closed before the answer

    def reject(self, number: str, code: int):
        self.fake.reject(number, code)


@pytest.fixture(params=["twilio", "telnyx"])
def carrier(request, twilio, telnyx, personas, web):
    """Each test once with acme's agency on Twilio and once on Telnyx."""
    platform = web("localhost")
    if request.param == "twilio":
        return TwilioCarrier(twilio, platform)
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")  # rolled back after the test
    return TelnyxCarrier(telnyx, platform)


def miss_call(carrier, client, caller=CALLER) -> OutboundSend:
    params = call_params(client, caller)
    assert carrier.voice("voice/incoming/", params).status_code == 200
    params = {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    assert carrier.voice("voice/dial-complete/", params).status_code == 200
    return OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")


def deliver_all(client) -> list[str]:
    due = OutboundSend.objects.filter(client=client, state__in=["pending", "sending"])
    return [send_deliver(send_id=pk) for pk in due.values_list("pk", flat=True)]


def make_due(send: OutboundSend) -> None:
    OutboundSend.objects.filter(pk=send.pk).update(due_at=now(), updated_at=now() - timedelta(seconds=61))


def test_a_missed_call_is_texted_back_once_however_often_it_is_said(carrier, personas):
    send = miss_call(carrier, personas.acme)
    # The carrier repeats its webhook (it was unsure we got it): still one call, one text owed.
    params = call_params(personas.acme, CALLER, CallSid=send.call_sid, DialCallStatus="no-answer")
    assert carrier.voice("voice/dial-complete/", params).status_code == 200
    assert send_deliver(send_id=send.pk) == "sent"
    assert send_deliver(send_id=send.pk) == "sent"  # the task delivered twice
    [(to, body)] = carrier.texts()
    assert to == CALLER and "Acme Plumbing" in body and body.endswith("Reply STOP to opt out.")
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(kind="textback")
        assert (message.status, message.from_number) == ("sent", "+13125550100")


def test_stop_opts_the_caller_out_and_help_is_answered(carrier, personas):
    miss_call(carrier, personas.acme)
    deliver_all(personas.acme)
    assert carrier.sms(personas.acme, CALLER, "HELP").status_code == 200
    assert carrier.sms(personas.acme, CALLER, "stop").status_code == 200
    deliver_all(personas.acme)
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).opted_out
        # The text-back, the HELP answer, the STOP confirmation: each handed to the carrier, in that order.
        sent = list(
            Message.objects.filter(direction="out").order_by("pk").values_list("kind", "body", "status")
        )
    assert [kind for kind, _, _ in sent] == ["textback", "keyword_reply", "keyword_reply"]
    assert {status for _, _, status in sent} == {"sent"}
    assert [body for _, body in carrier.texts()] == [body for _, body, _ in sent]
    # Their next missed call is not texted.
    later = miss_call(carrier, personas.acme)
    assert send_deliver(send_id=later.pk) == "skipped: opted_out"
    assert len(carrier.texts()) == 3


def test_a_carrier_that_is_down_is_retried_and_the_text_goes_once(carrier, personas):
    carrier.fail_next()
    send = miss_call(carrier, personas.acme)
    assert send_deliver(send_id=send.pk).startswith("retry")
    assert carrier.texts() == []
    make_due(send)
    assert send_deliver(send_id=send.pk) == "sent"
    assert len(carrier.texts()) == 1


def test_a_lost_answer_is_resolved_without_a_second_text(carrier, personas):
    carrier.lose_next_answer()
    send = miss_call(carrier, personas.acme)
    assert send_deliver(send_id=send.pk) == "retrying"  # outcome unknown: the text may exist
    make_due(send)
    # Twilio's is found in its list of sent texts; Telnyx answers the same Idempotency-Key with the same text.
    assert send_deliver(send_id=send.pk) in ("sent (reconciled)", "sent")
    assert len(carrier.texts()) == 1
    with schema_context(personas.acme.schema_name):
        assert Message.objects.filter(kind="textback").count() == 1


def test_the_carriers_opt_out_refusal_opts_the_caller_out(carrier, personas):
    carrier.reject(CALLER, carrier.opted_out_code)
    send = miss_call(carrier, personas.acme)
    assert send_deliver(send_id=send.pk) == "failed: opted_out"
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).opted_out
    assert carrier.texts() == []


def test_a_forged_webhook_changes_nothing(carrier, personas):
    params = call_params(personas.acme, CALLER)
    response = carrier.platform.post(f"/hooks/{carrier.name}/voice/incoming/", params)  # unsigned
    assert response.status_code == 403
    assert not OutboundSend.objects.filter(client=personas.acme).exists()
