"""Registration statuses by Twilio's Event Streams: the account a registration is made in gets a webhook sink
pointed at us and a subscription to the A2P brand, campaign and toll-free verification events (once per account);
a delivery signed as Twilio signs JSON bodies (bodySHA256 in the URL) makes us check the named registration with
Twilio at once; a forged, foreign or unknown one is 403 and changes nothing; a repeat changes nothing more. Against
the fake Twilio (Event Streams checked against Twilio's OpenAPI). Personas: Northwind (nina) serves acme;
Southpeak (sara) serves cedar."""

import json

import pytest

from accounts.models import Client
from deliverability.models import A2PRegistration, EventSink
from deliverability.streams import EVENT_TYPES
from messaging import twilio_accounts
from tests.deliverability.registration_data import DETAILS

pytestmark = pytest.mark.django_db

BRAND_REGISTERED = "com.twilio.messaging.compliance.brand-registration.brand-registered"
CAMPAIGN_APPROVED = "com.twilio.messaging.compliance.campaign-registration.campaign-approved"


@pytest.fixture(autouse=True)
def _forget(twilio_accounts_forgotten):
    """Each test starts with no agency's Twilio account cached (tests/conftest.py)."""


@pytest.fixture
def acme_number(twilio, personas):
    held = twilio.add_incoming_number(str(personas.acme.phone_number))
    Client.objects.filter(pk=personas.acme.pk).update(number_sid=held["sid"])
    return held


def url(personas) -> str:
    return f"/deliverability/northwind/clients/{personas.acme.pk}/registration/"


def deliver(web, delivery: tuple[str, str, str], *, signature: str | None = None):
    full, body, signed = delivery
    path = "/" + full.split("://", 1)[1].split("/", 1)[1]
    return web("localhost").post(
        path, body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature or signed
    )


def test_the_first_registration_subscribes_its_account_to_registration_events_once(
    twilio, web, personas, acme_number
):
    nina = web("localhost", personas.nina)
    assert nina.post(url(personas), DETAILS).status_code == 302
    sink = EventSink.objects.get(account_sid=twilio.account_sid)
    assert sink.agency_id is None  # Northwind shares the platform's account here
    [made] = twilio.sinks
    assert made["sink_type"] == "webhook" and made["sink_configuration"]["method"] == "POST"
    assert made["sink_configuration"]["destination"].endswith(f"/hooks/twilio/events/?a={twilio.account_sid}")
    subscription = next(r for r in twilio.requests if r["operation"] == "CreateSubscription")
    assert sorted(json.loads(t)["type"] for t in subscription["form"]["Types"]) == sorted(EVENT_TYPES)
    # Another registration in the same account makes no second sink.
    A2PRegistration.objects.filter(client=personas.acme).update(status="failed", failed_step="brand")
    nina.post(url(personas), DETAILS)
    assert [r["operation"] for r in twilio.requests].count("CreateSink") == 1


def test_brand_and_campaign_events_move_the_registration_without_waiting_for_beat(
    twilio, web, personas, acme_number
):
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    [delivery] = twilio.stream_event(
        twilio.account_sid, BRAND_REGISTERED, {"brandsid": registration.brand_sid}
    )
    assert deliver(web, delivery).status_code == 204
    registration.refresh_from_db()
    assert registration.status == "campaign_review"
    assert (
        deliver(web, delivery).status_code == 204
    )  # Twilio's at-least-once: the repeat changes nothing more
    assert [r["operation"] for r in twilio.requests].count("CreateUsAppToPerson") == 1
    twilio.set_campaign_status(registration.campaign_sid, "VERIFIED")
    [delivery] = twilio.stream_event(
        twilio.account_sid, CAMPAIGN_APPROVED, {"campaignsid": registration.campaign_sid}
    )
    assert deliver(web, delivery).status_code == 204
    assert A2PRegistration.objects.get(pk=registration.pk).status == "approved"
    assert Client.objects.get(pk=personas.acme.pk).messaging_registration == "approved"


def test_a_forged_or_unknown_delivery_is_403_and_changes_nothing(twilio, web, personas, acme_number):
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    [delivery] = twilio.stream_event(
        twilio.account_sid, BRAND_REGISTERED, {"brandsid": registration.brand_sid}
    )
    assert deliver(web, delivery, signature="forged").status_code == 403
    full, body, signed = delivery
    tampered = body.replace(registration.brand_sid, "BN" + "0" * 32)
    assert deliver(web, (full, tampered, signed)).status_code == 403  # the body no longer matches its hash
    unhashed = full.split("&bodySHA256=")[0]
    assert deliver(web, (unhashed, body, signed)).status_code == 403
    unknown = full.replace(f"a={twilio.account_sid}", "a=AC" + "1" * 32)
    assert deliver(web, (unknown, body, signed)).status_code == 403
    assert A2PRegistration.objects.get(pk=registration.pk).status == "brand_review"


def test_an_agencys_own_account_speaks_only_for_its_own_registrations(twilio, web, personas, acme_number):
    """Southpeak's subaccount delivers an event naming Northwind's brand: it is signed, but not Southpeak's to
    tell, so nothing is checked."""
    web("localhost", personas.nina).post(url(personas), DETAILS)
    registration = A2PRegistration.objects.get(client=personas.acme)
    twilio.set_brand_status(registration.brand_sid, "APPROVED")
    southpeak = twilio_accounts.subaccount_create(agency=personas.southpeak)
    from deliverability.streams import events_ensure

    events_ensure(agency=personas.southpeak, api=twilio_accounts.client_for(personas.southpeak))
    [delivery] = twilio.stream_event(
        southpeak.account_sid, BRAND_REGISTERED, {"brandsid": registration.brand_sid}
    )
    before = len(twilio.requests)
    assert deliver(web, delivery).status_code == 204
    assert A2PRegistration.objects.get(pk=registration.pk).status == "brand_review"
    assert len(twilio.requests) == before


def test_twilio_refusing_the_sink_does_not_stop_the_registration(twilio, web, personas, acme_number):
    twilio.fail_next(400, code=20001, message="Sinks are not enabled", operation="sink")
    assert web("localhost", personas.nina).post(url(personas), DETAILS).status_code == 302
    assert A2PRegistration.objects.get(client=personas.acme).status == "brand_review"
    assert not EventSink.objects.exists()


TOLL_FREE = "+18885550100"


def test_a_toll_free_verification_approved_by_event_is_approved_at_once(twilio, web, personas):
    held = twilio.add_incoming_number(TOLL_FREE, type="tollfree")
    Client.objects.filter(pk=personas.acme.pk).update(phone_number=TOLL_FREE, number_sid=held["sid"])
    nina = web("localhost", personas.nina)
    proof = {**DETAILS, "opt_in_proof_url": "https://acme-plumbing.example/contact"}
    assert nina.post(url(personas), proof).status_code == 302
    registration = A2PRegistration.objects.get(client=personas.acme)
    assert registration.status == "verification_review"
    twilio.set_verification_status(registration.verification_sid, "TWILIO_APPROVED")
    [delivery] = twilio.stream_event(
        twilio.account_sid,
        "com.twilio.messaging.compliance.toll-free-verification.request-approved",
        {"tollfreeverificationsid": registration.verification_sid, "phonenumber": TOLL_FREE},
    )
    assert deliver(web, delivery).status_code == 204
    assert A2PRegistration.objects.get(pk=registration.pk).status == "approved"
