"""Numbers belong to an agency. The attacker is an agency that wants another agency's number (one its client
just gave up, so its callers still call it) or one of the platform's own numbers, and points it at a client of
its own through the onboarding wizard (adopt or buy) or the API: the callers, their replies and their opt-outs
would be its. A number an agency gives up stays with it, and so do the opt-outs of the callers who texted it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from accounts.models import Client, Onboarding
from agency import onboarding as wizard
from agency.services import client_offboard
from api.services import apikey_create
from crm.models import Contact
from messaging.models import OutboundSend
from messaging.services import send_deliver
from telephony.models import NumberHolder
from tests.api.conftest import Api
from tests.webhooks import call_params, post_signed, sms_params

pytestmark = pytest.mark.django_db

ACME_NUMBER = "+13125550100"  # northwind's, used by acme until it is offboarded
PLATFORM_NUMBER = "+13125550999"
CALLER = "+13125550177"


@pytest.fixture
def at_number_step(web, personas, monkeypatch):
    """start(agency_slug, user) → an onboarding at the number step (its schema provisioned in-process)."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda callback, using=None, robust=False: callback())
    monkeypatch.setattr(
        wizard,
        "onboarding_enqueue",
        lambda *, onboarding: wizard.onboarding_provision(onboarding_id=onboarding.pk),
    )

    def start(agency_slug: str, user, name: str = "Grab Plumbing"):
        browser = web("localhost", user)
        browser.post(
            f"/agency/{agency_slug}/onboarding/new/",
            {"name": name, "industry": "plumbing", "timezone": "America/Chicago", "average_job_value": "200"},
        )
        onboarding = Onboarding.objects.get(client__name=name)
        browser.post(f"/agency/onboarding/{onboarding.pk}/hours/", {"hours": "mon-fri 08:00-17:00"})
        return browser, onboarding

    return start


def _offboard_acme(personas):
    client_offboard(client=personas.acme, actor=personas.nina, confirmation="acme")


def _adopt(browser, onboarding, number):
    return browser.post(
        f"/agency/onboarding/{onboarding.pk}/number/",
        {"phone_number": number, "call_mode": "carrier", "messaging_registration": "not_needed"},
    )


def _buy(browser, onboarding, number):
    return browser.post(
        f"/agency/onboarding/{onboarding.pk}/number/",
        {"buy_number": number, "call_mode": "carrier", "messaging_registration": "pending"},
    )


def _number_operations(twilio) -> list[str]:
    return [
        r["operation"]
        for r in twilio.requests
        if "IncomingPhoneNumber" in r["operation"] and r["operation"] != "ListIncomingPhoneNumber"
    ]


def test_another_agency_cannot_adopt_a_number_its_owner_gave_up(personas, twilio, at_number_step):
    twilio.add_incoming_number(ACME_NUMBER, voice_url="http://localhost:8000/hooks/twilio/voice/incoming/")
    _offboard_acme(personas)
    browser, onboarding = at_number_step("southpeak", personas.sara)

    response = _adopt(browser, onboarding, ACME_NUMBER)
    assert response.status_code == 400
    assert "That number belongs to another agency." in response.content.decode()
    assert Client.objects.get(pk=onboarding.client_id).phone_number is None
    assert _number_operations(twilio) == []  # never re-pointed at Twilio
    assert NumberHolder.objects.get(phone_number=ACME_NUMBER).agency == personas.northwind


def test_no_agency_can_adopt_or_buy_the_platforms_own_numbers(personas, twilio, at_number_step):
    NumberHolder.objects.create(phone_number=PLATFORM_NUMBER, agency=None)
    twilio.add_incoming_number(PLATFORM_NUMBER, voice_url="https://platform.example/voice")
    browser, onboarding = at_number_step("northwind", personas.nina)
    for attempt in (_adopt, _buy):
        response = attempt(browser, onboarding, PLATFORM_NUMBER)
        assert response.status_code == 400
        assert "the platform&#x27;s own" in response.content.decode()
    assert Client.objects.get(pk=onboarding.client_id).phone_number is None
    assert _number_operations(twilio) == []
    assert twilio.incoming_number(PLATFORM_NUMBER)["voice_url"] == "https://platform.example/voice"


def test_another_agency_cannot_take_the_number_through_the_api(personas):
    _offboard_acme(personas)
    _, raw = apikey_create(name="sync", scope="write", created_by=personas.sara, agency=personas.southpeak)
    response = Api("localhost", raw).post(
        "/api/v1/clients/",
        {
            "slug": "grab",
            "name": "Grab",
            "timezone": "America/Chicago",
            "phone_number": ACME_NUMBER,
            "call_mode": "carrier",
        },
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["phone_number"] == ["That number belongs to another agency."]
    assert not Client.objects.filter(slug="grab").exists()


def test_a_number_given_to_the_agencys_next_client_brings_its_opt_outs(web, personas, twilio, at_number_step):
    platform = web("localhost")
    stop = sms_params(personas.acme, CALLER, "STOP")
    assert post_signed(platform, "/hooks/twilio/sms/incoming/", stop).status_code == 200
    twilio.add_incoming_number(ACME_NUMBER, voice_url="http://localhost:8000/hooks/twilio/voice/incoming/")
    _offboard_acme(personas)

    browser, onboarding = at_number_step("northwind", personas.nina, name="Next Plumbing")
    assert _adopt(browser, onboarding, ACME_NUMBER).status_code == 302
    client = Client.objects.get(pk=onboarding.client_id)
    Client.objects.filter(pk=client.pk).update(went_live_at=datetime(2025, 1, 1, tzinfo=ZoneInfo("UTC")))
    with schema_context(client.schema_name):
        assert not Contact.objects.filter(phone_number=CALLER).exists()  # a new business, no callers yet

    params = call_params(client, CALLER)
    with time_machine.travel(datetime(2025, 6, 11, 10, 0, tzinfo=ZoneInfo("America/Chicago")), tick=False):
        post_signed(platform, "/hooks/twilio/voice/incoming/", params)
        post_signed(
            platform,
            "/hooks/twilio/voice/dial-complete/",
            {**params, "CallStatus": "in-progress", "DialCallStatus": "no-answer"},
        )
        send = OutboundSend.objects.get(client=client, key=f"call:{params['CallSid']}")
        assert send_deliver(send_id=send.pk) == "skipped: opted_out"
    assert twilio.messages_to(CALLER) == []
