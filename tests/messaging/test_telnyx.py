"""Telnyx's provider (texts, line types, outbound calls) and its webhook signature, against a fake Telnyx at HTTP.
The app choosing it per agency is tested in test_carriers.py and tests/telephony/test_telnyx_*.py."""

import json
import time

import pytest

from messaging.providers import ProviderError
from messaging.telnyx import TelnyxProvider, TelnyxSettings, landline, opted_out, signature_valid, unreachable
from tests.telnyx_fake import FakeTelnyx

CALLER = "+13125550123"
ACME = "+13125550100"
HOOK = "http://localhost:8000/hooks/telnyx/sms/"


@pytest.fixture(scope="module")
def _server():
    with FakeTelnyx() as fake:
        yield fake


@pytest.fixture
def telnyx(_server):
    _server.reset()
    return _server


@pytest.fixture
def provider(telnyx):
    return TelnyxProvider(
        TelnyxSettings(
            api_key=telnyx.api_key, base_url=telnyx.base_url, timeout=2.0, texml_app_id=telnyx.texml_app_id
        )
    )


def send(provider, key="send-1", to=CALLER):
    return provider.send(
        from_number=ACME, to_number=to, body="Sorry we missed you", status_callback=HOOK, key=key
    )


def test_a_text_is_sent_with_the_key_and_the_status_webhook(provider, telnyx):
    sent = send(provider)
    [message] = telnyx.messages
    assert (sent.sid, sent.status, sent.segments) == (message["id"], "queued", 1)
    assert (message["from"]["phone_number"], message["to"][0]["phone_number"]) == (ACME, CALLER)
    assert message["webhook_url"] == HOOK
    [request] = telnyx.requests
    assert request["headers"]["idempotency-key"] == "send-1"
    assert json.loads(request["body"])["text"] == "Sorry we missed you"


def test_a_text_without_a_status_webhook_sends_none(provider, telnyx):
    """A text to staff has no delivery report of ours: Telnyx is sent no webhook_url (an empty one is not a URL),
    so it reports to the messaging profile's webhook."""
    provider.send(from_number=ACME, to_number=CALLER, body="Alert", status_callback="", key="staff-1")
    [request] = telnyx.requests
    assert "webhook_url" not in json.loads(request["body"])


def test_a_call_asks_our_url_and_reports_to_our_status_webhook(provider, telnyx):
    connect = "http://localhost:8000/hooks/telnyx/voice/callback/connect/?c=acme&cb=1"
    status = "http://localhost:8000/hooks/telnyx/voice/callback/status/?c=acme&cb=1"
    sid = provider.call(from_number=ACME, to_number=CALLER, url=connect, status_callback=status)
    [call] = telnyx.calls
    assert sid == call["call_sid"]
    assert call["params"] == {
        "From": ACME,
        "To": CALLER,
        "Url": connect,
        "Method": "POST",
        "StatusCallback": status,
        "StatusCallbackMethod": "POST",
    }
    assert telnyx.requests[-1]["path"] == f"/v2/texml/calls/{telnyx.texml_app_id}"


def test_a_call_with_texml_runs_it_when_answered(provider, telnyx):
    provider.call(from_number=ACME, to_number=CALLER, twiml="<Response><Say>Urgent</Say></Response>")
    [call] = telnyx.calls
    assert call["params"] == {"From": ACME, "To": CALLER, "Texml": "<Response><Say>Urgent</Say></Response>"}


@pytest.mark.parametrize(("status", "permanent"), [(503, False), (422, True)])
def test_a_refused_call_rang_nobody(provider, telnyx, status, permanent):
    telnyx.fail_next(status, 10015)
    with pytest.raises(ProviderError) as refused:
        provider.call(from_number=ACME, to_number=CALLER, twiml="<Response/>")
    assert (refused.value.permanent, refused.value.ambiguous) == (permanent, False)
    assert telnyx.calls == []


def test_a_lost_answer_is_resolved_by_sending_again_with_the_same_key(provider, telnyx):
    telnyx.drop_next()
    with pytest.raises(ProviderError) as lost:
        send(provider)
    assert lost.value.ambiguous and not lost.value.permanent
    again = send(provider)
    assert len(telnyx.messages) == 1 and again.sid == telnyx.messages[0]["id"]


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [(500, 10007, False), (503, 10007, False), (429, 10011, False), (400, 40006, False), (401, 10009, True)],
)
def test_failures_are_transient_or_permanent(provider, telnyx, status, code, permanent):
    telnyx.fail_next(status, code)
    with pytest.raises(ProviderError) as failed:
        send(provider)
    assert (failed.value.status, failed.value.code, failed.value.permanent) == (status, code, permanent)
    assert not failed.value.ambiguous
    assert telnyx.messages == []


def test_a_recipient_who_texted_stop_is_an_opt_out_and_never_retried(provider, telnyx):
    telnyx.reject(CALLER, 40300)
    with pytest.raises(ProviderError) as refused:
        send(provider)
    assert refused.value.permanent and opted_out(refused.value.code)
    assert not landline(refused.value.code)


def test_a_landline_is_unreachable(provider, telnyx):
    telnyx.reject(CALLER, 40001)
    with pytest.raises(ProviderError) as refused:
        send(provider)
    assert refused.value.permanent and landline(refused.value.code) and unreachable(refused.value.code)


def test_a_refused_connection_sent_nothing(telnyx):
    closed = TelnyxProvider(TelnyxSettings(api_key="k", base_url="http://127.0.0.1:9", timeout=1.0))
    with pytest.raises(ProviderError) as failed:
        send(closed)
    assert not failed.value.ambiguous and not failed.value.permanent


@pytest.mark.parametrize(
    ("kind", "ours"), [("mobile", "mobile"), ("fixed line", "landline"), ("voip", "voip")]
)
def test_the_line_type_is_looked_up(provider, telnyx, kind, ours):
    telnyx.line_types[CALLER] = kind
    assert provider.line_type(CALLER) == ours
    assert telnyx.lookups == [CALLER]


# --- Webhook signatures ------------------------------------------------------------------------------------


def _check(fake, body, headers, **kwargs):
    return signature_valid(
        public_key=kwargs.pop("public_key", fake.public_key),
        signature=headers.get("telnyx-signature-ed25519", ""),
        timestamp=headers.get("telnyx-timestamp", ""),
        body=body,
        **kwargs,
    )


def test_a_signed_webhook_is_valid(telnyx):
    body = b'{"data":{"event_type":"message.received"}}'
    assert _check(telnyx, body, telnyx.sign(body))


def test_a_changed_body_a_missing_header_or_another_key_is_refused(telnyx):
    body = b'{"data":{"event_type":"message.received"}}'
    headers = telnyx.sign(body)
    assert not _check(telnyx, body.replace(b"received", b"finalized"), headers)
    assert not _check(telnyx, body, {"telnyx-timestamp": headers["telnyx-timestamp"]})
    assert not _check(telnyx, body, {**headers, "telnyx-signature-ed25519": "not base64!"})
    with FakeTelnyx() as other:
        assert not _check(telnyx, body, headers, public_key=other.public_key)


def test_a_timestamp_older_than_five_minutes_is_refused(telnyx):
    body = b"{}"
    old = int(time.time()) - 301
    assert not _check(telnyx, body, telnyx.sign(body, timestamp=old))
    assert _check(telnyx, body, telnyx.sign(body, timestamp=old + 2))
    # The signature covers the timestamp: a fresh timestamp on an old signature does not pass.
    stale = telnyx.sign(body, timestamp=old)
    assert not _check(telnyx, body, {**stale, "telnyx-timestamp": str(int(time.time()))})
