"""Telnyx voice through TeXML: the same views and missed-call rules as Twilio's (ring with screening, press 1 to
take it, dial-complete, the status callback's hang-up backstop, carrier-forwarding mode), behind Telnyx's Ed25519
signature, with every callback URL on Telnyx's door."""

import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django_tenants.utils import schema_context

from accounts.models import Agency, Client
from messaging.models import OutboundSend
from telephony.models import Call
from tests.webhooks import call_params, post_signed

pytestmark = pytest.mark.django_db

CALLER = "+13125550123"


@pytest.fixture
def platform(web, personas, telnyx):
    """acme's agency on Telnyx (rolled back after each test): Telnyx carries acme's number."""
    Agency.objects.filter(pk=personas.northwind.pk).update(carrier="telnyx")
    return web("localhost")


def post(platform, telnyx, path, params, *, timestamp=None, sign=True):
    body = urlencode(params).encode()
    headers = telnyx.sign(body, timestamp=timestamp) if sign else {}
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return platform.generic(
        "POST", f"/hooks/telnyx/{path}", body, content_type="application/x-www-form-urlencoded", **extra
    )


def test_a_texml_call_nobody_answers_is_missed_and_owed_a_text(platform, personas, telnyx):
    params = call_params(personas.acme, CALLER, CallSid="v3:telnyx-call-1")
    answer = post(platform, telnyx, "voice/incoming/", params)
    assert answer.status_code == 200
    texml = answer.content.decode()
    assert 'action="http://localhost:8000/hooks/telnyx/voice/dial-complete/"' in texml
    assert "http://localhost:8000/hooks/telnyx/voice/screen/?c=acme" in texml
    answer = post(
        platform,
        telnyx,
        "voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
    )
    assert answer.status_code == 200
    with schema_context(personas.acme.schema_name):
        call = Call.objects.get(call_sid="v3:telnyx-call-1")
        assert (call.outcome, call.missed_reason) == ("missed", "no-answer")
    assert OutboundSend.objects.filter(client=personas.acme, call_sid="v3:telnyx-call-1").count() == 1


@pytest.mark.parametrize("forge", ["unsigned", "stale", "twilio's signature"])
def test_an_unsigned_or_stale_texml_webhook_is_403_and_records_nothing(platform, personas, telnyx, forge):
    params = call_params(personas.acme, CALLER, CallSid="v3:telnyx-call-2")
    if forge == "unsigned":
        answer = post(platform, telnyx, "voice/incoming/", params, sign=False)
    elif forge == "stale":
        answer = post(platform, telnyx, "voice/incoming/", params, timestamp=int(time.time()) - 301)
    else:  # a Twilio-signed request sent to Telnyx's door proves nothing there
        answer = post_signed(platform, "/hooks/telnyx/voice/incoming/", params)
    assert answer.status_code == 403
    with schema_context(personas.acme.schema_name):
        assert not Call.objects.exists()


def test_twilios_door_still_takes_twilios_signature_only(platform, personas, telnyx):
    params = call_params(personas.acme, CALLER)
    body = urlencode(params).encode()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in telnyx.sign(body).items()}
    answer = platform.generic(
        "POST",
        "/hooks/twilio/voice/incoming/",
        body,
        content_type="application/x-www-form-urlencoded",
        **extra,
    )
    assert answer.status_code == 403


def test_telnyx_cannot_ring_a_number_it_does_not_carry_for_us(platform, personas, telnyx):
    """cedar's agency (southpeak) is not on Telnyx: a Telnyx-signed call to its number is not ours."""
    params = call_params(personas.cedar, CALLER, CallSid="v3:telnyx-call-3")
    assert post(platform, telnyx, "voice/incoming/", params).status_code == 404
    with schema_context(personas.cedar.schema_name):
        assert not Call.objects.exists()


# --- Screening, the answered call, carrier mode and the hang-up backstop on Telnyx ------------------------------


def _call(personas, sid) -> Call:
    with schema_context(personas.acme.schema_name):
        return Call.objects.get(call_sid=sid)


def _sends(personas):
    return OutboundSend.objects.filter(client=personas.acme)


def _incoming(platform, telnyx, personas, sid):
    params = call_params(personas.acme, CALLER, CallSid=sid)
    assert post(platform, telnyx, "voice/incoming/", params).status_code == 200
    return params


def _press(platform, telnyx, params, digits):
    leg = {"CallSid": "v3:business-leg", "ParentCallSid": params["CallSid"], "Digits": digits}
    return post(platform, telnyx, "voice/screen-result/?c=acme", leg)


