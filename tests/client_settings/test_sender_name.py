"""Each client's sender name: what {sender_name} becomes in its texts, the business name until one is set. The
agency sets it in the wizard's profile step; owners and the agency change it on the settings page."""

import pytest
from django.utils.timezone import now
from django_tenants.utils import schema_context

from accounts.models import Client, ClientMembership, Onboarding
from agency import onboarding as wizard
from messaging.models import OutboundSend, Template
from messaging.services import placeholder_context, send_deliver, textback_schedule
from tests.client_settings.test_settings_page import valid_post
from tests.webhooks import sid

pytestmark = pytest.mark.django_db

SIGNED = "Hi {caller_name}, sorry we missed you! – {sender_name}"


def sender_name(client) -> str:
    return Client.objects.get(pk=client.pk).sender_name


def test_it_is_the_business_name_until_one_is_set(personas):
    assert placeholder_context(client=personas.acme, caller_name="Maria")["sender_name"] == "Acme Plumbing"
    personas.acme.sender_name = "Mike at Acme"
    assert placeholder_context(client=personas.acme, caller_name="Maria")["sender_name"] == "Mike at Acme"


def test_a_text_back_is_signed_with_it(personas, twilio):
    Client.objects.filter(pk=personas.acme.pk).update(
        sender_name="Mike at Acme", business_hours={}, closures=[]
    )
    client = Client.objects.get(pk=personas.acme.pk)
    with schema_context(client.schema_name):
        Template.objects.filter(kind="after_hours").update(body=SIGNED)
        send = textback_schedule(client=client, call_sid=sid("CA"), caller="+13125550123", missed_at=now())
    assert send_deliver(send_id=send.pk) == "sent"
    [text] = twilio.messages
    assert text["body"].startswith("Hi there, sorry we missed you! – Mike at Acme")
    assert OutboundSend.objects.get(pk=send.pk).state == "sent"


@pytest.mark.parametrize("who", ["alice", "nina", "nate"])
def test_owners_and_the_agency_set_it_on_the_settings_page(web, personas, who):
    browser = web("acme.localhost", getattr(personas, who))
    assert browser.post("/settings/", valid_post(sender_name=" Mike at Acme ")).status_code == 302
    assert sender_name(personas.acme) == "Mike at Acme"
    body = {f"{kind}-body": SIGNED for kind in ("business_hours", "after_hours", "returning_caller")}
    preview = browser.post("/settings/", valid_post(sender_name="x" * 61, **body))
    assert preview.status_code == 400 and "at most 60 characters" in preview.content.decode()
    assert sender_name(personas.acme) == "Mike at Acme"


def test_staff_read_only_staff_and_other_agencies_cannot_set_it(web, personas):
    readonly = personas.charlie
    ClientMembership.objects.create(user=readonly, client=personas.acme, role=ClientMembership.Role.READONLY)
    for user in (personas.bob, readonly):
        assert (
            web("acme.localhost", user).post("/settings/", valid_post(sender_name="Bob")).status_code == 403
        )
    away = web("acme.localhost", personas.sara).post("/settings/", valid_post(sender_name="Sara"))
    assert away.status_code == 302 and away["Location"].startswith("/accounts/login/")
    assert sender_name(personas.acme) == ""


def test_the_wizard_profile_step_sets_it(web, personas, monkeypatch):
    monkeypatch.setattr(wizard, "onboarding_enqueue", lambda *, onboarding: None)
    browser = web("localhost", personas.nate)
    profile = {
        "name": "Harbor Heating",
        "industry": "hvac",
        "timezone": "America/Chicago",
        "average_job_value": "420",
        "sender_name": "Hank at Harbor",
    }
    assert browser.post("/agency/northwind/onboarding/new/", profile).status_code == 302
    onboarding = Onboarding.objects.get(client__slug="harbor-heating")
    assert onboarding.client.sender_name == "Hank at Harbor"
    page = browser.get(f"/agency/onboarding/{onboarding.pk}/profile/").content.decode()
    assert 'value="Hank at Harbor"' in page
    saved = browser.post(f"/agency/onboarding/{onboarding.pk}/profile/", {**profile, "sender_name": ""})
    assert saved.status_code == 302
    assert Client.objects.get(pk=onboarding.client_id).sender_name == ""
    stranger = web("localhost", personas.sara).post(f"/agency/onboarding/{onboarding.pk}/profile/", profile)
    assert stranger.status_code == 404
    assert Client.objects.get(pk=onboarding.client_id).sender_name == ""
