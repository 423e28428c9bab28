"""Calls are published once per event to whoever counts them (reports, billing, outbound webhooks), however
often Twilio repeats itself."""

import pytest

from telephony.models import Call
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"


@pytest.fixture
def platform(web):
    return web("localhost")


def _post_twice(platform, path, params):
    for _ in range(2):
        assert post_signed(platform, path, params).status_code == 200


def test_a_missed_call_is_announced_once_however_often_the_webhooks_repeat(platform, personas, heard):
    params = call_params(personas.acme, CALLER)
    _post_twice(platform, "/hooks/twilio/voice/incoming/", params)
    _post_twice(platform, "/hooks/twilio/voice/dial-complete/", {**params, "DialCallStatus": "no-answer"})
    _post_twice(
        platform, "/hooks/twilio/voice/status/", {**params, "CallStatus": "completed", "CallDuration": "31"}
    )

    assert [name for name, _ in heard] == ["call_received", "call_missed", "call_completed"]
    [received] = heard.named("call_received")
    assert received["client"] == personas.acme
    assert received["call"].call_sid == params["CallSid"]
    [missed] = heard.named("call_missed")
    assert missed["call"].missed_reason == Call.MissedReason.NO_ANSWER
    [completed] = heard.named("call_completed")
    assert completed["duration"] == 31
    assert completed["call"].outcome == Call.Outcome.MISSED


def test_an_answered_call_is_announced_as_answered_never_missed(platform, personas, heard):
    params = call_params(personas.acme, CALLER)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    post_signed(
        platform,
        f"/hooks/twilio/voice/screen-result/?c={personas.acme.slug}",
        {"CallSid": "CAchild", "ParentCallSid": params["CallSid"], "Digits": "1"},
    )
    _post_twice(
        platform,
        "/hooks/twilio/voice/dial-complete/",
        {**params, "DialCallStatus": "completed", "DialCallDuration": "40"},
    )

    assert [name for name, _ in heard] == ["call_received", "call_answered"]
    assert heard.named("call_answered")[0]["call"].duration_seconds == 40


def test_an_early_hang_up_is_announced_as_abandoned_and_completed(platform, personas, heard):
    params = call_params(personas.acme, CALLER)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    _post_twice(
        platform, "/hooks/twilio/voice/status/", {**params, "CallStatus": "completed", "CallDuration": "2"}
    )

    assert [name for name, _ in heard] == ["call_received", "call_abandoned", "call_completed"]
    assert heard.named("call_completed")[0]["duration"] == 2


def test_a_caller_who_hangs_up_while_it_rings_is_missed_through_the_status_callback(
    platform, personas, heard
):
    params = call_params(personas.acme, CALLER)
    post_signed(platform, "/hooks/twilio/voice/incoming/", params)
    post_signed(
        platform, "/hooks/twilio/voice/status/", {**params, "CallStatus": "completed", "CallDuration": "12"}
    )

    assert [name for name, _ in heard] == ["call_received", "call_missed", "call_completed"]
    assert heard.named("call_missed")[0]["call"].missed_reason == Call.MissedReason.HANGUP


def test_an_unsigned_webhook_announces_nothing(platform, personas, heard):
    params = call_params(personas.acme, CALLER)
    assert platform.post("/hooks/twilio/voice/incoming/", params).status_code == 403
    assert heard == []
