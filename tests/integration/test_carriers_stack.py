"""The text-back on the really started stack, once per carrier from one parametrised suite: duplicate webhooks,
a sender killed while the carrier holds its answer, and STOP. Twilio's webhooks are signed with the auth token,
Telnyx's with the fake Telnyx's Ed25519 key; northwind (acme's agency) is switched to Telnyx for the second run."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from django_tenants.utils import schema_context

from accounts.models import Agency
from crm.models import Contact
from messaging.models import Message, OutboundSend
from tests.integration.calls import CALLER, post, send_row
from tests.stack import wait_until
from tests.webhooks import call_params, sms_params


class TwilioOnStack:
    name = "twilio"

    def __init__(self, live):
        self.live, self.fake = live, live.fake

    def voice(self, path: str, params: dict) -> int:
        return post(self.live, f"/hooks/twilio/{path}", params).status_code

    def stop(self, client) -> int:
        return post(self.live, "/hooks/twilio/sms/incoming/", sms_params(client, CALLER, "Stop")).status_code

    def texts(self) -> list[dict]:
        return [{"to": m["to"], "body": m["body"], "id": m["sid"]} for m in self.fake.messages]

    def wait(self, count: int) -> list[dict]:
        self.fake.wait_for_messages(count, timeout=20)
        return self.texts()

    def hang_next(self, seconds: float) -> None:
        self.fake.hang_next(seconds)


class TelnyxOnStack:
    name = "telnyx"

    def __init__(self, live, fake):
        self.live, self.fake = live, fake

    def _post(self, path: str, body: bytes, content_type: str) -> int:
        headers = {"Content-Type": content_type, **self.fake.sign(body)}
        return requests.post(
            f"{self.live.base_url}{path}", data=body, headers=headers, timeout=10
        ).status_code

    def voice(self, path: str, params: dict) -> int:
        return self._post(
            f"/hooks/telnyx/{path}", urlencode(params).encode(), "application/x-www-form-urlencoded"
        )

    def stop(self, client) -> int:
        payload = {
            "id": str(uuid.uuid4()),
            "from": {"phone_number": CALLER},
            "to": [{"phone_number": str(client.phone_number)}],
            "text": "Stop",
        }
        body = json.dumps({"data": {"event_type": "message.received", "payload": payload}}).encode()
        return self._post("/hooks/telnyx/sms/", body, "application/json")

    def texts(self) -> list[dict]:
        return [
            {"to": m["to"][0]["phone_number"], "body": m["text"], "id": m["id"]} for m in self.fake.messages
        ]

    def wait(self, count: int) -> list[dict]:
        self.fake.wait_for_messages(count, timeout=20)
        return self.texts()

    def hang_next(self, seconds: float) -> None:
        self.fake.hang_next(seconds)


@pytest.fixture(params=["twilio", "telnyx"])
def carrier(request, live, personas, _fake_telnyx_server):
    if request.param == "twilio":
        yield TwilioOnStack(live)
        return
    _fake_telnyx_server.reset()
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")  # committed: the stack sees it
    try:
        yield TelnyxOnStack(live, _fake_telnyx_server)
    finally:
        Agency.objects.filter(pk=personas.northwind.pk).update(carrier="")


def miss_a_call(carrier, client) -> dict:
    params = call_params(client, CALLER)
    assert carrier.voice("voice/incoming/", params) == 200
    assert carrier.voice("voice/dial-complete/", {**params, "DialCallStatus": "no-answer"}) == 200
    return params


def test_the_same_webhooks_ten_times_at_once_send_one_text(carrier, personas):
    params = call_params(personas.acme, CALLER)
    complete = {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        incoming = list(pool.map(lambda _: carrier.voice("voice/incoming/", params), range(10)))
        completes = list(pool.map(lambda _: carrier.voice("voice/dial-complete/", complete), range(10)))
    assert set(incoming + completes) == {200}
    [text] = carrier.wait(1)
    assert text["to"] == CALLER and "Acme Plumbing" in text["body"]
    time.sleep(3)  # sweeps come and go: still one
    assert len(carrier.texts()) == 1
    assert OutboundSend.objects.filter(call_sid=params["CallSid"], kind="textback").count() == 1


def test_a_sender_killed_while_the_carrier_holds_its_answer_still_sends_one_text(carrier, personas):
    carrier.hang_next(20)  # the carrier takes the text; its answer never comes back in time
    params = miss_a_call(carrier, personas.acme)
    carrier.wait(1)
    carrier.live.kill_sender()
    assert send_row(params["CallSid"]).state == "sending"
    carrier.live.start_sender()
    wait_until(
        lambda: send_row(params["CallSid"]).state == "sent", timeout=40, what="the send to be resolved"
    )
    [text] = carrier.texts()
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(call_sid=params["CallSid"]).provider_sid == text["id"]


def test_stop_is_confirmed_once_and_nothing_more_is_sent(carrier, personas):
    miss_a_call(carrier, personas.acme)
    carrier.wait(1)
    assert carrier.stop(personas.acme) == 200
    [_, confirmation] = carrier.wait(2)
    assert "unsubscribed" in confirmation["body"]
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).opted_out
    params = miss_a_call(carrier, personas.acme)
    wait_until(lambda: send_row(params["CallSid"]).state == "skipped", timeout=15, what="the skip")
    assert send_row(params["CallSid"]).reason == "opted_out"
    assert len(carrier.texts()) == 2