def test_the_business_is_asked_to_press_1_and_answers_on_telnyxs_door(platform, personas, telnyx):
    answer = post(platform, telnyx, "voice/screen/?c=acme", {"CallSid": "v3:business-leg"})
    assert answer.status_code == 200
    root = ET.fromstring(answer.content)
    gather = root.find("Gather")
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == "http://localhost:8000/hooks/telnyx/voice/screen-result/?c=acme"
    assert "Press 1" in gather.find("Say").text and root.find("Hangup") is not None
    # cedar's calls are not Telnyx's to screen.
    assert post(platform, telnyx, "voice/screen/?c=cedar", {"CallSid": "v3:x"}).status_code == 404


def test_a_call_the_business_takes_with_1_is_answered_and_not_texted(platform, personas, telnyx):
    params = _incoming(platform, telnyx, personas, "v3:telnyx-answered")
    pressed = _press(platform, telnyx, params, "1")
    assert ET.fromstring(pressed.content).find("Hangup") is None  # an empty answer connects the two legs
    assert _call(personas, params["CallSid"]).accepted_at is not None
    done = post(
        platform,
        telnyx,
        "voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallDuration": "95"},
    )
    assert ET.fromstring(done.content).find("Hangup") is not None
    call = _call(personas, params["CallSid"])
    assert (call.outcome, call.duration_seconds) == ("answered", 95)
    # Telnyx's status callback afterwards does not undo it.
    post(platform, telnyx, "voice/status/", {**params, "CallStatus": "completed", "CallDuration": "99"})
    assert _call(personas, params["CallSid"]).outcome == "answered"
    assert not _sends(personas).exists()


def test_a_voicemail_that_picks_up_cannot_press_1_so_the_call_is_missed(platform, personas, telnyx):
    params = _incoming(platform, telnyx, personas, "v3:telnyx-voicemail")
    assert ET.fromstring(_press(platform, telnyx, params, "7").content).find("Hangup") is not None
    post(
        platform,
        telnyx,
        "voice/dial-complete/",
        {**params, "CallStatus": "in-progress", "DialCallStatus": "completed", "DialCallDuration": "31"},
    )
    call = _call(personas, params["CallSid"])
    assert (call.accepted_at, call.outcome, call.missed_reason) == (None, "missed", "voicemail")
    assert _sends(personas).count() == 1


def test_carrier_forwarded_calls_on_telnyx_are_missed_on_arrival(platform, personas, telnyx):
    Client.objects.filter(pk=personas.acme.pk).update(call_mode=Client.CallMode.CARRIER)
    params = call_params(personas.acme, CALLER, CallSid="v3:telnyx-forwarded")
    answer = post(platform, telnyx, "voice/incoming/", params)
    root = ET.fromstring(answer.content)
    assert root.find("Dial") is None and "Acme Plumbing" in root.find("Say").text
    call = _call(personas, params["CallSid"])
    assert (call.outcome, call.missed_reason) == ("missed", "carrier")
    assert [s.key for s in _sends(personas)] == ["call:v3:telnyx-forwarded"]


@pytest.mark.parametrize(("seconds", "outcome", "texted"), [(12, "missed", 1), (3, "abandoned", 0)])
def test_the_status_callback_catches_a_caller_who_hung_up_while_it_rang(
    platform, personas, telnyx, seconds, outcome, texted
):
    """No dial-complete comes when the caller hangs up first: the TeXML application's status callback decides
    (acme's minimum ring time is 5 s)."""
    params = _incoming(platform, telnyx, personas, f"v3:telnyx-hangup-{seconds}")
    status = {**params, "CallStatus": "completed", "CallDuration": str(seconds)}
    assert post(platform, telnyx, "voice/status/", status).status_code == 200
    assert _call(personas, params["CallSid"]).outcome == outcome
    assert _sends(personas).count() == texted
    # Telnyx delivering it again owes nothing more.
    post(platform, telnyx, "voice/status/", status)
    assert _sends(personas).count() == texted


def test_a_bad_duration_from_telnyx_is_400_naming_it(platform, personas, telnyx):
    params = _incoming(platform, telnyx, personas, "v3:telnyx-bad")
    answer = post(
        platform, telnyx, "voice/status/", {**params, "CallStatus": "completed", "CallDuration": "x"}
    )
    assert answer.status_code == 400 and "CallDuration" in answer.content.decode()
    answer = post(platform, telnyx, "voice/status/", {"CallSid": "v3:telnyx-bad", "To": params["To"]})
    assert answer.status_code == 400 and "CallStatus" in answer.content.decode()
