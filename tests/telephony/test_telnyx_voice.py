"""Telnyx voice through TeXML (WIP, issue 22): the same views and missed-call rules as Twilio's, behind Telnyx's
Ed25519 signature, with every callback URL on Telnyx's door."""

import time
from urllib.parse import urlencode

import pytest
from django_tenants.utils import schema_context

from accounts.models import Agency
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
