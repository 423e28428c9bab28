"""The text-back pipeline end to end, on the really started stack: signed webhooks into gunicorn, the ledger,
a Celery worker and beat, Twilio's REST API (faked at HTTP). What a business and its callers would notice:
one text per missed call, whatever the network, the broker or the worker does."""

import time
from concurrent.futures import ThreadPoolExecutor

from django_tenants.utils import schema_context

from accounts.models import Client
from crm.models import Contact
from messaging.models import Message, OutboundSend
from tests.integration.calls import CALLER, miss_a_call, post, send_row
from tests.stack import wait_until
from tests.webhooks import call_params, sms_params


def test_a_missed_call_gets_one_text_from_the_business_number(live, personas):
    fake = live.fake
    started = time.monotonic()
    params = miss_a_call(live, personas.acme)
    [text] = fake.wait_for_messages(1, timeout=15)
    elapsed = time.monotonic() - started
    assert text["to"] == CALLER
    assert text["from"] == "+13125550100"
    assert "Acme Plumbing" in text["body"] and text["body"].endswith("Reply STOP to opt out.")
    assert text["params"]["StatusCallback"] == f"{live.base_url}/hooks/twilio/sms/status/"
    assert elapsed < 10, f"took {elapsed:.1f}s"
    wait_until(lambda: send_row(params["CallSid"]).state == "sent", timeout=10, what="the ledger to say sent")
    time.sleep(2.5)  # two sweeps later, still one text
    assert len(fake.messages) == 1

    # Twilio reports delivery; the business sees it.
    assert fake.send_status_callback(text["sid"], "delivered", post_to=live.base_url) == 200
    with schema_context(personas.acme.schema_name):
        assert Message.objects.get(provider_sid=text["sid"]).status == "delivered"


def test_a_new_callers_line_type_is_learned_while_the_call_rings_not_after_it_is_missed(live, personas):
    """Forward mode: the business's phone rings for seconds before the call is missed. The sender asks Twilio
    for the caller's line type in that time, so the text-back, when it comes, does not wait for the lookup."""
    fake = live.fake
    fake.set_latency(0.3, operation="lookup")  # as slow as the real one
    try:
        params = call_params(personas.acme, CALLER)
        assert post(live, "/hooks/twilio/voice/incoming/", params).status_code == 200
        with schema_context(personas.acme.schema_name):
            wait_until(
                lambda: Contact.objects.filter(phone_number=CALLER, line_type="mobile").exists(),
                timeout=10,
                what="the line type, learned while it rings",
            )
        [lookup] = fake.lookups
        rang_until = time.time()
        dial_complete = {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
        assert post(live, "/hooks/twilio/voice/dial-complete/", dial_complete).status_code == 200
        [text] = fake.wait_for_messages(1, timeout=15)
    finally:
        fake.set_latency(0, operation="lookup")
    assert lookup["phone_number"] == CALLER and lookup["received_at"] < rang_until < text["received_at"]
    assert len(fake.lookups) == 1, "the text-back used what was learned while it rang"


def test_the_same_webhooks_ten_times_at_once_send_one_text(live, personas):
    params = call_params(personas.acme, CALLER)
    dial_complete = {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        incoming = list(pool.map(lambda _: post(live, "/hooks/twilio/voice/incoming/", params), range(10)))
        completes = list(
            pool.map(lambda _: post(live, "/hooks/twilio/voice/dial-complete/", dial_complete), range(10))
        )
    assert {r.status_code for r in incoming + completes} == {200}
    live.fake.wait_for_messages(1, timeout=15)
    time.sleep(3)
    assert len(live.fake.messages) == 1
    assert OutboundSend.objects.filter(call_sid=params["CallSid"], kind="textback").count() == 1


def test_a_text_waits_for_the_clients_delay(live, personas):
    Client.objects.filter(pk=personas.bolt.pk).update(text_delay_seconds=3)
    try:
        started = time.monotonic()
        miss_a_call(live, personas.bolt)
        time.sleep(1.5)
        assert live.fake.messages == []
        live.fake.wait_for_messages(1, timeout=15)
        assert time.monotonic() - started >= 3
    finally:
        Client.objects.filter(pk=personas.bolt.pk).update(text_delay_seconds=0)


def test_a_sender_killed_mid_send_still_sends_exactly_one_text(live, personas):
    fake = live.fake
    fake.hang_next(20)  # Twilio takes the message but the answer never comes back in time
    params = miss_a_call(live, personas.acme)
    fake.wait_for_messages(1, timeout=15)
    live.kill_sender()  # while it waits for Twilio's answer
    assert send_row(params["CallSid"]).state == "sending"
    live.start_sender()
    wait_until(
        lambda: send_row(params["CallSid"]).state == "sent",
        timeout=30,
        what="the sweep to reconcile the send",
    )
    assert len(fake.messages) == 1
    with schema_context(personas.acme.schema_name):
        message = Message.objects.get(call_sid=params["CallSid"])
        assert message.provider_sid == fake.messages[0]["sid"]


def test_a_call_during_a_broker_outage_is_texted_when_the_broker_returns(live, personas):
    live.stop_redis()
    try:
        params = miss_a_call(live, personas.acme)  # the webhooks still answer
        row = send_row(params["CallSid"])
        assert (row.state, row.dispatched_at) == ("pending", None)
        time.sleep(1)
        assert live.fake.messages == []
    finally:
        live.start_redis()
    live.fake.wait_for_messages(1, timeout=45)
    wait_until(lambda: send_row(params["CallSid"]).state == "sent", timeout=15, what="the ledger to say sent")
    assert len(live.fake.messages) == 1


def test_stop_is_confirmed_once_and_nothing_more_is_sent(live, personas):
    fake = live.fake
    miss_a_call(live, personas.acme)
    fake.wait_for_messages(1, timeout=15)
    response = post(live, "/hooks/twilio/sms/incoming/", sms_params(personas.acme, CALLER, "Stop"))
    assert response.status_code == 200
    [_, confirmation] = fake.wait_for_messages(2, timeout=15)
    assert "unsubscribed" in confirmation["body"]
    with schema_context(personas.acme.schema_name):
        assert Contact.objects.get(phone_number=CALLER).opted_out
    # They call again the next day: no text-back.
    params = miss_a_call(live, personas.acme)
    wait_until(lambda: send_row(params["CallSid"]).state == "skipped", timeout=15, what="the skip")
    assert send_row(params["CallSid"]).reason == "opted_out"
    assert len(fake.messages) == 2
